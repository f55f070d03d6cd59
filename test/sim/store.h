/*
 * store: the simulated API server's object store, with the real server's
 * semantics (apiserver generic registry, cacher, garbage collector and
 * namespace controller folded into one synchronous, in-memory library).
 *
 * - One global resourceVersion counter, bumped once by every write of any
 *   kind; every bump is exactly one watch event in the history.
 * - Objects are cJSON trees held in immutable, reference-counted snapshots
 *   (`struct store_object`). A write makes a new snapshot; readers and the
 *   watch history keep old ones alive as long as they hold them. Each
 *   snapshot serialises itself once, on first demand, so list and watch
 *   fan-out never re-encode or copy a tree per client.
 * - Garbage collection (ownerReferences, Background/Foreground/Orphan),
 *   finalizers, namespace termination and CRD registration run inline: when
 *   a write call returns, everything it caused has happened.
 *
 * Ownership: every write takes ownership of the `object` tree it is given,
 * also on failure. Snapshots returned to the caller carry a reference that
 * the caller drops with store_object_release (or store_reply_clear).
 * `const struct resource *` arguments come from store_resources() and stay
 * valid for the store's life.
 *
 * Watch callbacks run synchronously inside the write that caused them (and
 * inside store_watch_start for the replayed events). They may retain event
 * objects and stop any watch, including their own; they must not write to
 * the store (such writes fail with 500).
 *
 * No I/O except store_save/store_load. Not thread-safe (one loop).
 */
#ifndef TEST_SIM_STORE_H
#define TEST_SIM_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reactor/clock.h"
#include "test/sim/resources.h"

struct store;

/* ---- errors, in the shape of a Kubernetes Status ---- */

struct store_cause {
    char *field;
    const char *reason;  /* FieldValueInvalid, FieldValueRequired, ... (static) */
    char *message;
};

struct store_error {
    int code;            /* HTTP status; 0 when there is no error */
    const char *reason;  /* NotFound, AlreadyExists, Conflict, Invalid, ... (static) */
    char *message;
    char *name;          /* details.name, details.group, details.kind (may be NULL) */
    char *group;
    char *kind;
    struct store_cause *causes;
    size_t cause_count;
};

/* Frees what the error holds and zeroes it; a zeroed error is valid. */
void store_error_clear(struct store_error *error);
/* The full Status object for the error; NULL when memory runs out. */
cJSON *store_error_status(const struct store_error *error);

/* ---- snapshots ---- */

struct store_object;

struct store_object *store_object_retain(struct store_object *object);
void store_object_release(struct store_object *object);
/* The object; never modify it. */
const cJSON *store_object_tree(const struct store_object *object);
/* Its unformatted JSON, made once and cached; NULL when memory runs out. */
const char *store_object_json(struct store_object *object);
uint64_t store_object_version(const struct store_object *object);

/* ---- the store ---- */

struct store_options {
    const struct clock *clock;  /* NULL: the system clock */
    size_t history_size;        /* watch events retained; 0: 10,000 */
    uint64_t random_seed;       /* uids and generated names; 0: seeded from the time */
};

/* A store with the namespaces default, kube-system, kube-public and kube-node-lease. */
struct store *store_new(const struct store_options *options);
/* Pods deleted with a grace period wait for their kubelet (see store_delete);
 * off by default, as no kubelet would ever finish them. */
void store_set_graceful_pods(struct store *store, bool on);
/* Frees everything, including watches still started. */
void store_free(struct store *store);

struct resource_table *store_resources(struct store *store);
/* The current global resourceVersion (what a list or a BOOKMARK reports). */
uint64_t store_resource_version(const struct store *store);
/* Drops every retained watch event: older watches and continue tokens get 410. */
void store_compact_history(struct store *store);

/* ---- writes ---- */

enum store_outcome {
    STORE_FAILED,
    STORE_CREATED,    /* 201 */
    STORE_UPDATED,    /* 200; a new resourceVersion */
    STORE_UNCHANGED,  /* 200; a no-op update, nothing written */
    STORE_DELETING,   /* 200; deletionTimestamp set, finalizers hold the object */
    STORE_REMOVED,    /* 200; the object is gone; `object` is its last state */
};

struct store_reply {
    enum store_outcome outcome;
    struct store_object *object;  /* the result (a reference) unless FAILED */
    struct store_error error;     /* set when FAILED */
};

/* Releases the object and the error; a zeroed reply is valid. */
void store_reply_clear(struct store_reply *reply);

/*
 * POST. `namespace` is the one in the URL (NULL or "" for cluster-scoped
 * kinds). Fills uid, creationTimestamp, resourceVersion, generation, a name
 * from generateName, kind/apiVersion when missing. Returns false (and
 * reply->error) on failure.
 */
bool store_create(struct store *store, const struct resource *resource, const char *namespace,
                  cJSON *object, struct store_reply *reply);
/* PUT of the main resource: status is kept from the stored object when the kind has a status subresource. */
bool store_update(struct store *store, const struct resource *resource, const char *namespace,
                  const char *name, cJSON *object, struct store_reply *reply);
/* PUT of /status: only `status` is taken from `object` (removed when absent). */
bool store_update_status(struct store *store, const struct resource *resource,
                         const char *namespace, const char *name, cJSON *object,
                         struct store_reply *reply);

enum store_propagation {
    STORE_PROPAGATION_BACKGROUND,  /* the default */
    STORE_PROPAGATION_FOREGROUND,
    STORE_PROPAGATION_ORPHAN,
};

struct store_delete_options {
    enum store_propagation propagation;
    const char *precondition_uid;              /* NULL: none */
    const char *precondition_resource_version; /* NULL: none */
    bool has_grace_period;                     /* DeleteOptions.gracePeriodSeconds given */
    int64_t grace_period_seconds;              /* 0: at once (a force delete) */
};

/* DELETE; `options` may be NULL (Background, no preconditions).
 *
 * Pods, once store_set_graceful_pods(store, true) (a world with kubelets
 * does it): a pod bound to a node and not finished is not removed but
 * marked, as the API server does: deletionTimestamp = now + the grace
 * period (the options', else spec.terminationGracePeriodSeconds, else 30 s)
 * and deletionGracePeriodSeconds; its kubelet removes it with a delete of
 * grace 0 once its containers stopped. A pod not bound to a node, or a
 * delete with grace 0, goes at once (finalizers permitting). */
bool store_delete(struct store *store, const struct resource *resource, const char *namespace,
                  const char *name, const struct store_delete_options *options,
                  struct store_reply *reply);

/* ---- reads ---- */

/* A reference to the stored object, or NULL with a 404 in *error. */
struct store_object *store_get(struct store *store, const struct resource *resource,
                               const char *namespace, const char *name,
                               struct store_error *error);

/* Selector filtering, supplied by the caller; true when `object` is selected. */
typedef bool (*store_match)(const cJSON *object, void *data);

struct store_list_options {
    const char *namespace;      /* NULL or "": every namespace */
    store_match match;          /* NULL: everything */
    void *match_data;
    size_t limit;               /* 0: no limit */
    const char *continue_token; /* from a previous page, or NULL */
};

struct store_list {
    struct store_object **items;  /* references, namespace/name order */
    size_t count;
    uint64_t resource_version;    /* the list's resourceVersion */
    char *continue_token;         /* NULL on the last page */
    long remaining;               /* remainingItemCount; -1 when unknown (filtered) */
};

/* Fills *list (free with store_list_free); false with *error (400, 410) otherwise. */
bool store_list(struct store *store, const struct resource *resource,
                const struct store_list_options *options, struct store_list *list,
                struct store_error *error);
void store_list_free(struct store_list *list);
/* The list as the JSON text the API returns (kind <Kind>List); the caller frees it. */
char *store_list_json(const struct resource *resource, struct store_list *list);

/* ---- watches ---- */

enum store_event_type { STORE_EVENT_ADDED, STORE_EVENT_MODIFIED, STORE_EVENT_DELETED };

struct store_event {
    enum store_event_type type;
    struct store_object *object;  /* borrowed for the call; retain to keep */
    uint64_t resource_version;
};

typedef void (*store_watch_callback)(const struct store_event *event, void *data);

struct store_watch_options {
    const char *namespace;        /* NULL or "": every namespace */
    /*
     * NULL, "" or "0": synthetic ADDED events for the current objects, then
     * changes. A number N: every change after N (410 if N was compacted away).
     */
    const char *resource_version;
    store_match match;            /* applied with the real cacher's translation:
                                     an object that stops matching is DELETED,
                                     one that starts matching is ADDED */
    void *match_data;
};

struct store_watch;

/* Starts a watch; the replay runs before this returns. NULL with *error otherwise. */
struct store_watch *store_watch_start(struct store *store, const struct resource *resource,
                                      const struct store_watch_options *options,
                                      store_watch_callback callback, void *data,
                                      struct store_error *error);
/* Stops it: no more callbacks. Safe inside a callback. */
void store_watch_stop(struct store *store, struct store_watch *watch);

/* ---- persistence ---- */

/* Writes every object and the counter to `path` as one JSON file. */
bool store_save(struct store *store, const char *path);
/* Replaces the contents of a store with a saved file (no watch events; history starts compacted). */
bool store_load(struct store *store, const char *path);

#endif
