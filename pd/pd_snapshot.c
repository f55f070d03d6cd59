#include "pd/pd_snapshot.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/key_map.h"
#include "reactor/log.h"
#include "reactor/timer_heap.h"

#define DEFAULT_FAST_MS 2000
#define DEFAULT_SLOW_MS 30000

struct pd_snapshot {
    struct pd_snapshot_data data;
    struct pd_snapshots *owner;
    char *key;
    char *base_url;
    struct http_client_profile *profile; /* referenced, may be NULL */
    struct pd_client *client;
    struct timer_heap_entry entry;       /* next refresh */
    uint64_t last_refresh_ms;
    uint64_t attempt_started_ms[PD_PART_COUNT];
    bool again[PD_PART_COUNT];           /* refresh_now while in flight: run once more */
};

struct pd_snapshots {
    struct pd_snapshots_options options;
    uv_timer_t timer;
    struct timer_heap heap;
    struct key_map map;
    struct pd_metrics *metrics;
    void (*on_closed)(void *user_data);
    void *closed_data;
    bool closing;
};

/* --- what the planner reads: equality --------------------------------------- */

static bool text_same(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static const char *first(char *const *list, size_t count)
{
    return count > 0 ? list[0] : "";
}

static bool member_same(const struct pd_member *a, const struct pd_member *b)
{
    return a->member_id == b->member_id && text_same(a->name, b->name) &&
           text_same(first(a->client_urls, a->client_url_count), first(b->client_urls, b->client_url_count)) &&
           text_same(first(a->peer_urls, a->peer_url_count), first(b->peer_urls, b->peer_url_count));
}

static bool members_same(const struct pd_members *a, const struct pd_members *b)
{
    if (a->count != b->count || a->has_leader != b->has_leader || a->has_etcd_leader != b->has_etcd_leader)
        return false;
    if (a->has_leader && !member_same(&a->leader, &b->leader))
        return false;
    if (a->has_etcd_leader && !member_same(&a->etcd_leader, &b->etcd_leader))
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!member_same(&a->members[i], &b->members[i]))
            return false;
    return true;
}

static bool health_same(const struct pd_health *a, const struct pd_health *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const struct pd_health_entry *x = &a->entries[i], *y = &b->entries[i];
        if (x->member_id != y->member_id || x->health != y->health || !text_same(x->name, y->name) ||
            !text_same(x->client_url, y->client_url))
            return false;
    }
    return true;
}

/* Region counts, heartbeats and sizes move all the time: not compared. */
static bool store_same(const struct pd_store *a, const struct pd_store *b)
{
    return a->id == b->id && a->state == b->state && a->state_name == b->state_name &&
           a->leader_count == b->leader_count && a->is_tiflash == b->is_tiflash &&
           a->pause_leader_transfer_in == b->pause_leader_transfer_in && text_same(a->address, b->address) &&
           text_same(a->state_name_text, b->state_name_text);
}

static bool stores_same(const struct pd_stores *a, const struct pd_stores *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (!store_same(&a->stores[i], &b->stores[i]))
            return false;
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

static bool config_same(const struct pd_config *a, const struct pd_config *b)
{
    return a->max_replicas == b->max_replicas && a->max_store_down_time_ms == b->max_store_down_time_ms &&
           a->enable_placement_rules == b->enable_placement_rules &&
           text_same(a->location_labels, b->location_labels);
}

static int compare_store_ids(const void *a, const void *b)
{
    uint64_t x = ((const struct pd_store *)a)->id, y = ((const struct pd_store *)b)->id;
    return x < y ? -1 : x > y;
}

/* --- scheduling ------------------------------------------------------------- */

static uint64_t interval_of(const struct pd_snapshot *s)
{
    const struct pd_snapshots_options *o = &s->owner->options;
    return s->data.fast ? o->fast_interval_ms : o->slow_interval_ms;
}

static uint64_t now_ms(const struct pd_snapshots *r)
{
    return clock_now_ms(r->options.clock);
}

static void on_tick(uv_timer_t *timer);

static void arm(struct pd_snapshots *r)
{
    if (r->closing)
        return;
    struct timer_heap_entry *next = timer_heap_peek(&r->heap);
    if (next == NULL) {
        uv_timer_stop(&r->timer);
        return;
    }
    uint64_t now = now_ms(r);
    uv_timer_start(&r->timer, on_tick, next->due_ms > now ? next->due_ms - now : 0, 0);
}

static void part_start(struct pd_snapshot *s, enum pd_snapshot_part part);

static void refresh_start(struct pd_snapshot *s, bool rerun_in_flight)
{
    s->last_refresh_ms = now_ms(s->owner);
    s->data.refreshes++;
    for (int part = 0; part < PD_PART_COUNT; part++) {
        if (s->data.parts[part].in_flight) {
            if (rerun_in_flight)
                s->again[part] = true;
        } else {
            part_start(s, (enum pd_snapshot_part)part);
        }
    }
}

static void schedule_next(struct pd_snapshot *s, uint64_t due)
{
    struct pd_snapshots *r = s->owner;
    if (timer_heap_entry_pushed(&s->entry))
        timer_heap_update(&r->heap, &s->entry, due);
    else if (timer_heap_push(&r->heap, &s->entry, due) != 0)
        log_error("pd snapshot not scheduled", "cluster=%s reason=out_of_memory", s->key);
    arm(r);
}

static void on_tick(uv_timer_t *timer)
{
    struct pd_snapshots *r = timer->data;
    uint64_t now = now_ms(r);
    struct timer_heap_entry *entry;
    /* Each due snapshot is moved to its next time before the next peek, so
     * the loop ends; starting parts never calls back synchronously. */
    while ((entry = timer_heap_peek(&r->heap)) != NULL && entry->due_ms <= now) {
        struct pd_snapshot *s = (struct pd_snapshot *)((char *)entry - offsetof(struct pd_snapshot, entry));
        refresh_start(s, false);
        timer_heap_update(&r->heap, entry, now + interval_of(s));
    }
    arm(r);
}

/* --- parts ------------------------------------------------------------------ */

static void notify(struct pd_snapshot *s)
{
    struct pd_snapshots *r = s->owner;
    s->data.generation++;
    if (r->options.on_change == NULL)
        return;
    /* The callback may remove this snapshot: hand it a key of its own. */
    char *key = strdup(s->key);
    if (key == NULL)
        return;
    r->options.on_change(key, r->options.user_data);
    free(key);
}

/* Records the outcome of a part; returns whether its error state changed. */
static bool part_record(struct pd_snapshot *s, enum pd_snapshot_part part, const struct pd_error *error)
{
    struct pd_part_status *status = &s->data.parts[part];
    const struct clock *clock = s->owner->options.clock;
    bool changed;
    status->in_flight = false;
    status->last_attempt_ms = s->attempt_started_ms[part];
    if (error->kind == PD_ERROR_NONE) {
        changed = status->last_error.kind != PD_ERROR_NONE;
        pd_error_clear(&status->last_error);
        status->ever_succeeded = true;
        status->last_success_ms = clock_now_ms(clock);
        status->last_success_wall_ms = clock_wall_ms(clock);
        status->successes++;
    } else {
        changed = status->last_error.kind == PD_ERROR_NONE || !pd_error_same(&status->last_error, error);
        status->last_error = *error;
        status->failures++;
        log_debug("pd snapshot part failed", "cluster=%s part=%s kind=%s status=%ld error=\"%s\"", s->key,
                  pd_snapshot_part_name(part), pd_error_kind_name(error->kind), error->status,
                  error->message);
    }
    return changed;
}

/* The end of every part callback: rerun if asked, then tell the owner. The
 * snapshot may be gone after notify. */
static void part_done(struct pd_snapshot *s, enum pd_snapshot_part part, bool changed)
{
    if (s->again[part]) {
        s->again[part] = false;
        part_start(s, part);
    }
    if (changed)
        notify(s);
}

static void on_members(struct pd_call *call, const struct pd_error *error, struct pd_members *members,
                       void *user_data)
{
    (void)call;
    struct pd_snapshot *s = user_data;
    bool changed = false;
    if (error->kind == PD_ERROR_NONE) {
        changed = !members_same(&s->data.members, members);
        pd_members_free(&s->data.members);
        s->data.members = *members;
        memset(members, 0, sizeof *members);
    }
    changed |= part_record(s, PD_PART_MEMBERS, error);
    part_done(s, PD_PART_MEMBERS, changed);
}

static void on_health(struct pd_call *call, const struct pd_error *error, struct pd_health *health,
                      void *user_data)
{
    (void)call;
    struct pd_snapshot *s = user_data;
    bool changed = false;
    if (error->kind == PD_ERROR_NONE) {
        changed = !health_same(&s->data.health, health);
        pd_health_free(&s->data.health);
        s->data.health = *health;
        memset(health, 0, sizeof *health);
    }
    changed |= part_record(s, PD_PART_HEALTH, error);
    part_done(s, PD_PART_HEALTH, changed);
}

static void on_stores(struct pd_call *call, const struct pd_error *error, struct pd_stores *stores,
                      void *user_data)
{
    (void)call;
    struct pd_snapshot *s = user_data;
    struct pd_error outcome = *error;
    bool bootstrapped = true;
    if (error->kind == PD_ERROR_HTTP && error->reason == PD_REASON_NOT_BOOTSTRAPPED) {
        /* A valid answer: no stores yet. */
        bootstrapped = false;
        pd_error_clear(&outcome);
        pd_stores_free(stores);
    }
    bool changed = false;
    if (outcome.kind == PD_ERROR_NONE) {
        if (stores->count > 1)
            qsort(stores->stores, stores->count, sizeof *stores->stores, compare_store_ids);
        changed = !stores_same(&s->data.stores, stores) || s->data.bootstrapped != bootstrapped;
        pd_stores_free(&s->data.stores);
        s->data.stores = *stores;
        memset(stores, 0, sizeof *stores);
        s->data.bootstrapped = bootstrapped;
    }
    changed |= part_record(s, PD_PART_STORES, &outcome);
    part_done(s, PD_PART_STORES, changed);
}

static void on_schedulers(struct pd_call *call, const struct pd_error *error,
                          struct pd_schedulers *schedulers, void *user_data)
{
    (void)call;
    struct pd_snapshot *s = user_data;
    struct pd_error outcome = *error;
    if (error->kind == PD_ERROR_HTTP && error->reason == PD_REASON_NOT_BOOTSTRAPPED) {
        pd_error_clear(&outcome); /* no schedulers before bootstrap */
        pd_schedulers_free(schedulers);
    }
    bool changed = false;
    if (outcome.kind == PD_ERROR_NONE) {
        changed = !evictions_same(&s->data.schedulers, schedulers);
        pd_schedulers_free(&s->data.schedulers);
        s->data.schedulers = *schedulers;
        memset(schedulers, 0, sizeof *schedulers);
    }
    changed |= part_record(s, PD_PART_SCHEDULERS, &outcome);
    part_done(s, PD_PART_SCHEDULERS, changed);
}

static void on_config(struct pd_call *call, const struct pd_error *error, struct pd_config *config,
                      void *user_data)
{
    (void)call;
    struct pd_snapshot *s = user_data;
    bool changed = false;
    if (error->kind == PD_ERROR_NONE) {
        changed = !s->data.parts[PD_PART_CONFIG].ever_succeeded || !config_same(&s->data.config, config);
        pd_config_free(&s->data.config);
        s->data.config = *config;
        memset(config, 0, sizeof *config);
    }
    changed |= part_record(s, PD_PART_CONFIG, error);
    part_done(s, PD_PART_CONFIG, changed);
}

static void part_start(struct pd_snapshot *s, enum pd_snapshot_part part)
{
    struct pd_call *call = NULL;
    s->attempt_started_ms[part] = now_ms(s->owner);
    switch (part) {
    case PD_PART_MEMBERS: call = pd_client_get_members(s->client, on_members, s); break;
    case PD_PART_HEALTH: call = pd_client_get_health(s->client, on_health, s); break;
    case PD_PART_STORES: call = pd_client_get_stores(s->client, PD_STORES_ALL, on_stores, s); break;
    case PD_PART_SCHEDULERS: call = pd_client_get_schedulers(s->client, on_schedulers, s); break;
    case PD_PART_CONFIG: call = pd_client_get_config(s->client, on_config, s); break;
    case PD_PART_COUNT: break;
    }
    if (call != NULL) {
        s->data.parts[part].in_flight = true;
        return;
    }
    /* Not started (closing http client, no memory): recorded, retried on
     * the next tick. No notification from here: we may be inside add. */
    struct pd_error error;
    pd_error_clear(&error);
    error.kind = PD_ERROR_TRANSPORT;
    error.transport = HTTP_ERROR_INTERNAL;
    snprintf(error.message, sizeof error.message, "%s: the request could not be started",
             pd_snapshot_part_name(part));
    part_record(s, part, &error);
}

/* --- the registry ----------------------------------------------------------- */

struct pd_snapshots *pd_snapshots_create(const struct pd_snapshots_options *options)
{
    if (options == NULL || options->loop == NULL || options->http == NULL)
        return NULL;
    struct pd_snapshots *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->options = *options;
    if (r->options.clock == NULL)
        r->options.clock = clock_system();
    if (r->options.fast_interval_ms == 0)
        r->options.fast_interval_ms = DEFAULT_FAST_MS;
    if (r->options.slow_interval_ms == 0)
        r->options.slow_interval_ms = DEFAULT_SLOW_MS;
    if (r->options.call_timeout_ms == 0)
        r->options.call_timeout_ms = PD_CLIENT_DEFAULT_TIMEOUT_MS;
    if (uv_timer_init(options->loop, &r->timer) != 0) {
        free(r);
        return NULL;
    }
    r->timer.data = r;
    timer_heap_init(&r->heap);
    key_map_init(&r->map);
    if (options->metrics != NULL)
        r->metrics = pd_metrics_create(options->metrics); /* NULL: no metrics, not fatal */
    return r;
}

static void snapshot_free(struct pd_snapshot *s)
{
    struct pd_snapshots *r = s->owner;
    pd_client_close(s->client);
    if (timer_heap_entry_pushed(&s->entry))
        timer_heap_remove(&r->heap, &s->entry);
    pd_members_free(&s->data.members);
    pd_health_free(&s->data.health);
    pd_stores_free(&s->data.stores);
    pd_schedulers_free(&s->data.schedulers);
    pd_config_free(&s->data.config);
    if (s->profile != NULL)
        http_client_profile_unref(s->profile);
    free(s->base_url);
    free(s->key);
    free(s);
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct pd_snapshots *r = handle->data;
    void (*on_closed)(void *) = r->on_closed;
    void *data = r->closed_data;
    pd_metrics_free(r->metrics);
    free(r);
    if (on_closed != NULL)
        on_closed(data);
}

void pd_snapshots_close(struct pd_snapshots *r, void (*on_closed)(void *user_data), void *user_data)
{
    if (r == NULL || r->closing)
        return;
    r->closing = true;
    r->on_closed = on_closed;
    r->closed_data = user_data;
    size_t cursor = 0;
    struct pd_snapshot *s;
    /* The map must not change while iterating: free after emptying it. */
    while ((cursor = 0, s = key_map_next(&r->map, &cursor)) != NULL) {
        key_map_remove(&r->map, s->key);
        snapshot_free(s);
    }
    key_map_free(&r->map);
    timer_heap_free(&r->heap);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

static struct pd_client *client_for(struct pd_snapshots *r, const char *base_url,
                                    struct http_client_profile *profile)
{
    struct pd_client_options options = {
        .base_url = base_url,
        .profile = profile,
        .timeout_ms = r->options.call_timeout_ms,
        .metrics = r->metrics,
        .clock = r->options.clock,
    };
    return pd_client_create(r->options.http, &options);
}

struct pd_snapshot *pd_snapshots_add(struct pd_snapshots *r, const char *key, const char *base_url,
                                     struct http_client_profile *profile)
{
    if (r == NULL || r->closing || key == NULL || base_url == NULL)
        return NULL;
    struct pd_snapshot *s = key_map_get(&r->map, key);
    if (s != NULL) {
        if (strcmp(s->base_url, base_url) == 0 && s->profile == profile)
            return s;
        /* Moved (new URL or TLS): a new client, and what we knew is re-read. */
        char *url = strdup(base_url);
        struct pd_client *client = client_for(r, base_url, profile);
        if (url == NULL || client == NULL) {
            free(url);
            pd_client_close(client);
            return NULL;
        }
        pd_client_close(s->client);
        s->client = client;
        free(s->base_url);
        s->base_url = url;
        if (s->profile != NULL)
            http_client_profile_unref(s->profile);
        s->profile = profile != NULL ? http_client_profile_ref(profile) : NULL;
        for (int part = 0; part < PD_PART_COUNT; part++) {
            s->data.parts[part].in_flight = false;
            s->again[part] = false;
        }
        refresh_start(s, false);
        schedule_next(s, s->last_refresh_ms + interval_of(s));
        return s;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->owner = r;
    s->key = strdup(key);
    s->base_url = strdup(base_url);
    s->client = client_for(r, base_url, profile);
    if (s->key == NULL || s->base_url == NULL || s->client == NULL ||
        key_map_put(&r->map, s->key, s) != 0) {
        pd_client_close(s->client);
        free(s->key);
        free(s->base_url);
        free(s);
        return NULL;
    }
    s->profile = profile != NULL ? http_client_profile_ref(profile) : NULL;
    s->data.key = s->key;
    refresh_start(s, false);
    schedule_next(s, s->last_refresh_ms + interval_of(s));
    return s;
}

bool pd_snapshots_remove(struct pd_snapshots *r, const char *key)
{
    if (r == NULL || key == NULL)
        return false;
    struct pd_snapshot *s = key_map_remove(&r->map, key);
    if (s == NULL)
        return false;
    snapshot_free(s);
    arm(r);
    return true;
}

struct pd_snapshot *pd_snapshots_get(const struct pd_snapshots *r, const char *key)
{
    return r != NULL && key != NULL ? key_map_get(&r->map, key) : NULL;
}

size_t pd_snapshots_count(const struct pd_snapshots *r)
{
    return r != NULL ? key_map_count(&r->map) : 0;
}

struct pd_metrics *pd_snapshots_metrics(const struct pd_snapshots *r)
{
    return r != NULL ? r->metrics : NULL;
}

const struct pd_snapshot_data *pd_snapshot_data(const struct pd_snapshot *snapshot)
{
    return &snapshot->data;
}

struct pd_client *pd_snapshot_client(struct pd_snapshot *snapshot)
{
    return snapshot->client;
}

void pd_snapshot_set_fast(struct pd_snapshot *s, bool fast)
{
    if (s->data.fast == fast)
        return;
    s->data.fast = fast;
    uint64_t now = now_ms(s->owner);
    uint64_t due = s->last_refresh_ms + interval_of(s);
    schedule_next(s, due > now ? due : now);
}

void pd_snapshot_note_write(struct pd_snapshot *s)
{
    s->data.written_ms = now_ms(s->owner);
}

void pd_snapshot_refresh_now(struct pd_snapshot *s)
{
    refresh_start(s, true);
    schedule_next(s, s->last_refresh_ms + interval_of(s));
}
