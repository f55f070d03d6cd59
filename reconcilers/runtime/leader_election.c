#include "reconcilers/runtime/leader_election.h"

#include "reactor/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { PHASE_RUNNING, PHASE_RELEASING, PHASE_CLOSED };

struct leader_election {
    struct leader_election_options options;
    char *namespace, *name, *identity;
    uv_timer_t timer;
    uv_timer_t deadline;         /* armed while leading: fires when renewals stopped working */
    struct kube_request *in_flight;
    bool release_pending;
    bool release_retried;        /* a release refused with 409 was re-read once */
    int handles_open;            /* while closing */
    enum phase phase;
    bool leader;
    uint64_t last_renew_ms;      /* local time of the last successful write as leader */
    /* The record last seen and when it was observed (local clock). */
    cJSON *record;               /* the whole Lease object as read or written */
    char *record_fingerprint;    /* spec as text, to notice changes */
    uint64_t observed_ms;
    char *holder;
    uint64_t random_state;
    void (*closed)(void *data);
    void *closed_data;
    bool notify_started, notify_stopped, notify_holder;
    uv_idle_t notifier;
};

static void schedule(struct leader_election *election, uint64_t delay_ms);
static void try_acquire_or_renew(struct leader_election *election);

static uint64_t now_ms(const struct leader_election *election)
{
    return clock_now_ms(election->options.clock);
}

static uint64_t next_random(struct leader_election *election)
{
    uint64_t x = election->random_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    election->random_state = x;
    return x;
}

void leader_election_format_time(int64_t unix_ms, char *out, size_t size)
{
    clock_format_rfc3339(unix_ms, CLOCK_RFC3339_MICROS, out, size);
}

/* Callbacks are delivered from an idle pass so none runs inside our calls. */
static void on_notify(uv_idle_t *idle)
{
    struct leader_election *election = idle->data;
    uv_idle_stop(idle);
    const struct leader_election_options *o = &election->options;
    if (election->notify_holder) {
        election->notify_holder = false;
        if (o->on_new_leader) o->on_new_leader(election->holder ? election->holder : "", o->data);
    }
    if (election->notify_stopped) {
        election->notify_stopped = false;
        if (o->on_stopped_leading) o->on_stopped_leading(o->data);
    }
    if (election->notify_started) {
        election->notify_started = false;
        if (election->leader && o->on_started_leading) o->on_started_leading(o->data);
    }
}

static void notify(struct leader_election *election)
{
    if (election->phase != PHASE_CLOSED) uv_idle_start(&election->notifier, on_notify);
}

static void set_leader(struct leader_election *election, bool leader)
{
    if (election->leader == leader) return;
    election->leader = leader;
    if (leader) {
        log_info("became leader", "lease=%s/%s identity=%s", election->namespace, election->name,
                 election->identity);
        election->notify_started = true;
    } else {
        log_warn("stopped leading", "lease=%s/%s identity=%s", election->namespace, election->name,
                 election->identity);
        election->notify_stopped = true;
        election->notify_started = false;
    }
    notify(election);
}

static const char *spec_string(const cJSON *lease, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lease, "spec"), field);
    return cJSON_IsString(value) ? value->valuestring : "";
}

static long spec_number(const cJSON *lease, const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lease, "spec"), field);
    return cJSON_IsNumber(value) ? (long)value->valuedouble : 0;
}

/* Remembers `lease` (taken) as the record; a changed spec restarts the
 * local expiry clock. */
static void observe(struct leader_election *election, cJSON *lease)
{
    char *fingerprint = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(lease, "spec"));
    bool changed = !fingerprint || !election->record_fingerprint ||
                   strcmp(fingerprint, election->record_fingerprint) != 0;
    cJSON_Delete(election->record);
    election->record = lease;
    if (changed) {
        free(election->record_fingerprint);
        election->record_fingerprint = fingerprint;
        election->observed_ms = now_ms(election);
    } else {
        free(fingerprint);
    }
    const char *holder = spec_string(lease, "holderIdentity");
    if (!election->holder || strcmp(election->holder, holder) != 0) {
        free(election->holder);
        election->holder = strdup(holder);
        election->notify_holder = true;
        notify(election);
    }
}

static void forget_record(struct leader_election *election)
{
    cJSON_Delete(election->record);
    election->record = NULL;
    free(election->record_fingerprint);
    election->record_fingerprint = NULL;
}

/* The Lease we want to write: ours, renewed now. */
static cJSON *desired_lease(struct leader_election *election, bool release)
{
    const cJSON *old = election->record;
    cJSON *lease = old ? cJSON_Duplicate(old, true) : cJSON_CreateObject();
    if (!lease) return NULL;
    if (!old) {
        cJSON_AddStringToObject(lease, "apiVersion", "coordination.k8s.io/v1");
        cJSON_AddStringToObject(lease, "kind", "Lease");
        cJSON *metadata = cJSON_AddObjectToObject(lease, "metadata");
        cJSON_AddStringToObject(metadata, "name", election->name);
        cJSON_AddStringToObject(metadata, "namespace", election->namespace);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(lease, "status");
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(lease, "spec");
        spec = cJSON_AddObjectToObject(lease, "spec");
    }
    if (!spec) { cJSON_Delete(lease); return NULL; }
    char now_text[40];
    leader_election_format_time(clock_wall_ms(election->options.clock), now_text, sizeof now_text);
    const char *previous_holder = old ? spec_string(old, "holderIdentity") : "";
    bool taking_over = strcmp(previous_holder, election->identity) != 0;
    long transitions = old ? spec_number(old, "leaseTransitions") : 0;
    if (taking_over && old && previous_holder[0] != '\0') transitions++;
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "leaseDurationSeconds");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "renewTime");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "leaseTransitions");
    cJSON_AddStringToObject(spec, "holderIdentity", release ? "" : election->identity);
    cJSON_AddNumberToObject(spec, "leaseDurationSeconds",
                            release ? 1 : (double)(election->options.lease_duration_ms / 1000));
    if (taking_over || release || !cJSON_GetObjectItemCaseSensitive(spec, "acquireTime")) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "acquireTime");
        cJSON_AddStringToObject(spec, "acquireTime", now_text);
    }
    cJSON_AddStringToObject(spec, "renewTime", now_text);
    cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions);
    return lease;
}

static void finish_close(struct leader_election *election);
static void continue_release(struct leader_election *election);

static void step_down(struct leader_election *election)
{
    uv_timer_stop(&election->deadline);
    set_leader(election, false);
    forget_record(election);
}

/* Renewals have not succeeded for the renew deadline: stop leading now,
 * even while a renewal is still in flight, so no write happens after
 * another candidate may have taken over. */
static void on_deadline(uv_timer_t *timer)
{
    struct leader_election *election = timer->data;
    if (!election->leader) return;
    log_warn("could not renew the lease in time", "lease=%s/%s renew_deadline_ms=%llu",
             election->namespace, election->name,
             (unsigned long long)election->options.renew_deadline_ms);
    step_down(election);
    if (election->in_flight) kube_request_cancel(election->in_flight);
}

static void after_attempt(struct leader_election *election, bool wrote_as_leader)
{
    if (election->phase != PHASE_RUNNING) {
        continue_release(election);
        return;
    }
    uint64_t now = now_ms(election);
    if (wrote_as_leader) {
        election->last_renew_ms = now;
        uv_timer_start(&election->deadline, on_deadline, election->options.renew_deadline_ms, 0);
        set_leader(election, true);
        schedule(election, election->options.retry_period_ms);
        return;
    }
    if (election->leader && now - election->last_renew_ms >= election->options.renew_deadline_ms)
        step_down(election);
    /* A leader retries at once-ish (it has a deadline); candidates jitter. */
    uint64_t period = election->options.retry_period_ms;
    uint64_t delay = election->leader ? period / 4 : period + next_random(election) % (period * 12 / 10 + 1);
    schedule(election, delay);
}

static void on_written(struct kube_result *result, void *data)
{
    struct leader_election *election = data;
    election->in_flight = NULL;
    if (election->phase != PHASE_RUNNING) {
        /* A renewal that landed while closing: release from its record. */
        if (result->ok && cJSON_IsObject(result->object)) {
            observe(election, result->object);
            result->object = NULL;
        }
        continue_release(election);
        return;
    }
    if (result->ok && result->object) {
        cJSON *lease = result->object;
        result->object = NULL;
        observe(election, lease);
        after_attempt(election, true);
        return;
    }
    /* 409: someone else wrote first; re-read on the next pass. */
    log_debug("lease write failed", "lease=%s/%s code=%ld", election->namespace, election->name,
              result->status);
    forget_record(election);
    after_attempt(election, false);
}

static void write_lease(struct leader_election *election, bool create)
{
    cJSON *lease = desired_lease(election, false);
    if (!lease) { after_attempt(election, false); return; }
    if (create)
        election->in_flight = kube_client_create(election->options.client, &kube_resource_leases,
                                                 election->namespace, lease, on_written, election);
    else
        election->in_flight = kube_client_update(election->options.client, &kube_resource_leases,
                                                 election->namespace, election->name, lease,
                                                 on_written, election);
    cJSON_Delete(lease);
    if (!election->in_flight) after_attempt(election, false);
}

static void on_read(struct kube_result *result, void *data)
{
    struct leader_election *election = data;
    election->in_flight = NULL;
    if (election->phase != PHASE_RUNNING) { continue_release(election); return; }
    if (!result->ok) {
        if (result->status == 404) {
            forget_record(election);
            write_lease(election, true);
            return;
        }
        log_warn("lease read failed", "lease=%s/%s code=%ld message=\"%s\"", election->namespace,
                 election->name, result->status, result->error.message ? result->error.message : "");
        after_attempt(election, false);
        return;
    }
    if (!cJSON_IsObject(result->object)) { after_attempt(election, false); return; }
    cJSON *lease = result->object;
    result->object = NULL;
    observe(election, lease);
    const char *holder = spec_string(lease, "holderIdentity");
    long duration_seconds = spec_number(lease, "leaseDurationSeconds");
    uint64_t now = now_ms(election);
    bool ours = strcmp(holder, election->identity) == 0;
    bool expired = holder[0] == '\0' ||
                   election->observed_ms + (uint64_t)(duration_seconds > 0 ? duration_seconds : 0) * 1000 <= now;
    if (!ours && !expired) {
        if (election->leader) step_down(election);
        after_attempt(election, false);
        return;
    }
    write_lease(election, false);
}

static void try_acquire_or_renew(struct leader_election *election)
{
    if (election->in_flight || election->phase != PHASE_RUNNING) return;
    /* Fast path: a leader whose record is current renews without a read. */
    if (election->leader && election->record) {
        write_lease(election, false);
        return;
    }
    election->in_flight = kube_client_get(election->options.client, &kube_resource_leases,
                                          election->namespace, election->name, on_read, election);
    if (!election->in_flight) after_attempt(election, false);
}

static void on_timer(uv_timer_t *timer)
{
    try_acquire_or_renew(timer->data);
}

static void schedule(struct leader_election *election, uint64_t delay_ms)
{
    if (election->phase == PHASE_RUNNING) uv_timer_start(&election->timer, on_timer, delay_ms, 0);
}

int leader_election_start(const struct leader_election_options *options,
                          struct leader_election **out)
{
    *out = NULL;
    if (!options || !options->loop || !options->client || !options->namespace || !options->name ||
        !options->identity || !options->identity[0])
        return -EINVAL;
    struct leader_election *election = calloc(1, sizeof *election);
    if (!election) return -ENOMEM;
    election->options = *options;
    struct leader_election_options *o = &election->options;
    if (!o->clock) o->clock = clock_system();
    if (!o->lease_duration_ms) o->lease_duration_ms = 15000;
    if (!o->renew_deadline_ms) o->renew_deadline_ms = 10000;
    if (!o->retry_period_ms) o->retry_period_ms = 2000;
    if (!(o->lease_duration_ms > o->renew_deadline_ms &&
          o->renew_deadline_ms * 10 > o->retry_period_ms * 12) || o->lease_duration_ms < 1000) {
        free(election);
        return -EINVAL;
    }
    election->namespace = strdup(options->namespace);
    election->name = strdup(options->name);
    election->identity = strdup(options->identity);
    if (!election->namespace || !election->name || !election->identity) {
        free(election->namespace); free(election->name); free(election->identity);
        free(election);
        return -ENOMEM;
    }
    election->random_state = o->random_seed ? o->random_seed : clock_now_ms(o->clock) * 2654435761u + 1;
    uv_timer_init(o->loop, &election->timer);
    uv_timer_init(o->loop, &election->deadline);
    uv_idle_init(o->loop, &election->notifier);
    election->timer.data = election->deadline.data = election->notifier.data = election;
    schedule(election, 0);
    *out = election;
    return 0;
}

bool leader_election_is_leader(const struct leader_election *election)
{
    return election && election->leader;
}

const char *leader_election_holder(const struct leader_election *election)
{
    return election && election->holder ? election->holder : "";
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct leader_election *election = handle->data;
    if (--election->handles_open > 0) return;
    void (*closed)(void *) = election->closed;
    void *closed_data = election->closed_data;
    forget_record(election);
    free(election->holder);
    free(election->namespace);
    free(election->name);
    free(election->identity);
    free(election);
    if (closed) closed(closed_data);
}

static void finish_close(struct leader_election *election)
{
    if (election->phase == PHASE_CLOSED) return;
    election->phase = PHASE_CLOSED;
    election->handles_open = 3;
    uv_close((uv_handle_t *)&election->timer, on_handle_closed);
    uv_close((uv_handle_t *)&election->deadline, on_handle_closed);
    uv_close((uv_handle_t *)&election->notifier, on_handle_closed);
}

static void on_release_reread(struct kube_result *result, void *data)
{
    struct leader_election *election = data;
    election->in_flight = NULL;
    /* Release only a lease that still names us. */
    if (result->ok && cJSON_IsObject(result->object) &&
        strcmp(spec_string(result->object, "holderIdentity"), election->identity) == 0) {
        observe(election, result->object);
        result->object = NULL;
        election->release_pending = true;
    }
    continue_release(election);
}

static void on_released(struct kube_result *result, void *data)
{
    struct leader_election *election = data;
    election->in_flight = NULL;
    if (result->status == 409 && !election->release_retried) {
        /* A renewal cancelled by the close may have landed: read and retry once. */
        election->release_retried = true;
        election->in_flight = kube_client_get(election->options.client, &kube_resource_leases,
                                              election->namespace, election->name,
                                              on_release_reread, election);
        if (election->in_flight) return;
    }
    if (!result->ok)
        log_warn("lease release failed", "lease=%s/%s code=%ld message=\"%s\"", election->namespace,
                 election->name, result->status, result->error.message ? result->error.message : "");
    else
        log_info("lease released", "lease=%s/%s identity=%s", election->namespace, election->name,
                 election->identity);
    continue_release(election);
}

/* Closing: wait for the request in flight, send the release if one is due,
 * then close the handles. */
static void continue_release(struct leader_election *election)
{
    if (election->in_flight || election->phase == PHASE_CLOSED) return;
    if (election->release_pending && election->record) {
        election->release_pending = false;
        cJSON *release = desired_lease(election, true);
        if (release) {
            election->in_flight = kube_client_update(election->options.client, &kube_resource_leases,
                                                     election->namespace, election->name, release,
                                                     on_released, election);
            cJSON_Delete(release);
            if (election->in_flight) return;
        }
    }
    finish_close(election);
}

void leader_election_close(struct leader_election *election, void (*closed)(void *data), void *data)
{
    election->closed = closed;
    election->closed_data = data;
    election->phase = PHASE_RELEASING;
    uv_timer_stop(&election->timer);
    uv_timer_stop(&election->deadline);
    uv_idle_stop(&election->notifier);
    if (election->leader) {
        election->leader = false;
        election->release_pending = true;
        const struct leader_election_options *o = &election->options;
        if (o->on_stopped_leading) o->on_stopped_leading(o->data);
    }
    /* A request in flight may retry for long against an unreachable server:
     * cancel it; its callback continues the release (which re-reads the lease
     * once if the cancelled renewal had landed and made it stale). */
    if (election->in_flight) {
        kube_request_cancel(election->in_flight);
        return;
    }
    continue_release(election);
}
