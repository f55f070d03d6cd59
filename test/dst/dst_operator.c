/*
 * dst_operator: the operator's seams in the simulation — the controller's
 * pass over the lagging caches (the same calls as
 * reconcilers/runtime/controller.c's plan_cluster: decode, defaults,
 * observe_cluster, validation memo, planner_plan), its work-queue
 * discipline, the PD snapshot poller (pd_snapshot's five parts over the PD
 * model's HTTP answers and pd/pd_decode) and the executor (each action
 * applied to the store or PD after a seeded latency, with seeded failures).
 */
#include "test/dst/dst_internal.h"

#include "pd/pd_decode.h"
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/planner/planner.h"
#include "reconcilers/planner/safety.h"
#include "reconcilers/runtime/observe.h"
#include "pd/pd_snapshot_data.h"
#include "test/sim/patch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_FLAG 1

_Static_assert(DST_CREATE_CAP == SAFETY_CREATE_CAP && DST_SLOW_START_FIRST == SAFETY_SLOW_START_FIRST,
               "the plan checks use the arbiter's budget");

/* ---- the PD snapshot ---- */

/* pd_snapshot's data half, polled on its cadence. */
struct dst_snapshot {
    struct pd_snapshot_data data;
    uint64_t next_poll_ms;
    uint64_t last_refresh_ms;
    bool refreshed;          /* last_refresh_ms is meaningful */
    bool in_flight[PD_PART_COUNT];
    bool again[PD_PART_COUNT];   /* refresh_now while in flight: once more */
    uint64_t started_ms[PD_PART_COUNT];
};

void dst_snapshot_forget(struct dst_cluster *cluster)
{
    struct dst_snapshot *snapshot = cluster->snapshot;
    if (!snapshot)
        return;
    struct pd_snapshot_data *data = &snapshot->data;
    pd_members_free(&data->members);
    pd_health_free(&data->health);
    pd_stores_free(&data->stores);
    pd_schedulers_free(&data->schedulers);
    pd_config_free(&data->config);
    free(snapshot);
    cluster->snapshot = NULL;
}

/* What came back from PD. */
struct pd_answer {
    int status;
    char *body;
    size_t length;
};

static void answer_clear(struct pd_answer *answer)
{
    free(answer->body);
    *answer = (struct pd_answer){ 0 };
}

static const char *const part_paths[PD_PART_COUNT] = {
    [PD_PART_MEMBERS] = "/pd/api/v1/members",   [PD_PART_HEALTH] = "/pd/api/v1/health",
    [PD_PART_STORES] = "/pd/api/v1/stores",     [PD_PART_SCHEDULERS] = "/pd/api/v1/schedulers",
    [PD_PART_CONFIG] = "/pd/api/v1/config",
};

/* One PD HTTP exchange through the cluster's service; false and `error`
 * set when nothing answered (garbage is an answer the decoders refuse). */
static bool pd_exchange(struct dst *sim, int cluster, const char *method, const char *path, const char *query,
                        const char *body, struct pd_answer *answer, struct pd_error *error, bool *garbage)
{
    *answer = (struct pd_answer){ 0 };
    *garbage = false;
    pd_error_clear(error);
    struct pd_model *model = dst_pd_model(sim, cluster);
    if (!model || sim->pd_unreachable[cluster]) {
        error->kind = PD_ERROR_TRANSPORT;
        error->transport = HTTP_ERROR_CONNECT;
        snprintf(error->message, sizeof error->message, "%s: connection refused", path);
        return false;
    }
    if (!dst_pd_serve(model, method, path, query, body, &answer->status, &answer->body, &answer->length, garbage)) {
        dst_fail(sim, "out of memory");
        return false;
    }
    if (answer->status == 0) {
        error->kind = PD_ERROR_TRANSPORT;
        error->transport = HTTP_ERROR_CONNECT;
        snprintf(error->message, sizeof error->message, "%s: no PD process answers", path);
        return false;
    }
    return true;
}

static bool http_ok(long status)
{
    return status >= 200 && status < 300;
}

/* Merges the evict-leader list into the scheduler names' ids (pd_client's second stage). */
static bool merge_evict_list(struct pd_schedulers *schedulers, const char *body, size_t length,
                             struct pd_error *error)
{
    uint64_t *ids = NULL;
    size_t count = 0;
    if (!pd_decode_evict_leader_list(body, length, &ids, &count, error))
        return false;
    uint64_t *merged = calloc(schedulers->evict_leader_count + count + 1, sizeof *merged);
    if (!merged) {
        free(ids);
        pd_error_set(error, PD_ERROR_DECODE, "schedulers: out of memory");
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < schedulers->evict_leader_count; i++)
        merged[n++] = schedulers->evict_leader_store_ids[i];
    for (size_t j = 0; j < count; j++) {
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = merged[i] == ids[j];
        if (!seen)
            merged[n++] = ids[j];
    }
    for (size_t i = 1; i < n; i++) /* sorted, as the snapshot keeps them */
        for (size_t k = i; k > 0 && merged[k - 1] > merged[k]; k--) {
            uint64_t swap = merged[k];
            merged[k] = merged[k - 1];
            merged[k - 1] = swap;
        }
    free(ids);
    free(schedulers->evict_leader_store_ids);
    schedulers->evict_leader_store_ids = merged;
    schedulers->evict_leader_count = n;
    return true;
}

/* What the planner reads, compared (pd_snapshot notifies only on these). */
static bool text_same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool members_same(const struct pd_members *a, const struct pd_members *b)
{
    if (a->count != b->count || a->has_leader != b->has_leader ||
        (a->has_leader && (a->leader.member_id != b->leader.member_id || !text_same(a->leader.name, b->leader.name))))
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->members[i].member_id != b->members[i].member_id || !text_same(a->members[i].name, b->members[i].name))
            return false;
    return true;
}

static bool health_same(const struct pd_health *a, const struct pd_health *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->entries[i].member_id != b->entries[i].member_id || a->entries[i].health != b->entries[i].health ||
            !text_same(a->entries[i].name, b->entries[i].name))
            return false;
    return true;
}

static bool stores_same(const struct pd_stores *a, const struct pd_stores *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const struct pd_store *x = &a->stores[i], *y = &b->stores[i];
        if (x->id != y->id || x->state != y->state || x->state_name != y->state_name ||
            x->leader_count != y->leader_count || !text_same(x->address, y->address))
            return false;
    }
    return true;
}

static bool evictions_same(const struct pd_schedulers *a, const struct pd_schedulers *b)
{
    if (a->evict_leader_count != b->evict_leader_count)
        return false;
    for (size_t i = 0; i < a->evict_leader_count; i++)
        if (a->evict_leader_store_ids[i] != b->evict_leader_store_ids[i])
            return false;
    return true;
}

static int compare_store_ids(const void *a, const void *b)
{
    uint64_t x = ((const struct pd_store *)a)->id, y = ((const struct pd_store *)b)->id;
    return x < y ? -1 : x > y;
}

static void part_start(struct dst *sim, int cluster, int part);

/* Records a part's outcome (pd_snapshot's part_record); true when its error state changed. */
static bool part_record(struct dst *sim, struct dst_snapshot *snapshot, int part, const struct pd_error *error)
{
    struct pd_part_status *status = &snapshot->data.parts[part];
    bool changed;
    status->in_flight = false;
    status->last_attempt_ms = snapshot->started_ms[part];
    if (error->kind == PD_ERROR_NONE) {
        changed = status->last_error.kind != PD_ERROR_NONE;
        pd_error_clear(&status->last_error);
        status->ever_succeeded = true;
        status->last_success_ms = dst_now(sim);
        status->last_success_wall_ms = clock_wall_ms(&sim->clock);
        status->successes++;
    } else {
        changed = status->last_error.kind == PD_ERROR_NONE || !pd_error_same(&status->last_error, error);
        status->last_error = *error;
        status->failures++;
    }
    return changed;
}

/* One part's answer, decoded and merged into the snapshot (pd_snapshot's
 * on_members ... on_config); when something the planner reads changed,
 * the cluster is queued (its on_change). */
static void part_answer(struct dst *sim, int cluster, int part, bool timed_out)
{
    struct dst_snapshot *snapshot = sim->clusters[cluster].snapshot;
    struct pd_snapshot_data *data = &snapshot->data;
    snapshot->in_flight[part] = false;
    sim->result->pd_answers++;
    struct pd_error error;
    pd_error_clear(&error);
    struct pd_answer response = { 0 };
    bool answered = false, garbage = false;
    if (timed_out) {
        error.kind = PD_ERROR_TRANSPORT;
        error.transport = HTTP_ERROR_TIMEOUT;
        snprintf(error.message, sizeof error.message, "%s: timed out", part_paths[part]);
    } else {
        answered = pd_exchange(sim, cluster, "GET", part_paths[part],
                               part == PD_PART_STORES ? "state=0&state=1&state=2" : NULL, NULL, &response, &error,
                               &garbage);
        if (answered && !http_ok(response.status))
            pd_error_from_http(&error, response.status, response.body, response.length);
    }
    bool ok = answered && http_ok(response.status);
    bool changed = false;
    switch (part) {
    case PD_PART_MEMBERS: {
        struct pd_members members = { 0 };
        if (ok && pd_decode_members(response.body, response.length, &members, &error)) {
            changed = !members_same(&data->members, &members);
            pd_members_free(&data->members);
            data->members = members;
        }
        break;
    }
    case PD_PART_HEALTH: {
        struct pd_health health = { 0 };
        if (ok && pd_decode_health(response.body, response.length, &health, &error)) {
            changed = !health_same(&data->health, &health);
            pd_health_free(&data->health);
            data->health = health;
        }
        break;
    }
    case PD_PART_STORES: {
        bool bootstrapped = true;
        if (error.kind == PD_ERROR_HTTP && error.reason == PD_REASON_NOT_BOOTSTRAPPED) {
            bootstrapped = false;
            pd_error_clear(&error);
            changed = data->stores.count > 0 || data->bootstrapped;
            pd_stores_free(&data->stores);
            data->bootstrapped = false;
        }
        struct pd_stores stores = { 0 };
        if (ok && bootstrapped && pd_decode_stores(response.body, response.length, &stores, &error)) {
            if (stores.count > 1)
                qsort(stores.stores, stores.count, sizeof *stores.stores, compare_store_ids);
            changed = !stores_same(&data->stores, &stores) || !data->bootstrapped;
            pd_stores_free(&data->stores);
            data->stores = stores;
            data->bootstrapped = true;
        }
        break;
    }
    case PD_PART_SCHEDULERS: {
        if (error.kind == PD_ERROR_HTTP && error.reason == PD_REASON_NOT_BOOTSTRAPPED) {
            pd_error_clear(&error);
            changed = data->schedulers.evict_leader_count > 0;
            pd_schedulers_free(&data->schedulers);
            break;
        }
        struct pd_schedulers schedulers = { 0 };
        if (ok && pd_decode_schedulers(response.body, response.length, &schedulers, &error)) {
            bool merged = true;
            if (schedulers.evict_leader_bare) {
                struct pd_answer list = { 0 };
                bool list_garbage = false;
                merged = pd_exchange(sim, cluster, "GET", "/pd/api/v1/scheduler-config/evict-leader-scheduler/list",
                                     NULL, NULL, &list, &error, &list_garbage);
                if (merged && !http_ok(list.status)) {
                    pd_error_from_http(&error, list.status, list.body, list.length);
                    merged = false;
                }
                merged = merged && merge_evict_list(&schedulers, list.body, list.length, &error);
                answer_clear(&list);
            }
            if (merged) {
                changed = !evictions_same(&data->schedulers, &schedulers);
                pd_schedulers_free(&data->schedulers);
                data->schedulers = schedulers;
            } else {
                pd_schedulers_free(&schedulers);
            }
        }
        break;
    }
    case PD_PART_CONFIG: {
        struct pd_config config = { 0 };
        if (ok && pd_decode_config(response.body, response.length, &config, &error)) {
            changed = !data->parts[PD_PART_CONFIG].ever_succeeded || data->config.max_replicas != config.max_replicas ||
                      data->config.max_store_down_time_ms != config.max_store_down_time_ms;
            pd_config_free(&data->config);
            data->config = config;
        }
        break;
    }
    default:
        break;
    }
    answer_clear(&response);
    changed |= part_record(sim, snapshot, part, &error);
    if (snapshot->again[part]) {
        snapshot->again[part] = false;
        part_start(sim, cluster, part);
    }
    if (changed) {
        data->generation++;
        dst_enqueue(sim, cluster);
    }
}

static uint64_t pd_latency(struct dst *sim)
{
    uint64_t latency = dst_rng_range(&sim->rng, 1, sim->pd_latency_max_ms);
    if (dst_now(sim) < sim->pd_slow_until_ms)
        latency += dst_rng_range(&sim->rng, sim->pd_slow_ms / 2, sim->pd_slow_ms);
    return latency;
}

uint64_t dst_operator_next_poll(const struct dst *sim)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; sim->op.up && i < sim->cluster_count; i++) {
        const struct dst_snapshot *snapshot = sim->clusters[i].snapshot;
        if (snapshot && snapshot->next_poll_ms < next)
            next = snapshot->next_poll_ms;
    }
    return next;
}

static void part_start(struct dst *sim, int cluster, int part)
{
    struct dst_snapshot *snapshot = sim->clusters[cluster].snapshot;
    uint64_t now = dst_now(sim);
    snapshot->in_flight[part] = true;
    snapshot->started_ms[part] = now;
    snapshot->data.parts[part].in_flight = true;
    uint64_t latency = pd_latency(sim);
    bool timed_out = latency > DST_PD_CALL_TIMEOUT_MS;
    struct dst_event event = { .type = DST_EVENT_PD_PART, .epoch = sim->op.epoch, .cluster = cluster,
                               .part = part, .fault_phase = timed_out ? TIMEOUT_FLAG : 0 };
    dst_schedule(sim, now + (timed_out ? DST_PD_CALL_TIMEOUT_MS : latency), &event);
}

/* pd_snapshot's refresh_start: parts in flight run once more when asked. */
static void refresh_start(struct dst *sim, int cluster, bool rerun_in_flight)
{
    struct dst_snapshot *snapshot = sim->clusters[cluster].snapshot;
    uint64_t now = dst_now(sim);
    snapshot->data.refreshes++;
    snapshot->last_refresh_ms = now;
    snapshot->refreshed = true;
    for (int part = 0; part < PD_PART_COUNT; part++) {
        if (snapshot->in_flight[part]) {
            if (rerun_in_flight)
                snapshot->again[part] = true;
            continue; /* its timeout bounds it */
        }
        part_start(sim, cluster, part);
    }
    snapshot->next_poll_ms = now + (snapshot->data.fast ? DST_PD_POLL_FAST_MS : DST_PD_POLL_SLOW_MS);
}

void dst_operator_poll(struct dst *sim)
{
    uint64_t now = dst_now(sim);
    for (int i = 0; sim->op.up && i < sim->cluster_count; i++) {
        struct dst_snapshot *snapshot = sim->clusters[i].snapshot;
        if (snapshot && snapshot->next_poll_ms <= now)
            refresh_start(sim, i, false);
    }
}

static void snapshot_set_fast(struct dst *sim, struct dst_snapshot *snapshot, bool fast)
{
    if (snapshot->data.fast == fast)
        return;
    snapshot->data.fast = fast;
    if (!snapshot->refreshed)
        return; /* the first refresh is due already */
    uint64_t due = snapshot->last_refresh_ms + (fast ? DST_PD_POLL_FAST_MS : DST_PD_POLL_SLOW_MS);
    snapshot->next_poll_ms = due > dst_now(sim) ? due : dst_now(sim);
}

/* ---- the executor ---- */

void dst_run_release(struct dst_run *run)
{
    plan_free(&run->plan);
    free(run->fates);
    free(run->statuses);
    free(run);
}

static const struct resource *resource_of(struct dst *sim, const struct kube_resource *resource)
{
    return resources_find(store_resources(sim->store), resource->group, resource->version, resource->plural);
}

/* A kube write, as the API server answers it: the HTTP status. */
static int apply_kube(struct dst *sim, const struct plan *plan, const struct action *action, bool *already_exists)
{
    *already_exists = false;
    const struct resource *resource = action->kind == ACTION_UPDATE_STATUS && !action->resource
                                          ? sim->resources[DST_KIND_CLUSTERS]
                                          : resource_of(sim, action->resource);
    if (!resource)
        return 404;
    const char *ns = plan->namespace;
    struct store_reply reply = { 0 };
    bool ok = false;
    switch (action->kind) {
    case ACTION_CREATE:
        ok = store_create(sim->store, resource, ns, cJSON_Duplicate(action->body, true), &reply);
        break;
    case ACTION_UPDATE:
        ok = store_update(sim->store, resource, ns, action->name, cJSON_Duplicate(action->body, true), &reply);
        break;
    case ACTION_UPDATE_STATUS:
        ok = store_update_status(sim->store, resource, ns, action->name, cJSON_Duplicate(action->body, true),
                                 &reply);
        break;
    case ACTION_MERGE_PATCH: {
        struct store_error error = { 0 };
        struct store_object *current = store_get(sim->store, resource, ns, action->name, &error);
        if (!current) {
            int code = error.code ? error.code : 404;
            store_error_clear(&error);
            return code;
        }
        struct patch_error patch_error = { 0 };
        cJSON *patched = patch_merge(store_object_tree(current), action->body, &patch_error);
        store_object_release(current);
        if (!patched)
            return patch_status_code(patch_error.kind);
        ok = store_update(sim->store, resource, ns, action->name, patched, &reply);
        break;
    }
    case ACTION_DELETE: {
        struct store_delete_options options = { .propagation = STORE_PROPAGATION_BACKGROUND,
                                                .precondition_uid = action->precondition_uid };
        ok = store_delete(sim->store, resource, ns, action->name, &options, &reply);
        break;
    }
    default:
        return 400;
    }
    int status = ok ? (reply.outcome == STORE_CREATED ? 201 : 200) : reply.error.code ? reply.error.code : 500;
    *already_exists = !ok && reply.error.reason && strcmp(reply.error.reason, "AlreadyExists") == 0;
    store_reply_clear(&reply);
    return status;
}

/* A PD action through the cluster's service: the HTTP status (0: nothing
 * answered); *absent when the status means "already gone". */
static int apply_pd(struct dst *sim, int cluster, const struct action *action, bool *absent)
{
    char path[256], body[128] = "";
    const char *method = "DELETE", *query = NULL;
    long gone[2] = { 404, 0 };
    *absent = false;
    switch (action->kind) {
    case ACTION_PD_DELETE_MEMBER:
        snprintf(path, sizeof path, "/pd/api/v1/members/name/%s", action->member ? action->member : "");
        break;
    case ACTION_PD_DELETE_STORE:
        snprintf(path, sizeof path, "/pd/api/v1/store/%" PRIu64, action->store_id);
        gone[1] = 410;
        break;
    case ACTION_PD_ADD_EVICT_LEADER:
        method = "POST";
        snprintf(path, sizeof path, "/pd/api/v1/schedulers");
        snprintf(body, sizeof body, "{\"name\":\"evict-leader-scheduler\",\"store_id\":%" PRIu64 "}", action->store_id);
        gone[0] = 0;
        break;
    case ACTION_PD_REMOVE_EVICT_LEADER:
        snprintf(path, sizeof path, "/pd/api/v1/schedulers/evict-leader-scheduler-%" PRIu64, action->store_id);
        break;
    case ACTION_PD_TRANSFER_LEADER:
        method = "POST";
        snprintf(path, sizeof path, "/pd/api/v1/leader/transfer/%s", action->member ? action->member : "");
        break;
    case ACTION_PD_SET_STORE_UP:
        method = "POST";
        snprintf(path, sizeof path, "/pd/api/v1/store/%" PRIu64 "/state", action->store_id);
        query = "state=Up";
        break;
    case ACTION_PD_REMOVE_TOMBSTONES:
        snprintf(path, sizeof path, "/pd/api/v1/stores/remove-tombstone");
        gone[0] = 0;
        break;
    default:
        return 400;
    }
    struct pd_answer response = { 0 };
    struct pd_error error;
    bool garbage = false;
    if (!pd_exchange(sim, cluster, method, path, query, body[0] ? body : NULL, &response, &error, &garbage))
        return 0;
    int status = response.status;
    /* A 200 whose body is not PD's (garbage): the client cannot read it. */
    if (http_ok(status) && garbage)
        status = 502;
    *absent = status == gone[0] || status == gone[1];
    answer_clear(&response);
    return status;
}

static bool is_pd_action(enum action_kind kind)
{
    return kind >= ACTION_PD_DELETE_MEMBER;
}

static void finish_run(struct dst *sim, struct dst_run *run)
{
    struct dst_cluster *c = &sim->clusters[run->cluster];
    c->busy = false;
    if (run->failed || run->plan.incomplete)
        expectations_forget(sim->op.expectations, c->key); /* controller.c on_executed */
    if (run->writes_pd && c->snapshot)
        refresh_start(sim, run->cluster, true); /* controller.c on_executed */
    uint64_t now = dst_now(sim);
    uint64_t wake = 0;
    if (run->failed || run->plan.incomplete) {
        uint64_t delay = 5;
        for (unsigned i = 0; i < c->failures && delay < 1000000; i++)
            delay *= 2;
        if (delay > 1000000)
            delay = 1000000;
        c->failures++;
        wake = now + delay;
    } else {
        c->failures = 0;
        if (run->benign)
            wake = now + 1000;
    }
    if (wake && (!c->wake_ms || wake < c->wake_ms)) {
        c->wake_ms = wake;
        struct dst_event event = { .type = DST_EVENT_WAKE, .epoch = sim->op.epoch, .cluster = run->cluster };
        dst_schedule(sim, wake, &event);
    }
    if (c->again) {
        c->again = false;
        c->queued = true;
    }
}

static void on_apply(struct dst *sim, struct dst_event *event)
{
    struct dst_run *run = event->run;
    if (run->epoch != sim->op.epoch && !event->survives_crash)
        return; /* the process died before sending it */
    const struct action *action = &run->plan.actions[event->action];
    enum dst_action_fate fate = run->fates[event->action];
    if (fate == DST_FATE_CONFLICT) {
        run->statuses[event->action] = 409;
        return;
    }
    if (fate == DST_FATE_SERVER_ERROR) {
        run->statuses[event->action] = 500;
        return;
    }
    if (fate == DST_FATE_THROTTLED) {
        run->statuses[event->action] = 429;
        return;
    }
    dst_check_action(sim, run, action);
    int status;
    bool benign = false;
    if (is_pd_action(action->kind)) {
        status = apply_pd(sim, run->cluster, action, &benign);
    } else {
        if (action->kind == ACTION_DELETE && action->resource == &kube_resource_pods) {
            if (action->precondition_uid) {
                dst_note_deleted(sim, action->name, action->precondition_uid);
            } else {
                struct store_error error = { 0 };
                struct store_object *pod =
                    store_get(sim->store, sim->resources[DST_KIND_PODS], run->plan.namespace, action->name, &error);
                store_error_clear(&error);
                const cJSON *uid = pod ? cJSON_GetObjectItemCaseSensitive(
                                             cJSON_GetObjectItemCaseSensitive(store_object_tree(pod), "metadata"), "uid")
                                       : NULL;
                if (cJSON_IsString(uid))
                    dst_note_deleted(sim, action->name, uid->valuestring);
                store_object_release(pod);
            }
        }
        bool already_exists = false;
        status = apply_kube(sim, &run->plan, action, &already_exists);
        benign = (status == 409 && (action->kind != ACTION_CREATE || already_exists)) ||
                 (status == 404 && action->kind == ACTION_DELETE);
        if (benign)
            status = 299; /* counted apart */
    }
    if (benign && is_pd_action(action->kind))
        status = 299;
    run->statuses[event->action] = fate == DST_FATE_TIMEOUT_AFTER ? 0 : status;
    dst_trace(sim, "  %s %s -> %d", run->plan.cluster, action->kind == ACTION_EVENT ? "event" : "action",
              run->statuses[event->action]);
}

static void on_reply(struct dst *sim, struct dst_event *event)
{
    struct dst_run *run = event->run;
    if (run->epoch != sim->op.epoch)
        return;
    const struct action *action = &run->plan.actions[event->action];
    int status = run->statuses[event->action];
    if (status == 299)
        run->benign++;
    else if (status == 409 && action->kind != ACTION_CREATE)
        run->benign++;
    else if (!http_ok(status))
        run->failed++;
    if (--run->replies_left == 0)
        finish_run(sim, run);
}

void dst_operator_event(struct dst *sim, struct dst_event *event)
{
    switch (event->type) {
    case DST_EVENT_APPLY:
        on_apply(sim, event);
        break;
    case DST_EVENT_REPLY:
        on_reply(sim, event);
        break;
    case DST_EVENT_PD_PART:
        if (event->epoch == sim->op.epoch && sim->op.up)
            part_answer(sim, event->cluster, event->part, event->fault_phase == TIMEOUT_FLAG);
        break;
    case DST_EVENT_WAKE:
        if (event->epoch == sim->op.epoch && sim->op.up) {
            struct dst_cluster *c = &sim->clusters[event->cluster];
            if (c->wake_ms && c->wake_ms <= dst_now(sim)) {
                c->wake_ms = 0;
                dst_enqueue(sim, event->cluster);
            }
        }
        break;
    default:
        break;
    }
}

static enum dst_action_fate choose_fate(struct dst *sim, const struct action *action)
{
    unsigned percent = sim->api_fail_percent;
    if (dst_now(sim) < sim->api_burst_until_ms)
        percent = sim->api_burst_percent;
    if (action->kind == ACTION_EVENT || !dst_rng_chance(&sim->rng, percent))
        return DST_FATE_OK;
    switch (dst_rng_range(&sim->rng, 0, 3)) {
    case 0:
        return is_pd_action(action->kind) ? DST_FATE_SERVER_ERROR : DST_FATE_CONFLICT;
    case 1:
        return DST_FATE_SERVER_ERROR;
    case 2:
        return is_pd_action(action->kind) ? DST_FATE_TIMEOUT_AFTER : DST_FATE_THROTTLED;
    default:
        return DST_FATE_TIMEOUT_AFTER;
    }
}

/* Starts a plan's actions (executor_run): each one's write and answer
 * are events; events (core/v1 Event objects) are counted, not stored. */
static void execute(struct dst *sim, int cluster, struct plan *plan, uint64_t info_ms)
{
    struct dst_cluster *c = &sim->clusters[cluster];
    struct dst_run *run = calloc(1, sizeof *run);
    size_t count = plan->count ? plan->count : 1;
    if (run) {
        run->fates = calloc(count, sizeof *run->fates);
        run->statuses = calloc(count, sizeof *run->statuses);
    }
    if (!run || !run->fates || !run->statuses) {
        if (run)
            dst_run_release(run);
        plan_free(plan);
        dst_fail(sim, "out of memory");
        return;
    }
    run->plan = *plan;
    *plan = (struct plan){ 0 };
    run->cluster = cluster;
    run->epoch = sim->op.epoch;
    run->plan_ms = dst_now(sim);
    run->info_ms = info_ms;
    for (size_t i = 0; i < run->plan.count; i++)
        if (is_pd_action(run->plan.actions[i].kind))
            run->writes_pd = true;
    if (run->writes_pd && c->snapshot)
        c->snapshot->data.written_ms = dst_now(sim); /* pd_snapshot_note_write */
    c->busy = true;
    if (run->plan.incomplete) {
        run->failed = 1;
        finish_run(sim, run);
        dst_run_release(run);
        return;
    }
    uint64_t now = dst_now(sim);
    for (size_t i = 0; i < run->plan.count; i++) {
        const struct action *action = &run->plan.actions[i];
        if (action->kind == ACTION_EVENT)
            continue;
        run->replies_left++;
    }
    if (run->replies_left == 0) {
        finish_run(sim, run);
        dst_run_release(run);
        return;
    }
    for (size_t i = 0; i < run->plan.count && !sim->failed; i++) {
        const struct action *action = &run->plan.actions[i];
        if (action->kind == ACTION_EVENT)
            continue;
        sim->result->actions++;
        run->fates[i] = choose_fate(sim, action);
        uint64_t send = dst_rng_range(&sim->rng, 1, sim->api_latency_max_ms);
        uint64_t back = dst_rng_range(&sim->rng, 1, sim->api_latency_max_ms);
        if (is_pd_action(action->kind)) {
            send = pd_latency(sim);
            back = pd_latency(sim);
        }
        uint64_t reply = now + send + back;
        if (run->fates[i] == DST_FATE_TIMEOUT_AFTER)
            reply = now + send + dst_rng_range(&sim->rng, 2000, 30000);
        else if (is_pd_action(action->kind) && send + back > DST_PD_CALL_TIMEOUT_MS) {
            run->fates[i] = DST_FATE_TIMEOUT_AFTER; /* PD still gets it, late */
            reply = now + DST_PD_CALL_TIMEOUT_MS;
        }
        struct dst_event apply = { .type = DST_EVENT_APPLY, .epoch = run->epoch, .cluster = cluster, .run = run,
                                   .action = i, .survives_crash = dst_rng_chance(&sim->rng, 50) };
        struct dst_event answer = { .type = DST_EVENT_REPLY, .epoch = run->epoch, .cluster = cluster, .run = run,
                                    .action = i };
        dst_schedule(sim, now + send, &apply);
        dst_schedule(sim, reply, &answer);
    }
}

/* ---- the controller's pass (controller.c plan_cluster) ---- */

static void pass(struct dst *sim, int index)
{
    struct dst_cluster *c = &sim->clusters[index];
    struct dst_operator *op = &sim->op;
    c->queued = false;
    const struct kube_tidbcluster *object =
        (const struct kube_tidbcluster *)cache_get(&op->caches[DST_KIND_CLUSTERS], c->key);
    if (!object) {
        dst_snapshot_forget(c);
        validation_memo_remove(op->memo, c->key);
        return;
    }
    /* controller.c reconcile_key: its own deletes first seen in the cache. */
    if (expectations_pending(op->expectations, c->key, &op->caches[DST_KIND_PODS], dst_now(sim))) {
        uint64_t wake = dst_now(sim) + 100;
        if (!c->wake_ms || wake < c->wake_ms) {
            c->wake_ms = wake;
            struct dst_event event = { .type = DST_EVENT_WAKE, .epoch = op->epoch, .cluster = index };
            dst_schedule(sim, wake, &event);
        }
        return;
    }
    char uid[OBJECT_UID_SIZE];
    struct plan plan = { 0 };
    if (!plan_init(&plan, DST_NAMESPACE, c->name, object_uid(&object->meta, uid))) {
        dst_fail(sim, "out of memory");
        return;
    }
    int64_t now_wall = clock_wall_ms(&sim->clock);
    uint64_t now = dst_now(sim);
    struct tidbcluster cluster;
    char *error = NULL;
    sim->result->plans++;
    if (!tidbcluster_decode(object->object, &cluster, &error)) {
        if (error)
            planner_plan_undecodable(object->object, error, now_wall, &plan);
        else
            plan.incomplete = true;
        free(error);
        tidbcluster_free(&cluster);
        execute(sim, index, &plan, now);
        return;
    }
    if (!tidbcluster_apply_defaults(&cluster)) {
        tidbcluster_free(&cluster);
        plan.incomplete = true;
        execute(sim, index, &plan, now);
        return;
    }
    const struct pd_snapshot_data *pd = NULL;
    if (cluster.spec.component[TC_PD].present) {
        if (!c->snapshot) {
            c->snapshot = calloc(1, sizeof *c->snapshot);
            if (!c->snapshot) {
                tidbcluster_free(&cluster);
                plan_free(&plan);
                dst_fail(sim, "out of memory");
                return;
            }
            c->snapshot->data.key = c->key;
            c->snapshot->next_poll_ms = now;
        }
        pd = &c->snapshot->data;
    }
    struct observe_caches caches = {
        &op->caches[DST_KIND_PODS], &op->caches[DST_KIND_PVCS], &op->caches[DST_KIND_PVS],
        &op->caches[DST_KIND_SERVICES], &op->caches[DST_KIND_CONFIGMAPS], &op->caches[DST_KIND_CLASSES],
        &op->caches[DST_KIND_NODES],
    };
    struct observation observation;
    bool ok = observe_cluster(&caches, c->key, &cluster, pd, now_wall, &observation);
    observation.world.problems = validation_memo_get(op->memo, c->key, &cluster);
    ok = ok && planner_plan(&observation.world, &plan);
    if (!ok)
        plan.incomplete = true;
    observe_done(&observation);
    tidbcluster_free(&cluster);
    if (c->snapshot)
        snapshot_set_fast(sim, c->snapshot, plan.count > 0 || plan.requeue_after_ms > 0);
    if (plan.requeue_after_ms) {
        uint64_t wake = now + plan.requeue_after_ms;
        if (!c->wake_ms || wake < c->wake_ms) {
            c->wake_ms = wake;
            struct dst_event event = { .type = DST_EVENT_WAKE, .epoch = op->epoch, .cluster = index };
            dst_schedule(sim, wake, &event);
        }
    }
    /* How old the facts behind this plan may be: the caches' delay, and
     * the oldest PD part it read. */
    uint64_t info = now > sim->info_lag_ms ? now - sim->info_lag_ms : 0;
    if (sim->stall_until_ms > now || sim->stall_ms)
        info = now > sim->info_lag_ms + sim->stall_ms ? now - sim->info_lag_ms - sim->stall_ms : 0;
    for (int part = 0; pd && part < PD_PART_COUNT; part++) {
        uint64_t asked = c->snapshot->data.parts[part].last_attempt_ms;
        if (c->snapshot->data.parts[part].ever_succeeded && asked < info)
            info = asked;
    }
    if (sim->options.trace) {
        for (size_t i = 0; i < plan.count; i++) {
            char what[256];
            plan_describe_action(&plan.actions[i], what, sizeof what);
            if (plan.actions[i].kind != ACTION_EVENT)
                dst_trace(sim, "%s plans: %s", c->name, what);
            else
                dst_trace(sim, "%s says: %s %s", c->name, plan.actions[i].reason, plan.actions[i].message);
        }
    }
    if (!expectations_expect(op->expectations, c->key, &plan, now + 30000))
        plan.incomplete = true;
    dst_check_plan(sim, index, &plan);
    execute(sim, index, &plan, info);
}

void dst_operator_passes(struct dst *sim)
{
    if (!sim->op.up || !sim->op.synced)
        return;
    for (int i = 0; i < sim->cluster_count && !sim->failed; i++)
        if (sim->clusters[i].queued && !sim->clusters[i].busy)
            pass(sim, i);
}
