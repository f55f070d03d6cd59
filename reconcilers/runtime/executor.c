#include "reconcilers/runtime/executor.h"

#include "reactor/key_map.h"
#include "reactor/list.h"
#include "reactor/log.h"
#include "reconcilers/runtime/fair_queue.h"
#include "reconcilers/runtime/leader_election.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run;

/* One action: queued (in its run's flow), then in flight, then done. */
struct step {
    struct run *run;
    struct action *action;
    struct kube_request *request;
    struct pd_call *call;
    struct fair_queue_item queued;     /* in the fair queue until started */
    struct list_node in_flight;        /* in executor->in_flight once started */
};

struct run {
    struct executor *executor;
    struct plan plan;
    struct step *steps;
    struct fair_queue_flow flow;       /* its steps waiting for their turn */
    size_t pending;                    /* steps not done yet (+1 while executor_run queues) */
    struct executor_result result;
    executor_done_fn done;
    void *data;
    struct run *next_finished;
};

/* An event sent recently, keyed by cluster, type, reason and message. */
struct sent_event {
    uint64_t sent_ms;
    char key[];
};

struct executor {
    struct executor_options options;
    struct list_node in_flight;        /* steps started and awaiting their callback */
    struct fair_queue queue;           /* steps not started yet, round-robin by run */
    bool dispatching;                  /* dispatch is on the stack: do not re-enter */
    struct run *finished;              /* runs whose done is due (fired from the idle) */
    uv_idle_t finisher;
    /* Recent events in the order sent (so the expired ones are a prefix,
     * from `event_first`), and by key for the duplicate check. */
    struct sent_event **events;
    size_t event_first, event_count, event_capacity;
    struct key_map events_by_key;
    bool closing;
    void (*closed)(void *data);
    void *closed_data;
    struct metrics_family *actions_total;
    struct metrics_gauge *in_flight_gauge, *queued_gauge;
    bool collector_registered;
    uint32_t event_sequence;           /* makes event names unique within a millisecond */
};

/* At each scrape: the gauges from the queue's counts. */
static void collect_metrics(struct metrics_registry *registry, void *data)
{
    (void)registry;
    struct executor *executor = data;
    metrics_gauge_set(executor->in_flight_gauge, (double)fair_queue_in_flight(&executor->queue));
    metrics_gauge_set(executor->queued_gauge, (double)fair_queue_queued(&executor->queue));
}

int executor_new(const struct executor_options *options, struct executor **out)
{
    *out = NULL;
    if (!options || !options->loop || !options->client) return -EINVAL;
    struct executor *executor = calloc(1, sizeof *executor);
    if (!executor) return -ENOMEM;
    executor->options = *options;
    if (!executor->options.clock) executor->options.clock = clock_system();
    if (!executor->options.event_dedup_ms) executor->options.event_dedup_ms = 10 * 60 * 1000;
    if (!executor->options.component) executor->options.component = "tidb-operator";
    if (!executor->options.max_in_flight) executor->options.max_in_flight = 64;
    list_init(&executor->in_flight);
    fair_queue_init(&executor->queue, executor->options.max_in_flight);
    uv_idle_init(options->loop, &executor->finisher);
    executor->finisher.data = executor;
    if (options->metrics) {
        executor->actions_total = metrics_counter_family(options->metrics, "tidb_operator_actions_total",
                                                         "Planned actions carried out, by kind and result.",
                                                         "kind", "result");
        executor->in_flight_gauge = metrics_gauge(options->metrics, "tidb_operator_actions_in_flight",
                                                  "Planned actions started and not finished.");
        executor->queued_gauge = metrics_gauge(options->metrics, "tidb_operator_actions_queued",
                                               "Planned actions waiting for their turn in the fair queue.");
        if (executor->in_flight_gauge && executor->queued_gauge)
            executor->collector_registered =
                metrics_register_collector(options->metrics, collect_metrics, NULL, executor);
    }
    *out = executor;
    return 0;
}

/* False for a kind this executor does not know (a newer planner's, or garbage). */
static bool kind_known(enum action_kind kind)
{
    return kind >= ACTION_CREATE && kind <= ACTION_PD_REMOVE_TOMBSTONES;
}

static const char *kind_label(enum action_kind kind)
{
    static const char *const names[] = {
        [ACTION_CREATE] = "create", [ACTION_UPDATE] = "update", [ACTION_MERGE_PATCH] = "patch",
        [ACTION_DELETE] = "delete", [ACTION_UPDATE_STATUS] = "update_status", [ACTION_EVENT] = "event",
        [ACTION_PD_DELETE_MEMBER] = "pd_delete_member", [ACTION_PD_DELETE_STORE] = "pd_delete_store",
        [ACTION_PD_ADD_EVICT_LEADER] = "pd_add_evict_leader",
        [ACTION_PD_REMOVE_EVICT_LEADER] = "pd_remove_evict_leader",
        [ACTION_PD_TRANSFER_LEADER] = "pd_transfer_leader", [ACTION_PD_SET_STORE_UP] = "pd_set_store_up",
        [ACTION_PD_REMOVE_TOMBSTONES] = "pd_remove_tombstones",
    };
    return kind_known(kind) ? names[kind] : "unknown";
}

static void on_finisher(uv_idle_t *idle);

static void finish_run_later(struct run *run)
{
    struct executor *executor = run->executor;
    run->next_finished = executor->finished;
    executor->finished = run;
    uv_idle_start(&executor->finisher, on_finisher);
}

static void count(struct step *step, const char *outcome, const char *error)
{
    struct run *run = step->run;
    struct executor *executor = run->executor;
    if (strcmp(outcome, "ok") == 0) run->result.succeeded++;
    else if (strcmp(outcome, "benign") == 0) run->result.benign++;
    else {
        run->result.failed++;
        if (!run->result.first_error[0]) {
            char what[256];
            if (kind_known(step->action->kind)) plan_describe_action(step->action, what, sizeof what);
            else snprintf(what, sizeof what, "action of unknown kind %d", (int)step->action->kind);
            snprintf(run->result.first_error, sizeof run->result.first_error, "%s: %s", what,
                     error ? error : "failed");
        }
    }
    if (executor->actions_total) {
        struct metrics_counter *counter = metrics_counter_with(executor->actions_total,
                                                               kind_label(step->action->kind), outcome);
        if (counter) metrics_counter_inc(counter);
    }
}

static void dispatch(struct executor *executor);

/* A step is over: started and answered, or never started. Its place in
 * flight (if it had one) goes to the next queued step. */
static void step_done(struct step *step)
{
    struct executor *executor = step->run->executor;
    bool was_in_flight = list_linked(&step->in_flight);
    list_remove(&step->in_flight);
    step->request = NULL;
    step->call = NULL;
    if (--step->run->pending == 0) finish_run_later(step->run);
    if (was_in_flight) {
        fair_queue_finished(&executor->queue);
        dispatch(executor);
    }
}

/* Unqueues every step not started yet: they are not sent, and their runs
 * say so (refused, not_started). */
static void drop_queued(struct executor *executor)
{
    struct fair_queue_item *item;
    while ((item = fair_queue_drop(&executor->queue))) {
        struct step *step = list_entry(item, struct step, queued);
        step->run->result.refused = true;
        step->run->result.not_started++;
        step_done(step);
    }
}

static void on_kube_done(struct kube_result *result, void *data)
{
    struct step *step = data;
    enum action_kind kind = step->action->kind;
    if (result->ok) {
        count(step, "ok", NULL);
    } else if ((result->status == 409 && kind != ACTION_CREATE) ||
               (result->status == 409 && kind == ACTION_CREATE &&
                result->error.reason && strcmp(result->error.reason, "AlreadyExists") == 0) ||
               (result->status == 404 && kind == ACTION_DELETE)) {
        count(step, "benign", NULL);
    } else {
        char text[400];
        snprintf(text, sizeof text, "%ld %s", result->status,
                 result->error.message ? result->error.message : "no answer");
        count(step, "error", text);
    }
    step_done(step);
}

static void on_pd_done(struct pd_call *call, const struct pd_error *error,
                       const struct pd_action_result *result, void *data)
{
    (void)call;
    struct step *step = data;
    if (error && error->kind != PD_ERROR_NONE) {
        count(step, "error", error->message[0] ? error->message : pd_error_kind_name(error->kind));
    } else {
        count(step, result && result->absent ? "benign" : "ok", NULL);
    }
    step_done(step);
}

/* Forgets the events older than the de-duplication window. */
static void expire_events(struct executor *executor, uint64_t now)
{
    while (executor->event_first < executor->event_count) {
        struct sent_event *event = executor->events[executor->event_first];
        if (now - event->sent_ms < executor->options.event_dedup_ms) break;
        key_map_remove(&executor->events_by_key, event->key);
        free(event);
        executor->event_first++;
    }
    if (executor->event_first == executor->event_count) {
        executor->event_first = executor->event_count = 0;
    } else if (executor->event_first > executor->event_count / 2) {
        size_t kept = executor->event_count - executor->event_first;
        memmove(executor->events, executor->events + executor->event_first, kept * sizeof *executor->events);
        executor->event_first = 0;
        executor->event_count = kept;
    }
}

/* Remembers an event; false when the same one went out recently. Out of
 * memory it says true: a duplicate event is better than a lost one. */
static bool event_is_new(struct executor *executor, const struct plan *plan, const struct action *action)
{
    uint64_t now = clock_now_ms(executor->options.clock);
    expire_events(executor, now);
    char *text = NULL;
    if (asprintf(&text, "%s/%s|%d|%s|%s", plan->namespace, plan->cluster, action->warning,
                 action->reason ? action->reason : "", action->message ? action->message : "") < 0)
        return true;
    bool seen = key_map_get(&executor->events_by_key, text) != NULL;
    size_t length = strlen(text);
    struct sent_event *event = seen ? NULL : malloc(sizeof *event + length + 1);
    if (event) {
        event->sent_ms = now;
        memcpy(event->key, text, length + 1);
    }
    free(text);
    if (!event) return !seen;
    if (executor->event_count == executor->event_capacity) {
        size_t capacity = executor->event_capacity ? executor->event_capacity * 2 : 32;
        struct sent_event **grown = realloc(executor->events, capacity * sizeof *grown);
        if (!grown) { free(event); return true; }
        executor->events = grown;
        executor->event_capacity = capacity;
    }
    if (key_map_put(&executor->events_by_key, event->key, event) != 0) { free(event); return true; }
    executor->events[executor->event_count++] = event;
    return true;
}

static cJSON *event_object(struct executor *executor, const struct plan *plan, const struct action *action)
{
    char now[40];
    int64_t wall = clock_wall_ms(executor->options.clock);
    leader_election_format_time(wall, now, sizeof now);
    now[19] = 'Z'; now[20] = '\0'; /* Events use seconds: "2026-11-21T20:15:00Z" */
    cJSON *event = cJSON_CreateObject();
    cJSON *metadata = cJSON_AddObjectToObject(event, "metadata");
    char name[300];
    snprintf(name, sizeof name, "%s.%llx%04x", plan->cluster, (unsigned long long)wall,
             (unsigned)(executor->event_sequence++ & 0xffff));
    cJSON_AddStringToObject(metadata, "name", name);
    cJSON_AddStringToObject(metadata, "namespace", plan->namespace);
    cJSON *involved = cJSON_AddObjectToObject(event, "involvedObject");
    cJSON_AddStringToObject(involved, "apiVersion", "pingcap.com/v1alpha1");
    cJSON_AddStringToObject(involved, "kind", "TidbCluster");
    cJSON_AddStringToObject(involved, "name", plan->cluster);
    cJSON_AddStringToObject(involved, "namespace", plan->namespace);
    cJSON_AddStringToObject(involved, "uid", plan->cluster_uid);
    cJSON_AddStringToObject(event, "reason", action->reason ? action->reason : "");
    cJSON_AddStringToObject(event, "message", action->message ? action->message : "");
    cJSON_AddStringToObject(event, "type", action->warning ? "Warning" : "Normal");
    cJSON *source = cJSON_AddObjectToObject(event, "source");
    cJSON_AddStringToObject(source, "component", executor->options.component);
    cJSON_AddStringToObject(event, "firstTimestamp", now);
    cJSON_AddStringToObject(event, "lastTimestamp", now);
    cJSON_AddNumberToObject(event, "count", 1);
    cJSON_AddStringToObject(event, "reportingComponent", executor->options.component);
    return event;
}

/* Starts one step; false when nothing was started (already counted). */
static bool start_step(struct executor *executor, struct step *step)
{
    struct action *action = step->action;
    struct plan *plan = &step->run->plan;
    struct kube_client *client = executor->options.client;
    const char *ns = plan->namespace;
    switch (action->kind) {
    case ACTION_CREATE:
        step->request = kube_client_create(client, action->resource, ns, action->body, on_kube_done, step);
        break;
    case ACTION_UPDATE:
        step->request = kube_client_update(client, action->resource, ns, action->name, action->body,
                                           on_kube_done, step);
        break;
    case ACTION_MERGE_PATCH:
        step->request = kube_client_patch(client, action->resource, ns, action->name, NULL,
                                          KUBE_PATCH_MERGE, action->body, on_kube_done, step);
        break;
    case ACTION_UPDATE_STATUS:
        step->request = kube_client_update_status(client, action->resource, ns, action->name,
                                                  action->body, on_kube_done, step);
        break;
    case ACTION_DELETE: {
        cJSON *options = cJSON_CreateObject();
        cJSON_AddStringToObject(options, "propagationPolicy", "Background");
        if (action->precondition_uid) {
            cJSON *preconditions = cJSON_AddObjectToObject(options, "preconditions");
            cJSON_AddStringToObject(preconditions, "uid", action->precondition_uid);
        }
        step->request = kube_client_delete(client, action->resource, ns, action->name, options,
                                           on_kube_done, step);
        cJSON_Delete(options);
        break;
    }
    case ACTION_EVENT: {
        if (!event_is_new(executor, plan, action)) {
            count(step, "benign", NULL);
            return false;
        }
        cJSON *event = event_object(executor, plan, action);
        if (event)
            step->request = kube_client_create(client, &kube_resource_events, ns, event, on_kube_done, step);
        cJSON_Delete(event);
        break;
    }
    default: {
        if (!kind_known(action->kind)) {
            count(step, "error", "unknown action kind");
            return false;
        }
        struct pd_client *pd = executor->options.pd_client_for
            ? executor->options.pd_client_for(executor->options.data, plan->namespace, plan->cluster)
            : NULL;
        if (!pd) {
            count(step, "error", "no PD client for the cluster");
            return false;
        }
        if (action->kind == ACTION_PD_DELETE_MEMBER)
            step->call = pd_client_delete_member(pd, action->member, on_pd_done, step);
        else if (action->kind == ACTION_PD_DELETE_STORE)
            step->call = pd_client_delete_store(pd, action->store_id, on_pd_done, step);
        else if (action->kind == ACTION_PD_ADD_EVICT_LEADER)
            step->call = pd_client_add_evict_leader(pd, action->store_id, on_pd_done, step);
        else if (action->kind == ACTION_PD_REMOVE_EVICT_LEADER)
            step->call = pd_client_remove_evict_leader(pd, action->store_id, on_pd_done, step);
        else if (action->kind == ACTION_PD_TRANSFER_LEADER)
            step->call = pd_client_transfer_leader(pd, action->member, on_pd_done, step);
        else if (action->kind == ACTION_PD_SET_STORE_UP)
            step->call = pd_client_set_store_up(pd, action->store_id, on_pd_done, step);
        else if (action->kind == ACTION_PD_REMOVE_TOMBSTONES)
            step->call = pd_client_remove_tombstones(pd, on_pd_done, step);
        else {
            count(step, "error", "this PD action is not supported by the client");
            return false;
        }
        break;
    }
    }
    if (!step->request && !step->call) {
        count(step, "error", "could not start the request");
        return false;
    }
    return true;
}

int executor_run(struct executor *executor, struct plan *plan, executor_done_fn done, void *data)
{
    struct run *run = calloc(1, sizeof *run);
    if (!run) {
        plan_free(plan);
        struct executor_result failed = { .failed = 1 };
        snprintf(failed.first_error, sizeof failed.first_error, "out of memory");
        if (done) done(&failed, data);
        return -ENOMEM;
    }
    run->executor = executor;
    run->plan = *plan;
    *plan = (struct plan){0};
    run->done = done;
    run->data = data;
    if (run->plan.incomplete || executor->closing) {
        run->result.incomplete = run->plan.incomplete;
        run->result.refused = !run->plan.incomplete && run->plan.count > 0;
        run->result.not_started = run->plan.count;
        finish_run_later(run);
        return 0;
    }
    if (run->plan.count && executor->options.may_write && !executor->options.may_write(executor->options.data)) {
        run->result.refused = true;
        run->result.not_started = run->plan.count;
        finish_run_later(run);
        return 0;
    }
    run->steps = calloc(run->plan.count ? run->plan.count : 1, sizeof *run->steps);
    if (!run->steps) {
        run->result.failed = 1;
        snprintf(run->result.first_error, sizeof run->result.first_error, "out of memory");
        finish_run_later(run);
        return 0;
    }
    /* Count every step as pending first, so no early completion finishes the run. */
    run->pending = run->plan.count + 1;
    fair_queue_flow_init(&run->flow);
    for (size_t i = 0; i < run->plan.count; i++) {
        struct step *step = &run->steps[i];
        step->run = run;
        step->action = &run->plan.actions[i];
        list_init(&step->in_flight);
        fair_queue_push(&executor->queue, &run->flow, &step->queued);
    }
    dispatch(executor);
    if (--run->pending == 0) finish_run_later(run);
    return 0;
}

/* Starts queued steps, round-robin by run, while the budget allows. The
 * lease is asked before each start: once it says no, nothing queued is
 * started. Not re-entered: a step that ends at once (a duplicate event, no
 * PD client) ends inside the loop below, which then goes on. */
static void dispatch(struct executor *executor)
{
    if (executor->dispatching) return;
    executor->dispatching = true;
    while (fair_queue_can_start(&executor->queue)) {
        if (executor->options.may_write && !executor->options.may_write(executor->options.data)) {
            drop_queued(executor);
            break;
        }
        struct fair_queue_item *item = fair_queue_next(&executor->queue);
        if (!item) break;
        struct step *step = list_entry(item, struct step, queued);
        list_insert_tail(&executor->in_flight, &step->in_flight);
        if (!start_step(executor, step)) step_done(step);
    }
    executor->dispatching = false;
}

void executor_cancel_all(struct executor *executor)
{
    drop_queued(executor);
    /* Cancelled requests still call back (from the loop), which unlinks them. */
    struct step *step;
    list_for_each_entry(step, &executor->in_flight, in_flight) {
        if (step->request) kube_request_cancel(step->request);
        if (step->call) pd_call_cancel(step->call);
    }
}

size_t executor_in_flight(const struct executor *executor) { return fair_queue_in_flight(&executor->queue); }

size_t executor_queued(const struct executor *executor) { return fair_queue_queued(&executor->queue); }

static void release(struct executor *executor)
{
    if (executor->collector_registered)
        metrics_unregister_collector(executor->options.metrics, collect_metrics, executor);
    for (size_t i = executor->event_first; i < executor->event_count; i++) free(executor->events[i]);
    free(executor->events);
    key_map_free(&executor->events_by_key);
    void (*closed)(void *) = executor->closed;
    void *closed_data = executor->closed_data;
    free(executor);
    if (closed) closed(closed_data);
}

static void on_finisher_closed(uv_handle_t *handle) { release(handle->data); }

static void on_finisher(uv_idle_t *idle)
{
    struct executor *executor = idle->data;
    uv_idle_stop(idle);
    while (executor->finished) {
        struct run *run = executor->finished;
        executor->finished = run->next_finished;
        if (run->result.failed)
            log_warn("actions failed", "cluster=%s/%s failed=%zu first_error=\"%s\"", run->plan.namespace,
                     run->plan.cluster, run->result.failed, run->result.first_error);
        if (run->done) run->done(&run->result, run->data);
        plan_free(&run->plan);
        free(run->steps);
        free(run);
    }
    if (executor->closing && list_empty(&executor->in_flight) && fair_queue_queued(&executor->queue) == 0 &&
        !uv_is_closing((uv_handle_t *)idle))
        uv_close((uv_handle_t *)idle, on_finisher_closed);
}

void executor_close(struct executor *executor, void (*closed)(void *data), void *data)
{
    executor->closing = true;
    executor->closed = closed;
    executor->closed_data = data;
    executor_cancel_all(executor);
    uv_idle_start(&executor->finisher, on_finisher);
}
