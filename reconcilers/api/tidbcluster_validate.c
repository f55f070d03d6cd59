#include "reconcilers/api/tidbcluster_validate.h"

#include "reactor/buffer.h"
#include "reconcilers/api/toml_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct tc_problems *problems, enum tc_severity severity, const char *field, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void add(struct tc_problems *problems, enum tc_severity severity, const char *field, const char *format, ...)
{
    if (problems->out_of_memory)
        return;
    struct buffer message = { 0 };
    va_list args;
    va_start(args, format);
    bool ok = buffer_append_vformat(&message, format, args);
    va_end(args);
    char *field_copy = strdup(field);
    struct tc_problem *grown = realloc(problems->items, (problems->count + 1) * sizeof *grown);
    if (!ok || !field_copy || !grown) {
        buffer_free(&message);
        free(field_copy);
        if (grown)
            problems->items = grown;
        problems->out_of_memory = true;
        return;
    }
    problems->items = grown;
    problems->items[problems->count++] = (struct tc_problem){ severity, field_copy, buffer_take(&message) };
    if (!problems->items[problems->count - 1].message) {
        problems->out_of_memory = true;
        free(field_copy);
        problems->count--;
        return;
    }
    if (severity == TC_PROBLEM_ERROR)
        problems->errors++;
    else
        problems->warnings++;
}

#define ERROR(problems, field, ...) add((problems), TC_PROBLEM_ERROR, (field), __VA_ARGS__)
#define WARN(problems, field, ...) add((problems), TC_PROBLEM_WARNING, (field), __VA_ARGS__)

/* A field path under a component: "spec.tikv.<rest>". */
static const char *at(char *out, size_t size, enum tc_component component, const char *rest)
{
    snprintf(out, size, "spec.%s.%s", tidbcluster_component_name(component), rest);
    return out;
}

static bool one_of(const char *value, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* An image tag as registries accept it. */
static bool valid_tag(const char *tag)
{
    size_t length = strlen(tag);
    if (length == 0 || length > 128 || tag[0] == '.' || tag[0] == '-')
        return false;
    for (const char *p = tag; *p; p++)
        if (!is_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return true;
}

/* The shape of an IANA zone name ("UTC", "Asia/Shanghai", "Etc/GMT+8");
 * whether the zone exists is up to the image's tzdata. */
static bool valid_timezone(const char *zone)
{
    size_t length = strlen(zone);
    if (length == 0 || length > 64 || zone[0] == '/' || zone[length - 1] == '/' || strstr(zone, "..") ||
        strstr(zone, "//"))
        return false;
    for (const char *p = zone; *p; p++)
        if (!is_alnum(*p) && *p != '_' && *p != '+' && *p != '-' && *p != '/' && *p != '.')
            return false;
    return true;
}

static bool valid_dns_subdomain(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > 253)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.')
            return false;
        if ((i == 0 || i == length - 1) && !alnum)
            return false;
        if (c == '.' && (name[i + 1] == '.' || name[i + 1] == '-' || name[i - 1] == '-'))
            return false;
    }
    return true;
}

/* http(s)://host:port with a numeric port. */
static bool valid_pd_address(const char *address)
{
    const char *rest = strncmp(address, "http://", 7) == 0    ? address + 7
                       : strncmp(address, "https://", 8) == 0 ? address + 8
                                                              : NULL;
    if (!rest)
        return false;
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest)
        return false;
    for (const char *p = rest; p < colon; p++)
        if (*p == '/' || *p == ' ' || *p == '@')
            return false;
    const char *port = colon + 1;
    if (!*port || strlen(port) > 5)
        return false;
    long value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        value = value * 10 + (*p - '0');
    }
    return value >= 1 && value <= 65535;
}

static const char *const pull_policies[] = { "Always", "IfNotPresent", "Never", NULL };
static const char *const update_strategies[] = { "InPlace", "RollingUpdate", NULL };
static const char *const service_types[] = { "ClusterIP", "NodePort", "LoadBalancer", NULL };
static const char *const traffic_policies[] = { "Cluster", "Local", NULL };

static void check_version(struct tc_problems *problems, const char *field, const char *version)
{
    if (version && *version && !valid_tag(version))
        ERROR(problems, field,
              "invalid version \"%s\": must be an image tag (letters, digits, '_', '.', '-'; at most 128 "
              "characters; not starting with '.' or '-')",
              version);
}

static void check_quantity(struct tc_problems *problems, const char *field, const struct tc_quantity *quantity)
{
    if (!quantity->text)
        return;
    if (!quantity->valid)
        ERROR(problems, field, "invalid quantity \"%s\": %s", quantity->text, quantity->error);
    else if (quantity->value.milli < 0)
        ERROR(problems, field, "must not be negative, got \"%s\"", quantity->text);
}

static void check_resources(struct tc_problems *problems, enum tc_component component, const struct component_spec *spec)
{
    char field[160];
    static const char *names[] = { "cpu", "memory", "storage" };
    const struct tc_quantity *requests[] = { &spec->requests.cpu, &spec->requests.memory, &spec->requests.storage };
    const struct tc_quantity *limits[] = { &spec->limits.cpu, &spec->limits.memory, &spec->limits.storage };
    for (int i = 0; i < 3; i++) {
        char rest[64];
        snprintf(rest, sizeof rest, "requests.%s", names[i]);
        check_quantity(problems, at(field, sizeof field, component, rest), requests[i]);
        snprintf(rest, sizeof rest, "limits.%s", names[i]);
        check_quantity(problems, at(field, sizeof field, component, rest), limits[i]);
    }
    /* Storage limits are TiKV's --capacity, not a bound on the claim: only
     * cpu and memory are compared, as Kubernetes compares them. */
    for (int i = 0; i < 2; i++) {
        const struct tc_quantity *request = requests[i], *limit = limits[i];
        if (request->valid && limit->valid && request->value.milli >= 0 && limit->value.milli >= 0 &&
            quantity_compare(&limit->value, &request->value) < 0) {
            char rest[64];
            snprintf(rest, sizeof rest, "limits.%s", names[i]);
            ERROR(problems, at(field, sizeof field, component, rest),
                  "must be greater than or equal to requests.%s (\"%s\" < \"%s\")", names[i], limit->text,
                  request->text);
        }
    }
    if (component != TC_TIDB) {
        at(field, sizeof field, component, "requests.storage");
        if (!spec->requests.storage.text)
            ERROR(problems, field, "required");
        else if (spec->requests.storage.valid && spec->requests.storage.value.milli == 0)
            ERROR(problems, field, "must be greater than 0");
    }
}

static void check_service(struct tc_problems *problems, enum tc_component component, const struct tc_service *service)
{
    char field[160];
    if (service->type && !one_of(service->type, service_types))
        ERROR(problems, at(field, sizeof field, component, "service.type"),
              "unsupported value \"%s\": must be ClusterIP, NodePort or LoadBalancer", service->type);
    if (service->external_traffic_policy && *service->external_traffic_policy &&
        !one_of(service->external_traffic_policy, traffic_policies))
        ERROR(problems, at(field, sizeof field, component, "service.externalTrafficPolicy"),
              "unsupported value \"%s\": must be Cluster or Local", service->external_traffic_policy);
    if (component != TC_TIDB)
        return;
    if (service->port_set && (service->port < 1 || service->port > 65535))
        ERROR(problems, at(field, sizeof field, component, "service.port"), "must be between 1 and 65535, got %d",
              service->port);
    const char *names[] = { "service.mysqlNodePort", "service.statusNodePort" };
    const int32_t ports[] = { service->mysql_node_port, service->status_node_port };
    bool exposes = service->type && (strcmp(service->type, "NodePort") == 0 || strcmp(service->type, "LoadBalancer") == 0);
    for (int i = 0; i < 2; i++) {
        if (ports[i] < 0 || ports[i] > 65535)
            ERROR(problems, at(field, sizeof field, component, names[i]), "must be between 0 and 65535, got %d",
                  ports[i]);
        else if (ports[i] != 0 && !exposes)
            ERROR(problems, at(field, sizeof field, component, names[i]),
                  "may only be set when service.type is NodePort or LoadBalancer");
    }
}

static void check_duration(struct tc_problems *problems, const char *field, const char *text)
{
    int64_t milliseconds;
    if (text && !tidbcluster_parse_duration(text, &milliseconds))
        ERROR(problems, field, "invalid duration \"%s\": expected a Go duration such as 1500m, 400s or 1h30m", text);
}

static void check_component(struct tc_problems *problems, const struct tidbcluster *cluster, enum tc_component component,
                            enum tc_validate_mode mode)
{
    const struct component_spec *spec = &cluster->spec.component[component];
    const char *name = tidbcluster_component_name(component);
    char field[160];

    at(field, sizeof field, component, "replicas");
    if (!spec->replicas_set) {
        ERROR(problems, field, "required");
    } else if (spec->replicas < 0) {
        ERROR(problems, field, "must be greater than or equal to 0, got %d", spec->replicas);
    } else if (component == TC_PD && spec->replicas == 0) {
        WARN(problems, field, "0 PD members: the cluster cannot serve until PD is scaled up");
    } else if (component == TC_PD && spec->replicas % 2 == 0) {
        WARN(problems, field,
             "an even number of PD members (%d) tolerates no more failures than %d; use an odd number",
             spec->replicas, spec->replicas - 1);
    } else if (component == TC_TIKV && spec->replicas < 3) {
        WARN(problems, field, "fewer than 3 TiKV stores cannot hold the default 3 replicas of each region");
    }

    if (spec->max_failover_count_set && spec->max_failover_count < 0)
        ERROR(problems, at(field, sizeof field, component, "maxFailoverCount"),
              "must be greater than or equal to 0, got %d", spec->max_failover_count);

    check_version(problems, at(field, sizeof field, component, "version"), spec->version);
    if (spec->image && *spec->image) {
        at(field, sizeof field, component, "image");
        add(problems, mode == TC_VALIDATE_CREATE ? TC_PROBLEM_ERROR : TC_PROBLEM_WARNING, field,
            "deprecated field: use baseImage and version instead");
    }
    if (!spec->image_resolved || !*spec->image_resolved) {
        ERROR(problems, at(field, sizeof field, component, "baseImage"),
              "required: no image can be resolved (set spec.version, spec.%s.version or spec.%s.baseImage)", name,
              name);
    } else if (spec->base_image && *spec->base_image && !(spec->version && *spec->version) &&
               !(cluster->spec.version && *cluster->spec.version)) {
        WARN(problems, at(field, sizeof field, component, "version"),
             "no version: the image \"%s\" has no tag, so the registry's latest is used", spec->image_resolved);
    }

    if (spec->image_pull_policy && *spec->image_pull_policy && !one_of(spec->image_pull_policy, pull_policies))
        ERROR(problems, at(field, sizeof field, component, "imagePullPolicy"),
              "unsupported value \"%s\": must be Always, IfNotPresent or Never", spec->image_pull_policy);
    if (spec->config_update_strategy && *spec->config_update_strategy &&
        !one_of(spec->config_update_strategy, update_strategies))
        ERROR(problems, at(field, sizeof field, component, "configUpdateStrategy"),
              "unsupported value \"%s\": must be InPlace or RollingUpdate", spec->config_update_strategy);

    check_resources(problems, component, spec);

    if (spec->storage_class_name && *spec->storage_class_name && !valid_dns_subdomain(spec->storage_class_name))
        ERROR(problems, at(field, sizeof field, component, "storageClassName"),
              "invalid name \"%s\": must be a lowercase DNS subdomain", spec->storage_class_name);

    if (spec->config) {
        struct toml_error error;
        if (!toml_check(spec->config, strlen(spec->config), &error))
            ERROR(problems, at(field, sizeof field, component, "config"), "invalid TOML at line %d, column %d: %s",
                  error.line, error.column, error.message);
    }

    if (spec->termination_grace_period_seconds_set && spec->termination_grace_period_seconds < 0)
        ERROR(problems, at(field, sizeof field, component, "terminationGracePeriodSeconds"),
              "must be greater than or equal to 0, got %lld", (long long)spec->termination_grace_period_seconds);

    if (component != TC_TIKV)
        check_service(problems, component, &spec->service);

    if (component == TC_PD && spec->start_timeout_set && spec->start_timeout <= 0)
        ERROR(problems, at(field, sizeof field, component, "startTimeout"), "must be greater than 0, got %d",
              spec->start_timeout);

    if (component == TC_TIKV) {
        check_duration(problems, at(field, sizeof field, component, "evictLeaderTimeout"), spec->evict_leader_timeout);
        check_duration(problems, at(field, sizeof field, component, "waitLeaderTransferBackTimeout"),
                       spec->wait_leader_transfer_back_timeout);
    }
    if (component != TC_PD) {
        if (spec->scale_in_parallelism_set && spec->scale_in_parallelism < 1)
            ERROR(problems, at(field, sizeof field, component, "scalePolicy.scaleInParallelism"),
                  "must be at least 1, got %d", spec->scale_in_parallelism);
        if (spec->scale_out_parallelism_set && spec->scale_out_parallelism < 1)
            ERROR(problems, at(field, sizeof field, component, "scalePolicy.scaleOutParallelism"),
                  "must be at least 1, got %d", spec->scale_out_parallelism);
    }
}

/* The written fields that do not act as PingCAP documents
 * (tidbcluster_fields.h): refused ones are errors, the rest warnings. */
static void check_fields(struct tc_problems *problems, const struct tc_field_findings *fields)
{
    if (fields->out_of_memory)
        problems->out_of_memory = true;
    for (size_t i = 0; i < fields->count; i++) {
        const struct tc_field_finding *finding = &fields->items[i];
        const struct tc_field_class *field = finding->field;
        if (!field)
            WARN(problems, finding->path, "unknown field, ignored");
        else if (field->refused)
            ERROR(problems, finding->path, "not supported yet: %s", field->why);
        else if (field->support == TC_FIELD_NO_EFFECT)
            WARN(problems, finding->path, "no effect here: %s", field->why);
        else
            WARN(problems, finding->path, "not supported yet, ignored: %s", field->why);
    }
}

void tidbcluster_validate(const struct tidbcluster *cluster, enum tc_validate_mode mode, struct tc_problems *problems)
{
    const struct tidbcluster_spec *spec = &cluster->spec;
    if (!cluster->name || !*cluster->name)
        ERROR(problems, "metadata.name", "required");
    if (!spec->present) {
        ERROR(problems, "spec", "required");
        return;
    }
    bool pd = spec->component[TC_PD].present, tikv = spec->component[TC_TIKV].present,
         tidb = spec->component[TC_TIDB].present;
    if (!pd && !tikv && !tidb)
        WARN(problems, "spec", "no pd, tikv or tidb: nothing to manage");
    if (!pd && (tikv || tidb) && cJSON_GetArraySize(spec->pd_addresses) == 0)
        ERROR(problems, "spec.pd", "required when tikv or tidb is set (or set spec.pdAddresses)");

    if (mode == TC_VALIDATE_CREATE && !(spec->version && *spec->version))
        ERROR(problems, "spec.version", "required");
    check_version(problems, "spec.version", spec->version);
    if (spec->timezone && *spec->timezone && !valid_timezone(spec->timezone))
        ERROR(problems, "spec.timezone", "invalid time zone \"%s\": expected an IANA name such as UTC or Asia/Shanghai",
              spec->timezone);
    if (spec->pv_reclaim_policy) {
        if (strcmp(spec->pv_reclaim_policy, "Delete") == 0)
            WARN(problems, "spec.pvReclaimPolicy",
                 "Delete: a volume is deleted with its claim, so data of removed members is lost");
        else if (strcmp(spec->pv_reclaim_policy, "Retain") != 0)
            ERROR(problems, "spec.pvReclaimPolicy", "unsupported value \"%s\": must be Retain or Delete",
                  spec->pv_reclaim_policy);
    }
    if (spec->image_pull_policy && *spec->image_pull_policy && !one_of(spec->image_pull_policy, pull_policies))
        ERROR(problems, "spec.imagePullPolicy", "unsupported value \"%s\": must be Always, IfNotPresent or Never",
              spec->image_pull_policy);
    if (spec->config_update_strategy && *spec->config_update_strategy &&
        !one_of(spec->config_update_strategy, update_strategies))
        ERROR(problems, "spec.configUpdateStrategy", "unsupported value \"%s\": must be InPlace or RollingUpdate",
              spec->config_update_strategy);
    int index = 0;
    const cJSON *address;
    cJSON_ArrayForEach(address, spec->pd_addresses) {
        char field[64];
        snprintf(field, sizeof field, "spec.pdAddresses[%d]", index++);
        if (cJSON_IsString(address) && !valid_pd_address(address->valuestring))
            ERROR(problems, field, "invalid PD address \"%s\": expected http://host:port or https://host:port",
                  address->valuestring);
    }

    for (int i = 0; i < TC_COMPONENT_COUNT; i++)
        if (spec->component[i].present)
            check_component(problems, cluster, (enum tc_component)i, mode);
    check_fields(problems, &cluster->fields);
}

void tidbcluster_problems_free(struct tc_problems *problems)
{
    for (size_t i = 0; i < problems->count; i++) {
        free(problems->items[i].field);
        free(problems->items[i].message);
    }
    free(problems->items);
    memset(problems, 0, sizeof *problems);
}

char *tidbcluster_problems_summary(const struct tc_problems *problems, enum tc_severity severity)
{
    struct buffer text = { 0 };
    bool ok = true;
    for (size_t i = 0; ok && i < problems->count; i++) {
        const struct tc_problem *problem = &problems->items[i];
        if (problem->severity != severity)
            continue;
        ok = buffer_append_format(&text, "%s%s: %s", text.length ? "; " : "", problem->field, problem->message);
    }
    if (!ok) {
        buffer_free(&text);
        return NULL;
    }
    return buffer_take(&text);
}

const struct tc_problem *tidbcluster_problems_find(const struct tc_problems *problems, const char *field,
                                                   enum tc_severity severity)
{
    for (size_t i = 0; i < problems->count; i++)
        if (problems->items[i].severity == severity && strcmp(problems->items[i].field, field) == 0)
            return &problems->items[i];
    return NULL;
}
