/*
 * pd_decode: pure functions from PD (and TiDB status) response bodies to
 * structs, and the one error value every PD call reports.
 *
 * Nothing here does I/O, so every function can be fed the reference's sample
 * bodies and arbitrary garbage. A decoder never crashes and never asserts on
 * input: invalid JSON, wrong types, missing required fields, HTML error
 * pages, empty or truncated bodies and out-of-range numbers each give false
 * and a PD_ERROR_DECODE error whose message names the offending field
 * ("members[1].member_id: expected an unsigned integer").
 *
 * Wire oddities handled (see the PD reference):
 * - uint64 ids (member_id, cluster_id, last_heartbeat ns) exceed 2^53, so
 *   a double loses them. Integer literals longer than 15 digits are read
 *   from the raw text, exactly; ids given as decimal strings are accepted too.
 * - protobuf structs omit every zero field: an Up store has no "state", a
 *   member never started has no "name" and no "client_urls".
 * - enums are integers; state_name is a string; durations are Go strings
 *   ("30m0s"); bools may be "true"/"false" strings; StringSlice is one
 *   comma-joined string.
 * - error bodies are a JSON string ("[PD:core:ErrStoreNotFound]store 7 not
 *   found"), an errcode object ({"code":..,"msg":..}), plain text ("404 page
 *   not found") or nothing at all.
 *
 * Ownership: every decoded struct owns its strings and arrays; release it
 * with the matching *_free, which leaves a zeroed struct (safe to call on a
 * zeroed or already-freed struct). On failure the output is left zeroed.
 * A struct may be moved by plain assignment followed by zeroing the source.
 */
#ifndef PD_PD_DECODE_H
#define PD_PD_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reactor/http_error.h"

/* --- the error value -------------------------------------------------------- */

enum pd_error_kind {
    PD_ERROR_NONE = 0,
    PD_ERROR_TRANSPORT, /* no answer: connect, DNS, timeout, cancelled, too large... */
    PD_ERROR_HTTP,      /* PD answered with a status the call does not accept */
    PD_ERROR_DECODE,    /* PD answered OK but the body is not what the call expects */
};

/* What an HTTP error means, when PD says it in a recognisable way. */
enum pd_error_reason {
    PD_REASON_NONE = 0,
    PD_REASON_NOT_FOUND,          /* 404 */
    PD_REASON_NOT_BOOTSTRAPPED,   /* 500 "...TiKV cluster not bootstrapped, please start TiKV first" */
    PD_REASON_NO_LEADER,          /* 503 "redirect finds no leader" and other 503s */
    PD_REASON_STORE_REMOVED,      /* 410 ErrStoreRemoved: already Tombstone */
    PD_REASON_STORES_NOT_ENOUGH,  /* 400 ErrStoresNotEnough / ErrNoStoreForRegionLeader */
    PD_REASON_UNHEALTHY_CLUSTER,  /* 500 etcd refused a reconfiguration */
};

#define PD_ERROR_MESSAGE_MAX 256

struct pd_error {
    enum pd_error_kind kind;
    enum http_client_error transport; /* PD_ERROR_TRANSPORT: which failure */
    long status;                      /* the HTTP status when one arrived, else 0 */
    enum pd_error_reason reason;
    char message[PD_ERROR_MESSAGE_MAX]; /* human text, NUL-terminated, "" when none */
};

const char *pd_error_kind_name(enum pd_error_kind kind);     /* "none", "transport", ... */
const char *pd_error_reason_name(enum pd_error_reason reason); /* "none", "not_found", ... */
void pd_error_clear(struct pd_error *error);
/* Sets kind and a printf-formatted message (truncated to fit). */
void pd_error_set(struct pd_error *error, enum pd_error_kind kind, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Same kind, status, reason and transport (messages may differ: timings). */
bool pd_error_same(const struct pd_error *a, const struct pd_error *b);
static inline bool pd_error_is_cancelled(const struct pd_error *error)
{
    return error->kind == PD_ERROR_TRANSPORT && error->transport == HTTP_ERROR_CANCELLED;
}

/* An HTTP error from a status and body: kind PD_ERROR_HTTP, the message PD
 * sent (JSON string, errcode "msg", or the text itself, control characters
 * replaced and cut to fit), and the reason classified from status + text. */
void pd_error_from_http(struct pd_error *error, long status, const char *body, size_t length);

/* The text of a JSON-string body (PD's success and error messages), or the
 * trimmed raw text when the body is not a JSON string; "" for `null` or an
 * empty body. malloc'd; NULL only when memory runs out. */
char *pd_decode_message(const char *body, size_t length);

/* --- members, leader, health ------------------------------------------------ */

struct pd_member {
    char *name;          /* "" for a member added but never started */
    uint64_t member_id;
    char **peer_urls;
    size_t peer_url_count;
    char **client_urls;
    size_t client_url_count;
    char *binary_version; /* "" when absent */
};

struct pd_members {
    uint64_t cluster_id;  /* header.cluster_id, 0 if absent */
    struct pd_member *members;
    size_t count;
    bool has_leader;
    struct pd_member leader;
    bool has_etcd_leader;
    struct pd_member etcd_leader;
};

struct pd_health_entry {
    char *name;          /* "" for an unstarted member */
    uint64_t member_id;
    char *client_url;    /* first client URL, "" when null/empty */
    bool health;
};

struct pd_health {
    struct pd_health_entry *entries;
    size_t count;
};

bool pd_decode_members(const char *body, size_t length, struct pd_members *out,
                       struct pd_error *error);
/* GET /leader: one member object. */
bool pd_decode_member(const char *body, size_t length, struct pd_member *out,
                      struct pd_error *error);
bool pd_decode_health(const char *body, size_t length, struct pd_health *out,
                      struct pd_error *error);
void pd_member_free(struct pd_member *member);
void pd_members_free(struct pd_members *members);
void pd_health_free(struct pd_health *health);
/* The member named `name`, or NULL. */
const struct pd_member *pd_members_find(const struct pd_members *members, const char *name);

/* --- stores ----------------------------------------------------------------- */

enum pd_store_state { PD_STORE_STATE_UP = 0, PD_STORE_STATE_OFFLINE = 1, PD_STORE_STATE_TOMBSTONE = 2 };

enum pd_store_state_name {
    PD_STORE_UP,
    PD_STORE_DISCONNECTED,
    PD_STORE_DOWN,
    PD_STORE_OFFLINE,
    PD_STORE_TOMBSTONE,
    PD_STORE_UNKNOWN, /* a name this operator does not know: treat as not Up */
};

struct pd_store_label {
    char *key;
    char *value;
};

struct pd_store {
    uint64_t id;
    char *address;         /* "" when absent */
    char *status_address;
    char *version;
    enum pd_store_state state;           /* persistent state (0 when omitted) */
    unsigned node_state;                 /* 0 Preparing .. 3 Removed */
    enum pd_store_state_name state_name; /* derived name PD reports */
    char *state_name_text;               /* exactly as sent (or derived from state) */
    struct pd_store_label *labels;
    size_t label_count;
    bool is_tiflash;                     /* label engine=tiflash */
    int64_t start_timestamp;             /* unix seconds */
    int64_t last_heartbeat;              /* unix nanoseconds, 0 before the first */
    bool has_status;
    uint64_t leader_count;
    uint64_t region_count;
    bool pause_leader_transfer_in;
};

struct pd_stores {
    struct pd_store *stores;
    size_t count;
};

/* GET /stores[?state=..]: entries whose "store" is null are skipped, like
 * the v1 operator does. */
bool pd_decode_stores(const char *body, size_t length, struct pd_stores *out,
                      struct pd_error *error);
/* GET /store/{id}: one StoreInfo. */
bool pd_decode_store(const char *body, size_t length, struct pd_store *out,
                     struct pd_error *error);
void pd_store_free(struct pd_store *store);
void pd_stores_free(struct pd_stores *stores);
const struct pd_store *pd_stores_find(const struct pd_stores *stores, uint64_t id);
const char *pd_store_state_name_text(enum pd_store_state_name name); /* "Up", ... */
/* "Up" → PD_STORE_UP ...; anything else PD_STORE_UNKNOWN. Case-sensitive like PD. */
enum pd_store_state_name pd_store_state_name_parse(const char *text);

/* --- schedulers ------------------------------------------------------------- */

struct pd_schedulers {
    char **names;
    size_t count;
    /* Store ids of "evict-leader-scheduler-<id>" names (PD 3.0 style). */
    uint64_t *evict_leader_store_ids;
    size_t evict_leader_count;
    /* The bare "evict-leader-scheduler" is listed (PD >= 4.0): its store ids
     * are in GET /scheduler-config/evict-leader-scheduler/list. */
    bool evict_leader_bare;
};

/* GET /schedulers: a JSON array of names. */
bool pd_decode_schedulers(const char *body, size_t length, struct pd_schedulers *out,
                          struct pd_error *error);
/* GET /scheduler-config/evict-leader-scheduler/list: the keys of
 * "store-id-ranges", sorted ascending, into *ids (malloc'd, NULL when none). */
bool pd_decode_evict_leader_list(const char *body, size_t length, uint64_t **ids,
                                 size_t *count, struct pd_error *error);
void pd_schedulers_free(struct pd_schedulers *schedulers);

/* --- config and cluster ----------------------------------------------------- */

struct pd_config {
    uint64_t max_replicas;            /* replication.max-replicas (required) */
    char *location_labels;            /* comma-joined, "" when none */
    bool enable_placement_rules;
    uint64_t max_store_down_time_ms;  /* schedule.max-store-down-time; 30 min when absent */
    bool has_max_store_down_time;
};

/* GET /config. */
bool pd_decode_config(const char *body, size_t length, struct pd_config *out,
                      struct pd_error *error);
void pd_config_free(struct pd_config *config);

struct pd_cluster {
    uint64_t id;
    uint64_t max_peer_count;
};
/* GET /cluster. */
bool pd_decode_cluster(const char *body, size_t length, struct pd_cluster *out,
                       struct pd_error *error);

/* A Go duration string ("30m0s", "1h2m3.5s", "500ms", "0s") in milliseconds
 * (fractions of a millisecond dropped); false for anything else or overflow. */
bool pd_parse_go_duration_ms(const char *text, uint64_t *out_ms);

/* --- TiDB status ------------------------------------------------------------ */

struct tidb_status {
    uint64_t connections;
    char *version;
    char *git_hash;
};

/* GET :10080/status: {"connections":N,"version":"...","git_hash":"..."}. */
bool tidb_decode_status(const char *body, size_t length, struct tidb_status *out,
                        struct pd_error *error);
void tidb_status_free(struct tidb_status *status);

#endif
