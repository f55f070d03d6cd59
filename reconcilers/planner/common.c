/*
 * common: lookups over the observed world and small helpers shared by
 * the planner's parts (see planner_internal.h).
 *
 * The world's object lists are small (a cluster's own pods, PVCs, services,
 * configmaps), so lookups are linear scans by name: simple and obviously
 * right, and a plan touches each name a handful of times.
 */
#include "reconcilers/planner/planner_internal.h"

#include "reactor/clock.h"

#include "reconcilers/build/build.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void planner_format(char *out, size_t size, const char *format, ...)
{
    if (!out || size == 0)
        return;
    va_list args;
    va_start(args, format);
    int n = vsnprintf(out, size, format, args);
    va_end(args);
    if (n < 0)
        out[0] = '\0';
}

static bool named(const struct object_meta *meta, const char *name)
{
    return meta && meta->name && name && strcmp(meta->name, name) == 0;
}

const struct kube_pod *planner_find_pod(const struct observed_cluster *world, const char *name)
{
    for (size_t i = 0; i < world->pod_count; i++)
        if (world->pods[i] && named(&world->pods[i]->meta, name))
            return world->pods[i];
    return NULL;
}

const struct kube_pvc *planner_find_pvc(const struct observed_cluster *world, const char *name)
{
    for (size_t i = 0; i < world->pvc_count; i++)
        if (world->pvcs[i] && named(&world->pvcs[i]->meta, name))
            return world->pvcs[i];
    return NULL;
}

const struct kube_service *planner_find_service(const struct observed_cluster *world, const char *name)
{
    for (size_t i = 0; i < world->service_count; i++)
        if (world->services[i] && named(&world->services[i]->meta, name))
            return world->services[i];
    return NULL;
}

const struct kube_configmap *planner_find_configmap(const struct observed_cluster *world, const char *name)
{
    for (size_t i = 0; i < world->configmap_count; i++)
        if (world->configmaps[i] && named(&world->configmaps[i]->meta, name))
            return world->configmaps[i];
    return NULL;
}

const struct kube_storage_class *planner_find_storage_class(const struct observed_cluster *world,
                                                            const char *name)
{
    for (size_t i = 0; i < world->storage_class_count; i++)
        if (world->storage_classes[i] && named(&world->storage_classes[i]->meta, name))
            return world->storage_classes[i];
    return NULL;
}

int planner_member_ordinal(const struct tidbcluster *cluster, enum tc_component component, const char *name)
{
    if (!cluster->name || !name)
        return -1;
    size_t cluster_length = strlen(cluster->name);
    const char *kind = tidbcluster_component_name(component);
    size_t kind_length = strlen(kind);
    if (strncmp(name, cluster->name, cluster_length) != 0 || name[cluster_length] != '-' ||
        strncmp(name + cluster_length + 1, kind, kind_length) != 0 || name[cluster_length + 1 + kind_length] != '-')
        return -1;
    const char *digits = name + cluster_length + kind_length + 2;
    if (!*digits || (digits[0] == '0' && digits[1]))
        return -1; /* "basic-pd-" or "basic-pd-01": not a name we give */
    long ordinal = 0;
    for (const char *c = digits; *c; c++) {
        if (*c < '0' || *c > '9' || ordinal > 100000)
            return -1;
        ordinal = ordinal * 10 + (*c - '0');
    }
    return (int)ordinal;
}

void planner_format_time(int64_t ms, char out[32])
{
    if (!clock_format_rfc3339(ms, CLOCK_RFC3339_SECONDS, out, 32))
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int64_t planner_parse_time(const char *text)
{
    int64_t ms = 0;
    return clock_parse_rfc3339(text, &ms) ? ms : 0;
}

void planner_describe_pd_error(enum pd_snapshot_part part, const struct pd_error *error, char *out, size_t size)
{
    const char *what = pd_snapshot_part_name(part);
    switch (error->kind) {
    case PD_ERROR_TRANSPORT:
        /* The transport's own text carries timings ("after 5001 ms"):
         * the kind alone keeps the status message stable between polls. */
        planner_format(out, size, "%s: %s", what, http_client_error_name(error->transport));
        break;
    case PD_ERROR_HTTP:
        /* pd_error messages of HTTP errors already start with "HTTP <status>". */
        if (error->message[0])
            planner_format(out, size, "%s: %s", what, error->message);
        else
            planner_format(out, size, "%s: HTTP %ld", what, error->status);
        break;
    case PD_ERROR_DECODE:
        planner_format(out, size, "%s: unexpected answer: %s", what, error->message);
        break;
    default:
        planner_format(out, size, "%s: no answer yet", what);
        break;
    }
}

const char *planner_component_image(const struct tidbcluster *cluster, enum tc_component component)
{
    static const char *const base[] = { "pingcap/pd", "pingcap/tikv", "pingcap/tidb" };
    const char *resolved = cluster->spec.component[component].image_resolved;
    /* Without a version the builder runs PingCAP's base image (its latest). */
    return resolved && *resolved ? resolved : base[component];
}

int planner_pd_member_ordinal(const struct tidbcluster *cluster, const char *name)
{
    if (!name)
        return -1;
    char pod[PLANNER_NAME_MAX];
    size_t length = strcspn(name, ".");
    if (length >= sizeof pod)
        return -1;
    memcpy(pod, name, length);
    pod[length] = '\0';
    int ordinal = planner_member_ordinal(cluster, TC_PD, pod);
    if (ordinal < 0 || !name[length])
        return ordinal;
    /* An FQDN name must be exactly our member's host. */
    char host[PLANNER_NAME_MAX];
    if (!build_member_host(cluster, TC_PD, ordinal, host, sizeof host) || strcmp(host, name) != 0)
        return -1;
    return ordinal;
}

int planner_store_ordinal(const struct tidbcluster *cluster, const char *address, char *pod, size_t size)
{
    if (!address)
        return -1;
    const char *colon = strrchr(address, ':');
    size_t host_length = colon ? (size_t)(colon - address) : strlen(address);
    size_t pod_length = strcspn(address, ".:");
    char name[PLANNER_NAME_MAX], host[PLANNER_NAME_MAX];
    if (pod_length >= sizeof name || host_length >= sizeof host)
        return -1;
    memcpy(name, address, pod_length);
    name[pod_length] = '\0';
    int ordinal = planner_member_ordinal(cluster, TC_TIKV, name);
    if (ordinal < 0 || !build_member_host(cluster, TC_TIKV, ordinal, host, sizeof host) ||
        strlen(host) != host_length || strncmp(host, address, host_length) != 0)
        return -1;
    if (pod && size)
        planner_format(pod, size, "%s", name);
    return ordinal;
}

bool planner_member_healthy(const struct member_row *row)
{
    if (!row->pod || !row->ready)
        return false;
    if (row->component == TC_PD)
        return row->pd_member && row->pd_health == MEMBER_HEALTH_GOOD;
    if (row->component == TC_TIKV)
        return row->store_up;
    return true;
}

void planner_note_progress(struct planning *p, enum concern concern, const char *text)
{
    if (concern < CONCERN_COUNT && !p->progress[concern][0])
        planner_format(p->progress[concern], sizeof p->progress[concern], "%s", text);
}

bool planner_out_of_memory(struct planning *p)
{
    p->plan->incomplete = true;
    return false;
}

static bool planner_vtell(struct planning *p, enum concern concern, struct plan *into, bool warning,
                          const char *reason, const char *format, va_list args)
{
    char text[PLANNER_MESSAGE_MAX];
    vsnprintf(text, sizeof text, format, args);
    if (!into)
        return planner_out_of_memory(p);
    planner_note_progress(p, concern, text);
    return plan_event(into, warning, reason, "%s", text);
}

bool planner_tell(struct planning *p, enum concern concern, struct plan *into, bool warning, const char *reason,
                  const char *format, ...)
{
    va_list args;
    va_start(args, format);
    bool ok = planner_vtell(p, concern, into, warning, reason, format, args);
    va_end(args);
    return ok;
}

bool planner_wait(struct planning *p, enum concern concern, enum tc_component component, bool warning,
                  const char *reason, const char *format, ...)
{
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    struct plan *into = proposals_open(&p->proposals, concern, EFFECT_NOTE, DISRUPTION_NONE, component, -1, reason);
    va_list args;
    va_start(args, format);
    bool ok = planner_vtell(p, concern, into, warning, reason, format, args);
    va_end(args);
    return ok;
}
