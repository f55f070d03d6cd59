#include "watchers/informer.h"

#include "reactor/json_arena.h"
#include "reactor/log.h"
#include "watchers/line_framer.h"
#include "watchers/list_framer.h"
#include "watchers/watch_event.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TWO_MINUTES_MS (120u * 1000u)
#define SHORT_WATCH_MS 1000u

enum informer_state {
    INFORMER_IDLE,      /* not started */
    INFORMER_LISTING,   /* a list page request in flight */
    INFORMER_WATCHING,  /* a watch stream in flight */
    INFORMER_WAITING,   /* the timer is armed for the next step */
    INFORMER_CLOSING,
};

enum next_step {
    STEP_LIST,  /* a new list */
    STEP_WATCH,
    STEP_PAGE,  /* the current page of the list, asked again */
};

struct list_page;

struct informer {
    uv_loop_t *loop;
    struct kube_client *client;
    const struct kube_resource *resource;
    const struct object_kind *kind;
    struct string_pool *pool;
    const struct clock *clock;
    char *namespace;
    char *label_selector;
    char *field_selector;
    size_t page_size;
    uint64_t backoff_initial_ms;
    uint64_t backoff_max_ms;
    unsigned watch_timeout_min_s;
    unsigned watch_timeout_max_s;
    uint64_t rng;
    size_t max_event_bytes;

    struct cache cache;
    struct informer_handlers handlers[INFORMER_MAX_HANDLERS];
    size_t handler_count;

    enum informer_state state;
    bool synced;
    char *last_rv;                /* "" before the first list */
    struct kube_request *request; /* the watch in flight */
    uv_timer_t timer;
    uv_idle_t idle;               /* decodes list pages (see listing) */
    bool decoding;                /* idle started */
    enum next_step next;
    uint64_t backoff_ms;          /* the next failure's base delay */
    uint64_t last_failure_ms;
    bool has_failed;

    /* Listing. */
    bool list_not_older_than;     /* this list asks for RV >= last_rv */
    struct list_page *page;       /* the page to take next (its request may be done) */
    struct list_page *ahead;      /* the page after it, asked for early */
    size_t abandoned_pages;       /* dropped pages whose requests have not called back */
    char *list_rv;                /* the first page's resourceVersion */
    struct object_meta **staged;  /* objects of the pages taken so far, in order */
    size_t staged_count;
    size_t staged_capacity;
    struct json_arena arena;      /* the tree of the item being decoded */

    /* Watching. */
    struct line_framer framer;
    uint64_t watch_started_ms;
    uint64_t watch_events;        /* events (bookmarks included) on this stream */
    bool stream_failed;           /* we dropped it: bad event */
    bool stream_gone;             /* ERROR 410 on it */
    bool stream_error;            /* other ERROR event on it */

    void (*closed)(void *data);
    void *closed_data;
    int open_handles;             /* timer and idle, until closed */
    struct informer_stats stats;
};

static uint64_t next_random(struct informer *informer)
{
    informer->rng ^= informer->rng >> 12;
    informer->rng ^= informer->rng << 25;
    informer->rng ^= informer->rng >> 27;
    return informer->rng * 0x2545F4914F6CDD1Dull;
}

static char *dup_option(const char *text, bool *ok)
{
    if (text == NULL || text[0] == '\0')
        return NULL;
    char *copy = strdup(text);
    if (copy == NULL)
        *ok = false;
    return copy;
}

int informer_new(const struct informer_options *options, struct informer **out)
{
    *out = NULL;
    if (options == NULL || options->loop == NULL || options->client == NULL ||
        options->resource == NULL || options->kind == NULL || options->pool == NULL)
        return -EINVAL;
    struct informer *informer = calloc(1, sizeof *informer);
    if (informer == NULL)
        return -ENOMEM;
    bool ok = true;
    informer->loop = options->loop;
    informer->client = options->client;
    informer->resource = options->resource;
    informer->kind = options->kind;
    informer->pool = options->pool;
    informer->clock = options->clock ? options->clock : clock_system();
    informer->namespace = dup_option(options->namespace, &ok);
    informer->label_selector = dup_option(options->label_selector, &ok);
    informer->field_selector = dup_option(options->field_selector, &ok);
    informer->last_rv = strdup("");
    informer->page_size = options->page_size ? options->page_size : 500;
    informer->backoff_initial_ms = options->backoff_initial_ms ? options->backoff_initial_ms : 800;
    informer->backoff_max_ms = options->backoff_max_ms ? options->backoff_max_ms : 30000;
    informer->backoff_ms = informer->backoff_initial_ms;
    informer->watch_timeout_min_s = options->watch_timeout_min_s ? options->watch_timeout_min_s
                                                                 : 300;
    informer->watch_timeout_max_s = options->watch_timeout_max_s ? options->watch_timeout_max_s
                                                                 : 600;
    if (informer->watch_timeout_max_s <= informer->watch_timeout_min_s)
        informer->watch_timeout_max_s = informer->watch_timeout_min_s + 1;
    informer->max_event_bytes = options->max_event_bytes;
    informer->rng = options->random_seed ? options->random_seed
                                         : (uint64_t)uv_hrtime() ^ (uint64_t)(uintptr_t)informer;
    if (informer->rng == 0)
        informer->rng = 0x9E3779B97F4A7C15ull;
    cache_init(&informer->cache, options->kind, options->pool);
    line_framer_init(&informer->framer, options->max_event_bytes);
    /* (uv_timer_init and uv_idle_init cannot fail for a valid loop.) */
    if (!ok || informer->last_rv == NULL || uv_timer_init(options->loop, &informer->timer) != 0 ||
        uv_idle_init(options->loop, &informer->idle) != 0) {
        free(informer->namespace);
        free(informer->label_selector);
        free(informer->field_selector);
        free(informer->last_rv);
        line_framer_free(&informer->framer);
        cache_free(&informer->cache);
        free(informer);
        return -ENOMEM;
    }
    informer->timer.data = informer;
    informer->idle.data = informer;
    informer->open_handles = 2;
    *out = informer;
    return 0;
}

int informer_add_handlers(struct informer *informer, const struct informer_handlers *handlers)
{
    if (handlers == NULL)
        return -EINVAL;
    if (informer->handler_count == INFORMER_MAX_HANDLERS)
        return -ENOSPC;
    informer->handlers[informer->handler_count++] = *handlers;
    return 0;
}

bool informer_synced(const struct informer *informer)
{
    return informer->synced;
}

bool informers_synced(struct informer *const *informers, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (informers[i] == NULL || !informers[i]->synced)
            return false;
    return true;
}

const struct cache *informer_cache(const struct informer *informer)
{
    return &informer->cache;
}

const char *informer_resource_version(const struct informer *informer)
{
    return informer->last_rv;
}

void informer_get_stats(const struct informer *informer, struct informer_stats *out)
{
    *out = informer->stats;
}

static void set_last_rv(struct informer *informer, const char *rv)
{
    if (rv == NULL || strcmp(rv, informer->last_rv) == 0)
        return;
    char *copy = strdup(rv);
    if (copy == NULL)
        return; /* keeping the older RV only means replaying more */
    free(informer->last_rv);
    informer->last_rv = copy;
}

/* --- handlers ------------------------------------------------------------------------ */

static void emit_add(struct informer *informer, const struct object_meta *object)
{
    informer->stats.adds++;
    for (size_t i = 0; i < informer->handler_count && informer->state != INFORMER_CLOSING; i++)
        if (informer->handlers[i].on_add != NULL)
            informer->handlers[i].on_add(informer->handlers[i].data, object);
}

static void emit_update(struct informer *informer, const struct object_meta *old,
                        const struct object_meta *now)
{
    informer->stats.updates++;
    for (size_t i = 0; i < informer->handler_count && informer->state != INFORMER_CLOSING; i++)
        if (informer->handlers[i].on_update != NULL)
            informer->handlers[i].on_update(informer->handlers[i].data, old, now);
}

static void emit_delete(struct informer *informer, const struct object_meta *object)
{
    informer->stats.deletes++;
    for (size_t i = 0; i < informer->handler_count && informer->state != INFORMER_CLOSING; i++)
        if (informer->handlers[i].on_delete != NULL)
            informer->handlers[i].on_delete(informer->handlers[i].data, object);
}

/* Puts a new projection into the cache (taking it) and tells the handlers.
 * False only on allocation failure (the object is then freed). */
static bool apply_upsert(struct informer *informer, struct object_meta *object)
{
    const struct object_meta *cached = cache_get(&informer->cache, object->key);
    if (cached != NULL && object_rv_compare(object, cached) < 0) {
        informer->stats.backwards++;
        object_free(informer->kind, object, informer->pool);
        return true;
    }
    struct object_meta *old = NULL;
    if (cache_put(&informer->cache, object, &old) != 0) {
        object_free(informer->kind, object, informer->pool);
        return false;
    }
    if (old == NULL)
        emit_add(informer, object);
    else if (!object_same(informer->kind, old, object))
        emit_update(informer, old, object);
    else
        informer->stats.unchanged++;
    object_free(informer->kind, old, informer->pool);
    return true;
}

static void apply_delete(struct informer *informer, const struct object_meta *gone)
{
    const struct object_meta *cached = cache_get(&informer->cache, gone->key);
    if (cached == NULL)
        return;
    if (object_rv_compare(gone, cached) < 0) {
        informer->stats.backwards++;
        return;
    }
    struct object_meta *old = cache_remove(&informer->cache, gone->key);
    emit_delete(informer, old);
    object_free(informer->kind, old, informer->pool);
}

/* --- scheduling ------------------------------------------------------------------------ */

static void start_list(struct informer *informer);
static void request_page(struct informer *informer);
static void start_watch(struct informer *informer);
static void maybe_free(struct informer *informer);

static void on_timer(uv_timer_t *timer)
{
    struct informer *informer = timer->data;
    if (informer->state != INFORMER_WAITING)
        return;
    if (informer->next == STEP_WATCH)
        start_watch(informer);
    else if (informer->next == STEP_PAGE && informer->page != NULL)
        request_page(informer);
    else
        start_list(informer);
}

static void run_after(struct informer *informer, enum next_step step, uint64_t delay_ms)
{
    informer->state = INFORMER_WAITING;
    informer->next = step;
    uv_timer_start(&informer->timer, on_timer, delay_ms, 0);
}

/* A failure: wait the jittered backoff, then take `step`. */
static void back_off(struct informer *informer, enum next_step step, uint64_t at_least_ms)
{
    uint64_t now = clock_now_ms(informer->clock);
    if (informer->has_failed && now - informer->last_failure_ms > TWO_MINUTES_MS)
        informer->backoff_ms = informer->backoff_initial_ms;
    informer->has_failed = true;
    informer->last_failure_ms = now;
    uint64_t base = informer->backoff_ms;
    uint64_t delay = base / 2 + next_random(informer) % (base > 0 ? base : 1);
    if (delay < at_least_ms)
        delay = at_least_ms;
    informer->backoff_ms = base * 2 < informer->backoff_max_ms ? base * 2 : informer->backoff_max_ms;
    informer->stats.failures++;
    run_after(informer, step, delay);
}

/* --- listing ------------------------------------------------------------------------------ */

/*
 * A list is fetched page by page, each page streamed: its body goes through
 * a list_framer, each item is parsed alone (cJSON) and projected at once,
 * and the page's `continue` token, which the server sends before the items,
 * starts the next page's request while this one is still being read (at
 * most one page ahead). Pages are taken strictly in order: a page's outcome
 * (its items, its failure) counts only once every page before it has
 * completed, and a failing page drops the one ahead.
 *
 * Body bytes are not decoded where they arrive: libcurl hands over all that
 * the socket holds (up to ~1.6 MB) in one go, and decoding that inline would
 * keep the loop from sending the next page's request until this page is
 * done. They are queued on the page and decoded from an idle handle,
 * PARSE_SLICE bytes per loop turn, the current page first.
 *
 * Streamed requests are not retried by the kube_client, so a streamed page
 * that fails the way the client would retry (429, 5xx, connection lost) is
 * asked again as a plain list request, which then gets the client's
 * retries; anything else fails the list as a plain list request would.
 */

enum page_outcome {
    PAGE_RUNNING,    /* not settled: the request goes on, or bytes wait to be decoded */
    PAGE_OK,         /* a complete body */
    PAGE_BROKEN,     /* a body that is not a list (undecodable, truncated) */
    PAGE_FAILED,     /* no body: `error` says why */
    PAGE_NO_MEMORY,
};

struct list_page {
    struct informer *informer;
    struct kube_request *request; /* NULL once its callback came */
    bool abandoned;               /* no longer wanted: freed when its callback comes */
    bool buffered;                /* a plain list request (the kube_client retries it) */
    char *token;                  /* the continue token asked with; NULL: the first page */
    struct list_framer framer;
    struct object_meta **objects; /* projected items, in order */
    size_t count;
    size_t capacity;
    bool metadata_seen;
    bool items_seen;
    bool bad_items;               /* "items" neither an array nor null */
    char *rv;                     /* metadata.resourceVersion */
    char *next;                   /* metadata.continue */
    const char *broken;           /* why the body is not a list */
    bool no_memory;
    struct buffer pending;        /* body bytes received, not yet decoded ... */
    size_t decoded;               /* ... from this offset */
    bool ended;                   /* the request has ended: end_ok or error */
    bool end_ok;                  /* with the whole body */
    enum page_outcome outcome;    /* settled once ended and every byte decoded */
    struct kube_error error;      /* PAGE_FAILED */
};

/* A streamed page that receives nothing for this long has a dead connection. */
#define PAGE_IDLE_MS 30000u
/* Before a failed streamed page is asked again, when the server did not
 * say (Retry-After): the kube_client's default first retry delay. */
#define PAGE_RETRY_MS 250u
/* Bytes decoded per loop turn (about a millisecond of work). */
#define PARSE_SLICE (64u << 10)
/* Bytes a page may have waiting to be decoded (the http client's default
 * limit for a buffered body). */
#define MAX_PENDING (64u << 20)

static struct list_page *page_new(struct informer *informer, const char *token)
{
    struct list_page *page = calloc(1, sizeof *page);
    if (page == NULL)
        return NULL;
    page->informer = informer;
    if (token != NULL && (page->token = strdup(token)) == NULL) {
        free(page);
        return NULL;
    }
    list_framer_init(&page->framer, informer->max_event_bytes);
    return page;
}

/* Forgets what the page received (it is to be asked again). */
static void page_clear(struct list_page *page)
{
    struct informer *informer = page->informer;
    for (size_t i = 0; i < page->count; i++)
        object_free(informer->kind, page->objects[i], informer->pool);
    free(page->objects);
    page->objects = NULL;
    page->count = page->capacity = 0;
    page->metadata_seen = page->items_seen = page->bad_items = page->no_memory = false;
    free(page->rv);
    free(page->next);
    page->rv = page->next = NULL;
    page->broken = NULL;
    buffer_free(&page->pending);
    page->decoded = 0;
    page->ended = page->end_ok = false;
    page->outcome = PAGE_RUNNING;
    kube_error_clear(&page->error);
    list_framer_reset(&page->framer);
}

static void page_free(struct list_page *page)
{
    if (page == NULL)
        return;
    page_clear(page);
    list_framer_free(&page->framer);
    free(page->token);
    free(page);
}

/* Lets go of a page: at once when its request has ended, else once its
 * (cancelled) request calls back. */
static void page_abandon(struct list_page *page)
{
    if (page == NULL)
        return;
    if (page->request == NULL) {
        page_free(page);
        return;
    }
    page->abandoned = true;
    page->informer->abandoned_pages++;
    kube_request_cancel(page->request);
}

static void drop_staged(struct informer *informer)
{
    for (size_t i = 0; i < informer->staged_count; i++)
        object_free(informer->kind, informer->staged[i], informer->pool);
    free(informer->staged);
    informer->staged = NULL;
    informer->staged_count = informer->staged_capacity = 0;
    page_abandon(informer->page);
    page_abandon(informer->ahead);
    informer->page = informer->ahead = NULL;
    free(informer->list_rv);
    informer->list_rv = NULL;
    json_arena_free(&informer->arena);
}

/* Appends a completed page's objects to the staged ones (taking them). */
static bool stage_page(struct informer *informer, struct list_page *page)
{
    if (page->count == 0)
        return true;
    if (informer->staged_count == 0 && informer->staged == NULL) {
        informer->staged = page->objects;
        informer->staged_count = page->count;
        informer->staged_capacity = page->capacity;
    } else {
        if (informer->staged_capacity - informer->staged_count < page->count) {
            size_t capacity = informer->staged_capacity * 2;
            if (capacity < informer->staged_count + page->count)
                capacity = informer->staged_count + page->count;
            struct object_meta **staged = realloc(informer->staged, capacity * sizeof *staged);
            if (staged == NULL)
                return false;
            informer->staged = staged;
            informer->staged_capacity = capacity;
        }
        memcpy(informer->staged + informer->staged_count, page->objects,
               page->count * sizeof *page->objects);
        informer->staged_count += page->count;
        free(page->objects);
    }
    page->objects = NULL;
    page->count = page->capacity = 0;
    return true;
}

/* The list is complete: make the cache equal to it. */
static bool replace_cache(struct informer *informer)
{
    struct key_map listed;
    key_map_init(&listed);
    bool ok = true;
    for (size_t i = 0; i < informer->staged_count && ok; i++)
        ok = key_map_put(&listed, informer->staged[i]->key, informer->staged[i]) == 0;
    if (!ok) {
        key_map_free(&listed);
        return false;
    }
    /* Deletions first, while the staged keys are still the staged objects'. */
    size_t doomed_count = 0, cursor = 0;
    const char **doomed = NULL;
    if (cache_count(&informer->cache) > 0) {
        doomed = calloc(cache_count(&informer->cache), sizeof *doomed);
        if (doomed == NULL) {
            key_map_free(&listed);
            return false;
        }
        const struct object_meta *cached;
        while ((cached = cache_next(&informer->cache, &cursor)) != NULL)
            if (key_map_get(&listed, cached->key) == NULL)
                doomed[doomed_count++] = cached->key;
    }
    key_map_free(&listed);
    for (size_t i = 0; i < doomed_count && informer->state != INFORMER_CLOSING; i++) {
        struct object_meta *old = cache_remove(&informer->cache, doomed[i]);
        emit_delete(informer, old);
        object_free(informer->kind, old, informer->pool);
    }
    free((void *)doomed);
    size_t i = 0;
    for (; i < informer->staged_count && informer->state != INFORMER_CLOSING; i++) {
        struct object_meta *object = informer->staged[i];
        informer->staged[i] = NULL;
        if (!apply_upsert(informer, object))
            ok = false;
    }
    return ok;
}

/* --- a page's body --- */

/* Parses exactly `length` bytes as one JSON value into the informer's
 * arena (dropping the previous tree: one item is decoded at a time, and
 * object_project copies what it keeps); NULL when they are not one value,
 * or out of memory (*no_memory). */
static const cJSON *parse_exact(struct informer *informer, const char *text, size_t length,
                                bool *no_memory)
{
    json_arena_reset(&informer->arena);
    struct json_arena_result result;
    const cJSON *value = json_arena_parse(&informer->arena, text, length, &result);
    *no_memory = result.status == JSON_ARENA_NO_MEMORY;
    return value;
}

static void maybe_start_ahead(struct informer *informer);

static bool page_member(void *data, const char *key, const char *text, size_t length)
{
    struct list_page *page = data;
    bool no_memory;
    const cJSON *value = parse_exact(page->informer, text, length, &no_memory);
    if (value == NULL) {
        page->no_memory = no_memory;
        page->broken = no_memory ? NULL : "undecodable list";
        return false;
    }
    if (strcmp(key, "metadata") == 0 && !page->metadata_seen) {
        page->metadata_seen = true;
        if (cJSON_IsObject(value)) {
            const cJSON *rv = cJSON_GetObjectItemCaseSensitive(value, "resourceVersion");
            const cJSON *next = cJSON_GetObjectItemCaseSensitive(value, "continue");
            if ((cJSON_IsString(rv) && (page->rv = strdup(rv->valuestring)) == NULL) ||
                (cJSON_IsString(next) && (page->next = strdup(next->valuestring)) == NULL)) {
                page->no_memory = true;
                return false;
            }
        }
        /* The next page's token is known before this page's items: ask for it now. */
        if (page == page->informer->page)
            maybe_start_ahead(page->informer);
        return true;
    }
    if (strcmp(key, "items") == 0 && !page->items_seen) {
        /* Not an array (those go to page_item): only null means "none". */
        page->items_seen = true;
        page->bad_items = !cJSON_IsNull(value);
    }
    return true;
}

static bool page_item(void *data, const char *text, size_t length)
{
    struct list_page *page = data;
    struct informer *informer = page->informer;
    page->items_seen = true;
    bool no_memory;
    const cJSON *item = parse_exact(informer, text, length, &no_memory);
    if (item == NULL) {
        page->no_memory = no_memory;
        page->broken = no_memory ? NULL : "undecodable item";
        return false;
    }
    char reason[160];
    struct object_meta *object = object_project(informer->kind, item, informer->pool, reason,
                                                sizeof reason);
    if (object == NULL) {
        /* One bad item must not block the rest of the cache. */
        informer->stats.bad_events++;
        log_warn("cannot cache listed object", "resource=%s error=\"%s\"",
                 informer->resource->plural, reason);
        return true;
    }
    if (page->count == page->capacity) {
        size_t capacity = page->capacity ? page->capacity * 2 : 64;
        struct object_meta **objects = realloc(page->objects, capacity * sizeof *objects);
        if (objects == NULL) {
            object_free(informer->kind, object, informer->pool);
            page->no_memory = true;
            return false;
        }
        page->objects = objects;
        page->capacity = capacity;
    }
    page->objects[page->count++] = object;
    return true;
}

/* Body bytes of the page, in order; false to stop (the page is then broken). */
static bool page_feed(struct list_page *page, const char *bytes, size_t length)
{
    struct list_framer_callbacks callbacks = {
        .on_member = page_member,
        .on_item = page_item,
        .data = page,
    };
    enum list_framer_status status = list_framer_feed(&page->framer, bytes, length, &callbacks);
    if (status == LIST_FRAMER_OK)
        return true;
    if (status == LIST_FRAMER_NO_MEMORY)
        page->no_memory = true;
    else if (page->broken == NULL && !page->no_memory)
        page->broken = list_framer_status_text(status);
    return false;
}

/* The page's request has ended and its bytes are decoded: what it amounts to. */
static enum page_outcome page_outcome(struct list_page *page)
{
    if (page->no_memory)
        return PAGE_NO_MEMORY;
    if (page->broken != NULL)
        return PAGE_BROKEN;
    if (!page->end_ok)
        return PAGE_FAILED;
    if (!list_framer_done(&page->framer)) {
        page->broken = "truncated list";
        return PAGE_BROKEN;
    }
    return PAGE_OK;
}

static bool copy_error(struct kube_error *out, const struct kube_error *error)
{
    memset(out, 0, sizeof *out);
    out->transport = error->transport;
    out->code = error->code;
    out->retry_after_seconds = error->retry_after_seconds;
    out->reason = strdup(error->reason ? error->reason : "");
    out->message = strdup(error->message ? error->message : "");
    return out->reason != NULL && out->message != NULL;
}

/* --- requests --- */

static void advance(struct informer *informer);
static void on_page_end(void *data, const struct kube_error *error);
static bool on_page_data(void *data, const char *bytes, size_t length);
static void on_buffered_page(struct kube_result *result, void *data);
static void on_idle(uv_idle_t *idle);

/* Sends the page's request; false when it cannot be started. */
static bool page_request(struct informer *informer, struct list_page *page)
{
    struct kube_list_options options = {
        .label_selector = informer->label_selector,
        .field_selector = informer->field_selector,
        .limit = informer->page_size,
        .continue_token = page->token,
    };
    /* resourceVersion and continue exclude each other (422). */
    if (page->token == NULL && informer->list_not_older_than && informer->last_rv[0] != '\0') {
        options.resource_version = informer->last_rv;
        options.resource_version_match = "NotOlderThan";
    }
    if (page->buffered) {
        page->request = kube_client_list(informer->client, informer->resource,
                                         informer->namespace, &options, on_buffered_page, page);
        return page->request != NULL;
    }
    struct buffer path = {0};
    if (!kube_list_path(&path, informer->resource, informer->namespace, &options, false)) {
        buffer_free(&path);
        return false;
    }
    struct kube_watch_callbacks callbacks = {
        .on_data = on_page_data,
        .on_end = on_page_end,
        .data = page,
    };
    page->request = kube_client_stream(informer->client, buffer_string(&path), "list",
                                       informer->resource->plural, &callbacks, PAGE_IDLE_MS);
    buffer_free(&path);
    return page->request != NULL;
}

/* Asks for the current page (informer->page). */
static void request_page(struct informer *informer)
{
    informer->state = INFORMER_LISTING;
    if (!page_request(informer, informer->page)) {
        drop_staged(informer);
        back_off(informer, STEP_LIST, 0);
    }
}

/* While the current page streams in and its continue token is known, the
 * next page is asked for (one page ahead at most). */
static void maybe_start_ahead(struct informer *informer)
{
    struct list_page *page = informer->page;
    if (page == NULL || page->outcome != PAGE_RUNNING || informer->ahead != NULL ||
        page->next == NULL || page->next[0] == '\0')
        return;
    struct list_page *ahead = page_new(informer, page->next);
    if (ahead == NULL)
        return; /* it is asked for once this page completes */
    if (!page_request(informer, ahead)) {
        page_free(ahead);
        return;
    }
    informer->ahead = ahead;
}

static void start_list(struct informer *informer)
{
    drop_staged(informer);
    informer->page = page_new(informer, NULL);
    if (informer->page == NULL) {
        back_off(informer, STEP_LIST, 0);
        return;
    }
    request_page(informer);
}

static bool page_retryable(const struct kube_error *error)
{
    switch (error->transport) {
    case HTTP_ERROR_NONE:
        return error->code == 429 || error->code == 500 || error->code == 502 ||
               error->code == 503 || error->code == 504;
    case HTTP_ERROR_CONNECT:
    case HTTP_ERROR_DNS:
    case HTTP_ERROR_TIMEOUT:
    case HTTP_ERROR_NETWORK:
    case HTTP_ERROR_PROTOCOL:
        return true;
    default:
        return false;
    }
}

static void list_failed(struct informer *informer, const struct kube_error *error, bool paging)
{
    drop_staged(informer);
    if (kube_error_is_gone(error) && paging) {
        /* The continue token expired: start over with a consistent list. */
        informer->list_not_older_than = false;
        run_after(informer, STEP_LIST, 0);
        return;
    }
    if (informer->list_not_older_than && error->transport == HTTP_ERROR_NONE &&
        error->code >= 400 && error->code < 500 && error->code != 429) {
        /* NotOlderThan refused (older servers, 410, 422): a plain list. */
        informer->stats.list_fallbacks++;
        informer->list_not_older_than = false;
        run_after(informer, STEP_LIST, 0);
        return;
    }
    log_warn("list failed", "resource=%s code=%d reason=%s message=\"%s\"",
             informer->resource->plural, error->code, error->reason ? error->reason : "",
             error->message ? error->message : "");
    back_off(informer, STEP_LIST, (uint64_t)error->retry_after_seconds * 1000);
}

static void bad_list(struct informer *informer, const char *why)
{
    informer->stats.bad_events++;
    drop_staged(informer);
    log_warn("bad list", "resource=%s error=\"%s\"", informer->resource->plural, why);
    back_off(informer, STEP_LIST, 0);
}

/* Every page is in: replace the cache, then watch. */
static void complete_list(struct informer *informer)
{
    char *list_rv = informer->list_rv;
    informer->list_rv = NULL;
    informer->state = INFORMER_WAITING; /* not closing; handlers may close */
    bool ok = replace_cache(informer);
    drop_staged(informer);
    if (informer->state == INFORMER_CLOSING) {
        free(list_rv);
        return;
    }
    informer->stats.lists++;
    if (!ok) {
        free(list_rv);
        back_off(informer, STEP_LIST, 0);
        return;
    }
    set_last_rv(informer, list_rv);
    free(list_rv);
    informer->synced = true;
    start_watch(informer);
}

/* Takes the current page's outcome, and the next pages' as long as they
 * have ended, in order. */
static void advance(struct informer *informer)
{
    for (;;) {
        struct list_page *page = informer->page;
        if (page == NULL || page->outcome == PAGE_RUNNING)
            return;
        if (page->outcome == PAGE_FAILED) {
            if (!page->buffered && page_retryable(&page->error)) {
                /* Ask again as a plain list request, which the client retries. */
                uint64_t delay = (uint64_t)page->error.retry_after_seconds * 1000;
                if (delay > informer->backoff_max_ms)
                    delay = informer->backoff_max_ms;
                if (delay == 0) {
                    uint64_t base = informer->backoff_initial_ms < PAGE_RETRY_MS
                                        ? informer->backoff_initial_ms
                                        : PAGE_RETRY_MS;
                    delay = base / 2 + next_random(informer) % (base > 0 ? base : 1);
                }
                page_abandon(informer->ahead);
                informer->ahead = NULL;
                page_clear(page);
                page->buffered = true;
                run_after(informer, STEP_PAGE, delay);
                return;
            }
            struct kube_error error = page->error;
            memset(&page->error, 0, sizeof page->error);
            bool paging = page->token != NULL;
            list_failed(informer, &error, paging);
            kube_error_clear(&error);
            return;
        }
        if (page->outcome == PAGE_NO_MEMORY) {
            drop_staged(informer);
            back_off(informer, STEP_LIST, 0);
            return;
        }
        if (page->outcome == PAGE_BROKEN) {
            bad_list(informer, page->broken ? page->broken : "undecodable list");
            return;
        }
        if (page->rv == NULL || page->rv[0] == '\0' || page->bad_items) {
            bad_list(informer, "no metadata.resourceVersion or items");
            return;
        }
        informer->stats.list_pages++;
        if ((informer->list_rv == NULL && (informer->list_rv = strdup(page->rv)) == NULL) ||
            !stage_page(informer, page)) {
            drop_staged(informer);
            back_off(informer, STEP_LIST, 0);
            return;
        }
        char *next = page->next;
        page->next = NULL;
        informer->page = NULL;
        page_free(page);
        if (next == NULL || next[0] == '\0') {
            free(next);
            page_abandon(informer->ahead);
            informer->ahead = NULL;
            complete_list(informer);
            return;
        }
        struct list_page *ahead = informer->ahead;
        informer->ahead = NULL;
        if (ahead != NULL && strcmp(ahead->token, next) != 0) {
            page_abandon(ahead); /* asked with another token: cannot be this page */
            ahead = NULL;
        }
        if (ahead == NULL) {
            ahead = page_new(informer, next);
            free(next);
            informer->page = ahead;
            if (ahead == NULL) {
                drop_staged(informer);
                back_off(informer, STEP_LIST, 0);
                return;
            }
            request_page(informer);
            if (informer->page != ahead)
                return; /* could not be asked for: backing off */
        } else {
            free(next);
            informer->page = ahead;
            maybe_start_ahead(informer);
        }
    }
}

static void start_decoding(struct informer *informer);

static bool on_page_data(void *data, const char *bytes, size_t length)
{
    struct list_page *page = data;
    if (page->abandoned || page->broken != NULL || page->no_memory)
        return false;
    if (page->pending.length - page->decoded + length > MAX_PENDING) {
        page->broken = "page too large";
        return false;
    }
    if (!buffer_append(&page->pending, bytes, length)) {
        page->no_memory = true;
        return false;
    }
    start_decoding(page->informer);
    return true;
}

/* A page's request ended (abandoned or not). True when the page is still wanted. */
static bool page_ended(struct list_page *page)
{
    struct informer *informer = page->informer;
    page->request = NULL;
    if (!page->abandoned) {
        page->ended = true;
        return true;
    }
    informer->abandoned_pages--;
    page_free(page);
    if (informer->state == INFORMER_CLOSING)
        maybe_free(informer);
    return false;
}

static void page_failed(struct list_page *page, const struct kube_error *error)
{
    if (!copy_error(&page->error, error))
        page->no_memory = true;
}

static void on_page_end(void *data, const struct kube_error *error)
{
    struct list_page *page = data;
    if (!page_ended(page))
        return;
    if (error->transport == HTTP_ERROR_NONE && error->code == 200)
        page->end_ok = true;
    else if (page->broken == NULL && !page->no_memory)
        page_failed(page, error); /* not stopped by us */
    start_decoding(page->informer);
}

static void on_buffered_page(struct kube_result *result, void *data)
{
    struct list_page *page = data;
    if (!page_ended(page))
        return;
    if (!result->ok) {
        page_failed(page, &result->error);
    } else if (result->body != NULL &&
               !buffer_append(&page->pending, result->body, result->body_length)) {
        page->no_memory = true;
    } else {
        page->end_ok = true;
    }
    start_decoding(page->informer);
}

/* Work left on the page: bytes to decode, or an outcome to settle. */
static bool page_has_work(const struct list_page *page)
{
    return page != NULL && page->outcome == PAGE_RUNNING &&
           (page->decoded < page->pending.length || page->ended);
}

/* Bytes worth decoding: not when the request failed anyway. */
static bool page_decodable(const struct list_page *page)
{
    return page->decoded < page->pending.length && (!page->ended || page->end_ok);
}

static void start_decoding(struct informer *informer)
{
    if (!informer->decoding && informer->state != INFORMER_CLOSING &&
        uv_idle_start(&informer->idle, on_idle) == 0)
        informer->decoding = true;
}

static void stop_decoding(struct informer *informer)
{
    if (informer->decoding)
        uv_idle_stop(&informer->idle);
    informer->decoding = false;
}

/* Decodes up to `budget` bytes of the page; false when it has given up on
 * the body (broken, out of memory). */
static bool page_decode(struct list_page *page, size_t *budget)
{
    size_t left = page->pending.length - page->decoded;
    size_t piece = left < *budget ? left : *budget;
    bool go_on = page_feed(page, page->pending.data + page->decoded, piece);
    *budget -= piece;
    page->decoded += piece;
    if (page->decoded == page->pending.length) {
        /* A page's worth must not stay pinned once decoded. */
        if (page->pending.capacity > PARSE_SLICE * 4)
            buffer_free(&page->pending);
        else
            buffer_clear(&page->pending);
        page->decoded = 0;
    }
    if (!go_on) {
        buffer_free(&page->pending);
        page->decoded = 0;
        if (page->request != NULL)
            kube_request_cancel(page->request); /* its end settles it */
    }
    return go_on;
}

/* One loop turn's worth of decoding: the current page, then the one ahead. */
static void on_idle(uv_idle_t *idle)
{
    struct informer *informer = idle->data;
    size_t budget = PARSE_SLICE;
    while (informer->state != INFORMER_CLOSING) {
        struct list_page *page = page_has_work(informer->page) ? informer->page
                                 : page_has_work(informer->ahead) ? informer->ahead
                                                                   : NULL;
        if (page == NULL) {
            stop_decoding(informer);
            return;
        }
        if (page_decodable(page)) {
            if (budget == 0)
                return;
            page_decode(page, &budget);
            continue;
        }
        buffer_free(&page->pending);
        page->decoded = 0;
        /* Ended, every byte decoded: settle it (in order: only the current
         * page moves the list on). */
        page->outcome = page_outcome(page);
        if (page == informer->page)
            advance(informer); /* may finish the list, run handlers, close */
    }
}

/* --- watching ------------------------------------------------------------------------------ */

static bool handle_event(struct informer *informer, const char *line, size_t length)
{
    struct watch_event event;
    char reason[160];
    json_arena_reset(&informer->arena);
    if (!watch_event_decode(&informer->arena, line, length, &event, reason, sizeof reason)) {
        informer->stats.bad_events++;
        log_warn("bad watch event", "resource=%s error=\"%s\"", informer->resource->plural,
                 reason);
        informer->stream_failed = true;
        return false;
    }
    informer->watch_events++;
    bool go_on = true;
    switch (event.type) {
    case WATCH_EVENT_BOOKMARK:
        informer->stats.bookmarks++;
        set_last_rv(informer, event.resource_version);
        break;
    case WATCH_EVENT_ERROR:
        if (event.error_code == 410 || strcmp(event.error_reason, "Expired") == 0 ||
            strcmp(event.error_reason, "Gone") == 0)
            informer->stream_gone = true;
        else
            informer->stream_error = true;
        log_info("watch error event", "resource=%s code=%d reason=%s message=\"%s\"",
                 informer->resource->plural, event.error_code, event.error_reason,
                 event.error_message);
        go_on = false;
        break;
    case WATCH_EVENT_ADDED:
    case WATCH_EVENT_MODIFIED:
    case WATCH_EVENT_DELETED: {
        informer->stats.events++;
        struct object_meta *object =
            object_project(informer->kind, event.object, informer->pool, reason, sizeof reason);
        if (object == NULL) {
            informer->stats.bad_events++;
            log_warn("cannot cache watched object", "resource=%s error=\"%s\"",
                     informer->resource->plural, reason);
            informer->stream_failed = true;
            go_on = false;
            break;
        }
        if (event.type == WATCH_EVENT_DELETED) {
            apply_delete(informer, object);
            object_free(informer->kind, object, informer->pool);
        } else if (!apply_upsert(informer, object)) {
            informer->stream_failed = true;
            go_on = false;
            break;
        }
        set_last_rv(informer, event.resource_version);
        break;
    }
    }
    return go_on && informer->state != INFORMER_CLOSING;
}

static bool on_line(void *data, const char *line, size_t length)
{
    return handle_event(data, line, length);
}

static bool on_watch_data(void *data, const char *bytes, size_t length)
{
    struct informer *informer = data;
    if (informer->state == INFORMER_CLOSING)
        return false;
    enum line_framer_status status =
        line_framer_feed(&informer->framer, bytes, length, on_line, informer);
    if (status == LINE_FRAMER_OK)
        return true;
    if (status != LINE_FRAMER_STOPPED) {
        informer->stats.bad_events++;
        informer->stream_failed = true;
        log_warn("watch stream dropped", "resource=%s error=\"%s\"", informer->resource->plural,
                 line_framer_status_text(status));
    }
    return false;
}

static void on_watch_end(void *data, const struct kube_error *error)
{
    struct informer *informer = data;
    informer->request = NULL;
    if (informer->state == INFORMER_CLOSING) {
        maybe_free(informer);
        return;
    }
    uint64_t lived = clock_now_ms(informer->clock) - informer->watch_started_ms;
    line_framer_reset(&informer->framer);
    if (informer->stream_gone || (error->transport == HTTP_ERROR_NONE && error->code == 410)) {
        informer->stats.relists_gone++;
        informer->list_not_older_than = true;
        /* Jittered (not backed off): a compaction hits every informer at once. */
        run_after(informer, STEP_LIST,
                  next_random(informer) % (informer->backoff_initial_ms / 2 + 1));
        return;
    }
    if (informer->stream_failed || informer->stream_error) {
        informer->list_not_older_than = true;
        back_off(informer, STEP_LIST, 0);
        return;
    }
    if (error->transport == HTTP_ERROR_NONE && error->code == 200) {
        if (informer->watch_events > 0 || lived >= SHORT_WATCH_MS) {
            start_watch(informer);
        } else {
            informer->list_not_older_than = true;
            back_off(informer, STEP_LIST, 0);
        }
        return;
    }
    if (error->transport != HTTP_ERROR_NONE) {
        /* Refused, reset, timed out: the server may be restarting. Resume
         * the watch (no relist) after backoff, or at once if the stream had
         * been working. */
        if (error->transport == HTTP_ERROR_NETWORK && informer->watch_events > 0)
            start_watch(informer);
        else
            back_off(informer, STEP_WATCH, 0);
        return;
    }
    if (error->code == 429) {
        back_off(informer, STEP_WATCH, (uint64_t)error->retry_after_seconds * 1000);
        return;
    }
    log_warn("watch failed", "resource=%s code=%d reason=%s", informer->resource->plural,
             error->code, error->reason ? error->reason : "");
    informer->list_not_older_than = true;
    back_off(informer, STEP_LIST, (uint64_t)error->retry_after_seconds * 1000);
}

static void start_watch(struct informer *informer)
{
    unsigned span = informer->watch_timeout_max_s - informer->watch_timeout_min_s;
    struct kube_list_options options = {
        .label_selector = informer->label_selector,
        .field_selector = informer->field_selector,
        .resource_version = informer->last_rv,
        .allow_bookmarks = true,
        .timeout_seconds = informer->watch_timeout_min_s +
                           (unsigned)(next_random(informer) % (span ? span : 1)),
    };
    struct buffer path = {0};
    if (!kube_list_path(&path, informer->resource, informer->namespace, &options, true)) {
        buffer_free(&path);
        back_off(informer, STEP_WATCH, 0);
        return;
    }
    struct kube_watch_callbacks callbacks = {
        .on_data = on_watch_data,
        .on_end = on_watch_end,
        .data = informer,
    };
    informer->state = INFORMER_WATCHING;
    informer->watch_started_ms = clock_now_ms(informer->clock);
    informer->watch_events = 0;
    informer->stream_failed = informer->stream_gone = informer->stream_error = false;
    line_framer_reset(&informer->framer);
    /* No byte for this long means a dead connection: bookmarks and the
     * server's own timeout come well before. */
    uint64_t idle_ms = ((uint64_t)options.timeout_seconds + 60) * 1000;
    informer->request = kube_client_watch(informer->client, buffer_string(&path),
                                          informer->resource->plural, &callbacks, idle_ms);
    buffer_free(&path);
    if (informer->request == NULL) {
        back_off(informer, STEP_WATCH, 0);
        return;
    }
    informer->stats.watches++;
}

int informer_start(struct informer *informer)
{
    if (informer->state != INFORMER_IDLE)
        return -EINVAL;
    start_list(informer);
    return 0;
}

/* --- closing --------------------------------------------------------------------------------- */

static void maybe_free(struct informer *informer)
{
    if (informer->open_handles > 0 || informer->request != NULL || informer->abandoned_pages > 0)
        return;
    void (*closed)(void *) = informer->closed;
    void *closed_data = informer->closed_data;
    drop_staged(informer);
    cache_free(&informer->cache);
    line_framer_free(&informer->framer);
    free(informer->namespace);
    free(informer->label_selector);
    free(informer->field_selector);
    free(informer->last_rv);
    free(informer);
    if (closed != NULL)
        closed(closed_data);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct informer *informer = handle->data;
    informer->open_handles--;
    maybe_free(informer);
}

void informer_close(struct informer *informer, void (*closed)(void *data), void *data)
{
    if (informer->state == INFORMER_CLOSING)
        return;
    informer->state = INFORMER_CLOSING;
    informer->closed = closed;
    informer->closed_data = data;
    if (informer->request != NULL)
        kube_request_cancel(informer->request);
    page_abandon(informer->page);
    page_abandon(informer->ahead);
    informer->page = informer->ahead = NULL;
    uv_timer_stop(&informer->timer);
    stop_decoding(informer);
    uv_close((uv_handle_t *)&informer->timer, on_handle_closed);
    uv_close((uv_handle_t *)&informer->idle, on_handle_closed);
}
