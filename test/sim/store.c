#include "test/sim/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reactor/buffer.h"
#include "test/sim/history.h"
#include "test/sim/sorted_map.h"

#define DEFAULT_HISTORY_SIZE 10000
#define GENERATE_NAME_ATTEMPTS 8
#define FOREGROUND_FINALIZER "foregroundDeletion"
#define CRD_STORAGE "apiextensions.k8s.io/customresourcedefinitions"
#define NAMESPACE_STORAGE "/namespaces"

/* ---- snapshots ---- */

struct store_object {
    int references;
    cJSON *tree;
    char *json;
    uint64_t resource_version;
};

struct store_object *store_object_retain(struct store_object *object)
{
    if (object) object->references++;
    return object;
}

void store_object_release(struct store_object *object)
{
    if (!object || --object->references > 0) return;
    cJSON_Delete(object->tree);
    free(object->json);
    free(object);
}

const cJSON *store_object_tree(const struct store_object *object) { return object->tree; }

const char *store_object_json(struct store_object *object)
{
    if (!object->json) object->json = cJSON_PrintUnformatted(object->tree);
    return object->json;
}

uint64_t store_object_version(const struct store_object *object)
{
    return object->resource_version;
}

/* ---- internal structures ---- */

struct store_watch {
    struct store_watch *next;
    struct bucket *bucket;
    char *namespace;
    store_match match;
    void *match_data;
    store_watch_callback callback;
    void *data;
    bool stopped;
};

/* The objects of one storage id (all versions of a group and plural). */
struct bucket {
    char *id;
    const struct resource *resource;  /* for writes not tied to a request (GC) */
    struct sorted_map objects;        /* key -> struct entry */
    struct store_watch *watches;
};

struct entry {
    struct bucket *bucket;
    char *key;
    struct store_object *current;
};

/* Consequences of writes, processed in order before a write call returns. */
enum work_kind {
    WORK_REMOVED,    /* an object is gone: GC its dependents, wake its owners, ... */
    WORK_DEPENDENT,  /* examine an object's owners (delete it or drop dangling refs) */
    WORK_OWNER,      /* a foreground-deleting owner may be done waiting */
    WORK_NAMESPACE,  /* a terminating namespace may be empty now */
};

struct work {
    enum work_kind kind;
    struct bucket *bucket;
    char *key;
    char *uid;
    struct store_object *object;  /* WORK_REMOVED: the final state */
};

struct store {
    const struct clock *clock;
    struct resource_table *resources;
    struct history *history;
    struct sorted_map buckets;     /* storage id -> struct bucket */
    struct sorted_map dependents;  /* "<owner uid>/<storage id>/<key>" -> struct entry */
    struct sorted_map by_uid;      /* uid -> struct entry */
    uint64_t version;
    uint64_t random_state;
    struct work *work;
    size_t work_count, work_capacity, work_head;
    int dispatching;
    size_t stopped_watches;
    char *tracked_uid;             /* the object a delete call reports on */
    struct store_object *tracked_final;
    bool graceful_pods;            /* see store_set_graceful_pods */
};

/* ---- small helpers ---- */

static char *format_text(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *format_text(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = NULL;
    if (vasprintf(&text, format, args) < 0) text = NULL;
    va_end(args);
    return text;
}

static const char *string_at(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool empty(const char *text) { return !text || !text[0]; }

static cJSON *metadata_of(const cJSON *tree)
{
    return cJSON_GetObjectItemCaseSensitive(tree, "metadata");
}

static const char *meta_string(const cJSON *tree, const char *key)
{
    return string_at(metadata_of(tree), key);
}

/* Sets object[key] to a string, replacing any value; false on OOM. */
static bool set_string(cJSON *object, const char *key, const char *value)
{
    cJSON *item = cJSON_CreateString(value);
    if (!item) return false;
    if (cJSON_GetObjectItemCaseSensitive(object, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(object, key, item);
    if (!cJSON_AddItemToObject(object, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool set_item(cJSON *object, const char *key, cJSON *item)
{
    if (!item) return false;
    cJSON_DeleteItemFromObjectCaseSensitive(object, key);
    if (!cJSON_AddItemToObject(object, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* Copies old[key] into new (or removes it from new when old lacks it). */
static bool keep_item(cJSON *new_object, const cJSON *old_object, const char *key)
{
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(old_object, key);
    if (!old) {
        cJSON_DeleteItemFromObjectCaseSensitive(new_object, key);
        return true;
    }
    return set_item(new_object, key, cJSON_Duplicate(old, true));
}

static bool ensure_metadata(cJSON *tree)
{
    cJSON *metadata = metadata_of(tree);
    if (cJSON_IsObject(metadata)) return true;
    return set_item(tree, "metadata", cJSON_CreateObject());
}

static uint64_t next_random(struct store *store)
{
    /* xorshift64*: deterministic per seed, which keeps test names stable. */
    uint64_t x = store->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    store->random_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void make_uid(struct store *store, char out[37])
{
    unsigned char bytes[16];
    uint64_t a = next_random(store), b = next_random(store);
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t at = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[at++] = '-';
        out[at++] = hex[bytes[i] >> 4];
        out[at++] = hex[bytes[i] & 15];
    }
    out[at] = '\0';
}

static void format_timestamp_after(const struct store *store, int64_t delay_seconds, char out[32])
{
    clock_format_rfc3339(clock_wall_ms(store->clock) + delay_seconds * 1000, CLOCK_RFC3339_SECONDS,
                         out, 32);
}

static void format_timestamp(const struct store *store, char out[32])
{
    format_timestamp_after(store, 0, out);
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool parse_version(const char *text, uint64_t *out)
{
    if (empty(text) || strlen(text) > 19) return false;
    uint64_t value = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9') return false;
        value = value * 10 + (uint64_t)(*c - '0');
    }
    *out = value;
    return true;
}

/* ---- errors ---- */

void store_error_clear(struct store_error *error)
{
    if (!error) return;
    free(error->message);
    free(error->name);
    free(error->group);
    free(error->kind);
    for (size_t i = 0; i < error->cause_count; i++) {
        free(error->causes[i].field);
        free(error->causes[i].message);
    }
    free(error->causes);
    memset(error, 0, sizeof *error);
}

static void error_set(struct store_error *error, int code, const char *reason, const char *format,
                      ...) __attribute__((format(printf, 4, 5)));
static void error_set(struct store_error *error, int code, const char *reason, const char *format,
                      ...)
{
    store_error_clear(error);
    error->code = code;
    error->reason = reason;
    va_list args;
    va_start(args, format);
    if (vasprintf(&error->message, format, args) < 0) error->message = NULL;
    va_end(args);
}

static void error_details(struct store_error *error, const char *name, const char *group,
                          const char *kind)
{
    error->name = name ? strdup(name) : NULL;
    error->group = group && group[0] ? strdup(group) : NULL;
    error->kind = kind ? strdup(kind) : NULL;
}

static void error_memory(struct store_error *error)
{
    error_set(error, 500, "InternalError", "Internal error occurred: out of memory");
}

static void error_busy(struct store_error *error)
{
    error_set(error, 500, "InternalError",
              "Internal error occurred: store written from a watch callback");
}

/* "<plural>" for the core group, "<plural>.<group>" otherwise. */
static char *qualified_plural(const struct resource *resource)
{
    return resource->group[0] ? format_text("%s.%s", resource->plural, resource->group)
                              : strdup(resource->plural);
}

static void error_not_found(struct store_error *error, const struct resource *resource,
                            const char *name)
{
    char *qualified = qualified_plural(resource);
    error_set(error, 404, "NotFound", "%s \"%s\" not found", qualified ? qualified : "", name);
    free(qualified);
    error_details(error, name, resource->group, resource->plural);
}

static void error_conflict(struct store_error *error, const struct resource *resource,
                           const char *name, const char *why)
{
    char *qualified = qualified_plural(resource);
    error_set(error, 409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": %s",
              qualified ? qualified : "", name, why);
    free(qualified);
    error_details(error, name, resource->group, resource->plural);
}

static const char STALE[] = "the object has been modified; please apply your changes to the "
                            "latest version and try again";

static void error_bad_request(struct store_error *error, const char *message)
{
    error_set(error, 400, "BadRequest", "%s", message);
}

/* Adds a cause; the final message is built by error_finish_invalid. */
static void invalid_cause(struct store_error *error, const char *reason, const char *field,
                          char *message /* taken */)
{
    struct store_cause *grown = realloc(error->causes, (error->cause_count + 1) * sizeof *grown);
    if (!grown) {
        free(message);
        return;
    }
    error->causes = grown;
    grown[error->cause_count].reason = reason;
    grown[error->cause_count].field = strdup(field);
    grown[error->cause_count].message = message;
    error->cause_count++;
}

/* `<Kind>[.<group>] "<name>" is invalid: <field>: <message>` (bracketed when several). */
static void error_finish_invalid(struct store_error *error, const struct resource *resource,
                                 const char *name)
{
    struct buffer text = { 0 };
    buffer_append_format(&text, "%s%s%s \"%s\" is invalid: ", resource->kind,
                         resource->group[0] ? "." : "", resource->group, name ? name : "");
    if (error->cause_count > 1) buffer_append_string(&text, "[");
    for (size_t i = 0; i < error->cause_count; i++)
        buffer_append_format(&text, "%s%s: %s", i ? ", " : "", error->causes[i].field,
                             error->causes[i].message ? error->causes[i].message : "");
    if (error->cause_count > 1) buffer_append_string(&text, "]");
    free(error->message);
    error->message = buffer_take(&text);
    error->code = 422;
    error->reason = "Invalid";
    free(error->name);
    free(error->group);
    free(error->kind);
    error_details(error, name, resource->group, resource->kind);
}

cJSON *store_error_status(const struct store_error *error)
{
    cJSON *status = cJSON_CreateObject();
    if (!status) return NULL;
    bool ok = cJSON_AddStringToObject(status, "kind", "Status") &&
              cJSON_AddStringToObject(status, "apiVersion", "v1") &&
              cJSON_AddObjectToObject(status, "metadata") &&
              cJSON_AddStringToObject(status, "status", "Failure") &&
              cJSON_AddStringToObject(status, "message", error->message ? error->message : "") &&
              cJSON_AddStringToObject(status, "reason", error->reason ? error->reason : "");
    if (ok && (error->name || error->group || error->kind || error->cause_count)) {
        cJSON *details = cJSON_AddObjectToObject(status, "details");
        ok = details != NULL;
        if (ok && error->name) ok = cJSON_AddStringToObject(details, "name", error->name);
        if (ok && error->group) ok = cJSON_AddStringToObject(details, "group", error->group);
        if (ok && error->kind) ok = cJSON_AddStringToObject(details, "kind", error->kind);
        if (ok && error->cause_count) {
            cJSON *causes = cJSON_AddArrayToObject(details, "causes");
            ok = causes != NULL;
            for (size_t i = 0; ok && i < error->cause_count; i++) {
                cJSON *cause = cJSON_CreateObject();
                ok = cause && cJSON_AddItemToArray(causes, cause);
                if (!ok) {
                    cJSON_Delete(cause);
                    break;
                }
                const struct store_cause *from = &error->causes[i];
                ok = cJSON_AddStringToObject(cause, "reason", from->reason ? from->reason : "") &&
                     cJSON_AddStringToObject(cause, "message", from->message ? from->message : "") &&
                     cJSON_AddStringToObject(cause, "field", from->field ? from->field : "");
            }
        }
    }
    if (ok) ok = cJSON_AddNumberToObject(status, "code", error->code) != NULL;
    if (!ok) {
        cJSON_Delete(status);
        return NULL;
    }
    return status;
}

void store_reply_clear(struct store_reply *reply)
{
    if (!reply) return;
    store_object_release(reply->object);
    store_error_clear(&reply->error);
    memset(reply, 0, sizeof *reply);
}

/* ---- names ---- */

static const char SUBDOMAIN_MESSAGE[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char LABEL_MESSAGE[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

static bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool is_label(const char *text, size_t length)
{
    if (length == 0) return false;
    for (size_t i = 0; i < length; i++)
        if (!alnum_lower(text[i]) && (text[i] != '-' || i == 0 || i == length - 1)) return false;
    return true;
}

static bool is_subdomain(const char *text)
{
    const char *part = text;
    for (;;) {
        const char *dot = strchr(part, '.');
        size_t length = dot ? (size_t)(dot - part) : strlen(part);
        if (!is_label(part, length)) return false;
        if (!dot) return true;
        part = dot + 1;
    }
}

/* Adds the causes for an invalid `name` (nothing when it is valid). */
static void check_name(struct store_error *error, const struct resource *resource, const char *name)
{
    size_t length = strlen(name);
    switch (resource->name_rule) {
    case RESOURCE_NAME_SUBDOMAIN:
        if (length > 253)
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": must be no more than 253 characters", name));
        if (!is_subdomain(name))
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": %s", name, SUBDOMAIN_MESSAGE));
        break;
    case RESOURCE_NAME_LABEL:
        if (length > 63)
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": must be no more than 63 characters", name));
        if (!is_label(name, length))
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": %s", name, LABEL_MESSAGE));
        break;
    case RESOURCE_NAME_PATH_SEGMENT:
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": may not be '%s'", name, name));
        else if (strchr(name, '/'))
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": may not contain '/'", name));
        else if (strchr(name, '%'))
            invalid_cause(error, "FieldValueInvalid", "metadata.name",
                          format_text("Invalid value: \"%s\": may not contain '%%'", name));
        break;
    }
}

/* ownerReferences: required fields and at most one controller. */
static void check_owner_references(struct store_error *error, const cJSON *tree)
{
    const cJSON *references = cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "ownerReferences");
    if (!references) return;
    if (!cJSON_IsArray(references)) {
        invalid_cause(error, "FieldValueTypeInvalid", "metadata.ownerReferences",
                      strdup("Invalid value: must be a list"));
        return;
    }
    int controllers = 0, index = 0;
    const cJSON *reference;
    cJSON_ArrayForEach(reference, references) {
        static const char *const required[] = { "apiVersion", "kind", "name", "uid" };
        for (size_t i = 0; i < 4; i++) {
            if (!empty(string_at(reference, required[i]))) continue;
            char *field = format_text("metadata.ownerReferences[%d].%s", index, required[i]);
            if (field) invalid_cause(error, "FieldValueRequired", field, strdup("Required value"));
            free(field);
        }
        controllers += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reference, "controller"));
        index++;
    }
    if (controllers > 1)
        invalid_cause(error, "FieldValueInvalid", "metadata.ownerReferences",
                      strdup("Invalid value: Only one reference can have Controller set to true"));
}

/* ---- buckets and entries ---- */

static struct bucket *find_bucket(struct store *store, const struct resource *resource)
{
    return sorted_map_find(&store->buckets, resource->storage_id);
}

static struct bucket *get_bucket(struct store *store, const struct resource *resource)
{
    struct bucket *bucket = find_bucket(store, resource);
    if (bucket) {
        bucket->resource = resource;
        return bucket;
    }
    bucket = calloc(1, sizeof *bucket);
    if (!bucket || !(bucket->id = strdup(resource->storage_id))) {
        free(bucket);
        return NULL;
    }
    bucket->resource = resource;
    if (!sorted_map_insert(&store->buckets, bucket->id, bucket)) {
        free(bucket->id);
        free(bucket);
        return NULL;
    }
    return bucket;
}

static struct bucket *bucket_by_id(struct store *store, const char *id)
{
    return sorted_map_find(&store->buckets, id);
}

static char *make_key(const struct resource *resource, const char *namespace, const char *name)
{
    if (resource->namespaced) return format_text("%s/%s", namespace ? namespace : "", name);
    return strdup(name);
}

static struct entry *find_entry(struct store *store, const struct resource *resource,
                                const char *namespace, const char *name)
{
    struct bucket *bucket = find_bucket(store, resource);
    if (!bucket || !name) return NULL;
    char *key = make_key(resource, namespace, name);
    struct entry *entry = key ? sorted_map_find(&bucket->objects, key) : NULL;
    free(key);
    return entry;
}

static const cJSON *entry_tree(const struct entry *entry) { return entry->current->tree; }

static bool is_deleting(const cJSON *tree) { return meta_string(tree, "deletionTimestamp") != NULL; }

static bool has_finalizer(const cJSON *tree, const char *finalizer)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "finalizers"))
        if (cJSON_IsString(item) && strcmp(item->valuestring, finalizer) == 0) return true;
    return false;
}

static int finalizer_count(const cJSON *tree)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "finalizers");
    return cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
}

/* Index keys "<owner uid>/<storage id>/<key>" for each owner reference. */
static void index_owners(struct store *store, struct entry *entry, const cJSON *tree, bool add)
{
    const cJSON *reference;
    cJSON_ArrayForEach(reference,
                       cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "ownerReferences")) {
        const char *uid = string_at(reference, "uid");
        if (empty(uid)) continue;
        char *key = format_text("%s/%s/%s", uid, entry->bucket->id, entry->key);
        if (!key) continue;
        if (add)
            sorted_map_insert(&store->dependents, key, entry);
        else
            sorted_map_remove(&store->dependents, key);
        free(key);
    }
}

/* ---- work queue ---- */

static void work_push(struct store *store, enum work_kind kind, struct bucket *bucket,
                      const char *key, const char *uid, struct store_object *object)
{
    if (store->work_count == store->work_capacity) {
        size_t capacity = store->work_capacity ? store->work_capacity * 2 : 64;
        struct work *grown = realloc(store->work, capacity * sizeof *grown);
        if (!grown) return;  /* the consequence is lost; only under memory exhaustion */
        store->work = grown;
        store->work_capacity = capacity;
    }
    struct work *item = &store->work[store->work_count];
    item->kind = kind;
    item->bucket = bucket;
    item->key = key ? strdup(key) : NULL;
    item->uid = uid ? strdup(uid) : NULL;
    item->object = store_object_retain(object);
    if ((key && !item->key) || (uid && !item->uid)) {
        free(item->key);
        free(item->uid);
        store_object_release(item->object);
        return;
    }
    store->work_count++;
}

/* ---- events ---- */

static bool namespace_matches(const struct store_watch *watch, const cJSON *tree)
{
    if (empty(watch->namespace)) return true;
    const char *namespace = meta_string(tree, "namespace");
    return namespace && strcmp(namespace, watch->namespace) == 0;
}

static void call_watch(struct store_watch *watch, enum store_event_type type,
                       struct store_object *object, uint64_t version)
{
    struct store_event event = { type, object, version };
    watch->callback(&event, watch->data);
}

/* The real cacher's translation of an event for one filtered watcher. */
static void deliver(struct store_watch *watch, enum store_event_type type,
                    struct store_object *object, struct store_object *previous)
{
    if (watch->stopped || !namespace_matches(watch, object->tree)) return;
    uint64_t version = object->resource_version;
    if (!watch->match) {
        call_watch(watch, type, object, version);
        return;
    }
    bool now = watch->match(object->tree, watch->match_data);
    if (type != STORE_EVENT_MODIFIED || !previous) {
        if (now) call_watch(watch, type, object, version);
        return;
    }
    bool before = watch->match(previous->tree, watch->match_data);
    if (now) {
        call_watch(watch, before ? STORE_EVENT_MODIFIED : STORE_EVENT_ADDED, object, version);
    } else if (before) {
        /* The previous content, at the event's resourceVersion. */
        struct store_object *gone = calloc(1, sizeof *gone);
        cJSON *tree = cJSON_Duplicate(previous->tree, true);
        char text[24];
        snprintf(text, sizeof text, "%" PRIu64, version);
        if (gone && tree && ensure_metadata(tree) && set_string(metadata_of(tree), "resourceVersion", text)) {
            gone->references = 1;
            gone->tree = tree;
            gone->resource_version = version;
            call_watch(watch, STORE_EVENT_DELETED, gone, version);
            store_object_release(gone);
        } else {
            free(gone);
            cJSON_Delete(tree);
        }
    }
}

static void sweep_watches(struct store *store, struct bucket *bucket)
{
    struct store_watch **link = &bucket->watches;
    while (*link) {
        struct store_watch *watch = *link;
        if (watch->stopped) {
            *link = watch->next;
            free(watch->namespace);
            free(watch);
            store->stopped_watches--;
        } else {
            link = &watch->next;
        }
    }
}

static bool sweep_visit(const char *key, void *value, void *data)
{
    (void)key;
    sweep_watches(data, value);
    return true;
}

static void end_dispatch(struct store *store)
{
    if (--store->dispatching == 0 && store->stopped_watches)
        sorted_map_walk(&store->buckets, NULL, false, sweep_visit, store);
}

static void emit(struct store *store, struct bucket *bucket, enum store_event_type type,
                 struct store_object *object, struct store_object *previous)
{
    struct history_event event = { type, bucket, object, previous, object->resource_version };
    history_append(store->history, &event);
    store->dispatching++;
    for (struct store_watch *watch = bucket->watches; watch; watch = watch->next)
        deliver(watch, type, object, previous);
    end_dispatch(store);
}

/* ---- primitive writes: one resourceVersion and one event each ---- */

/* A snapshot of `tree` (taken) at the next resourceVersion; NULL on OOM (tree freed). */
static struct store_object *next_snapshot(struct store *store, cJSON *tree)
{
    struct store_object *object = calloc(1, sizeof *object);
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, store->version + 1);
    if (!object || !ensure_metadata(tree) || !set_string(metadata_of(tree), "resourceVersion", text)) {
        free(object);
        cJSON_Delete(tree);
        return NULL;
    }
    object->references = 1;
    object->tree = tree;
    object->resource_version = ++store->version;
    return object;
}

static bool has_owner_references(const cJSON *tree)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "ownerReferences")) > 0;
}

static struct entry *entry_insert(struct store *store, struct bucket *bucket, const char *key,
                                  cJSON *tree)
{
    struct entry *entry = calloc(1, sizeof *entry);
    if (!entry || !(entry->key = strdup(key))) {
        free(entry);
        cJSON_Delete(tree);
        return NULL;
    }
    entry->bucket = bucket;
    if (!sorted_map_insert(&bucket->objects, key, entry)) {
        free(entry->key);
        free(entry);
        cJSON_Delete(tree);
        return NULL;
    }
    entry->current = next_snapshot(store, tree);
    if (!entry->current) {
        sorted_map_remove(&bucket->objects, key);
        free(entry->key);
        free(entry);
        return NULL;
    }
    index_owners(store, entry, entry->current->tree, true);
    const char *uid = meta_string(entry->current->tree, "uid");
    if (uid) sorted_map_insert(&store->by_uid, uid, entry);
    emit(store, bucket, STORE_EVENT_ADDED, entry->current, NULL);
    if (has_owner_references(entry->current->tree))
        work_push(store, WORK_DEPENDENT, bucket, key, meta_string(entry->current->tree, "uid"), NULL);
    return entry;
}

static bool same_json(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return a == b;
    return cJSON_Compare(a, b, true);
}

static bool entry_replace(struct store *store, struct entry *entry, cJSON *tree)
{
    struct store_object *previous = entry->current;
    struct store_object *object = next_snapshot(store, tree);
    if (!object) return false;
    const cJSON *old_references = cJSON_GetObjectItemCaseSensitive(metadata_of(previous->tree), "ownerReferences");
    const cJSON *new_references = cJSON_GetObjectItemCaseSensitive(metadata_of(object->tree), "ownerReferences");
    bool references_changed = !same_json(old_references, new_references);
    if (references_changed) index_owners(store, entry, previous->tree, false);
    entry->current = object;
    if (references_changed) index_owners(store, entry, object->tree, true);
    emit(store, entry->bucket, STORE_EVENT_MODIFIED, object, previous);
    if (references_changed) {
        const char *uid = meta_string(object->tree, "uid");
        if (has_owner_references(object->tree))
            work_push(store, WORK_DEPENDENT, entry->bucket, entry->key, uid, NULL);
        /* An owner that lost this dependent may be done waiting for it. */
        const cJSON *reference;
        cJSON_ArrayForEach(reference, old_references)
            if (!empty(string_at(reference, "uid")))
                work_push(store, WORK_OWNER, NULL, NULL, string_at(reference, "uid"), NULL);
    }
    store_object_release(previous);
    return true;
}

/* Removes the entry; `tree` (taken) is its final state, NULL: the current one. */
static bool entry_remove(struct store *store, struct entry *entry, cJSON *tree,
                         struct store_object **final)
{
    if (!tree) tree = cJSON_Duplicate(entry->current->tree, true);
    if (!tree) return false;
    struct store_object *object = next_snapshot(store, tree);
    if (!object) return false;
    index_owners(store, entry, entry->current->tree, false);
    sorted_map_remove(&entry->bucket->objects, entry->key);
    const char *uid = meta_string(object->tree, "uid");
    if (uid && sorted_map_find(&store->by_uid, uid) == entry) sorted_map_remove(&store->by_uid, uid);
    if (store->tracked_uid && uid && strcmp(uid, store->tracked_uid) == 0) {
        store_object_release(store->tracked_final);
        store->tracked_final = store_object_retain(object);
    }
    emit(store, entry->bucket, STORE_EVENT_DELETED, object, NULL);
    work_push(store, WORK_REMOVED, entry->bucket, entry->key, uid, object);
    if (final) *final = store_object_retain(object);
    store_object_release(object);
    store_object_release(entry->current);
    free(entry->key);
    free(entry);
    return true;
}

/*
 * Writes `tree` (taken): removes the object when it is deleting and no
 * finalizers are left. *result (optional) gets a reference to the new state.
 */
static enum store_outcome entry_commit(struct store *store, struct entry *entry, cJSON *tree,
                                       struct store_object **result)
{
    if (is_deleting(tree) && finalizer_count(tree) == 0)
        return entry_remove(store, entry, tree, result) ? STORE_REMOVED : STORE_FAILED;
    if (!entry_replace(store, entry, tree)) return STORE_FAILED;
    if (result) *result = store_object_retain(entry->current);
    return STORE_UPDATED;
}

/* ---- garbage collection ---- */

enum owner_state { OWNER_PRESENT, OWNER_WAITING, OWNER_ABSENT, OWNER_UNRESOLVABLE };

static enum owner_state resolve_owner(struct store *store, const cJSON *reference,
                                      const cJSON *dependent, struct entry **found)
{
    *found = NULL;
    const char *api_version = string_at(reference, "apiVersion");
    const char *kind = string_at(reference, "kind");
    const char *name = string_at(reference, "name");
    const char *uid = string_at(reference, "uid");
    char group[256], version[64];
    if (empty(kind) || empty(name) || empty(uid) ||
        !resources_split_api_version(api_version, group, sizeof group, version, sizeof version))
        return OWNER_UNRESOLVABLE;
    const struct resource *resource = resources_find_kind(store->resources, group, version, kind);
    if (!resource) return OWNER_UNRESOLVABLE;
    const char *namespace = meta_string(dependent, "namespace");
    if (resource->namespaced && empty(namespace)) return OWNER_UNRESOLVABLE;
    struct entry *owner = find_entry(store, resource, namespace, name);
    if (!owner) return OWNER_ABSENT;
    const char *owner_uid = meta_string(entry_tree(owner), "uid");
    if (!owner_uid || strcmp(owner_uid, uid) != 0) return OWNER_ABSENT;
    *found = owner;
    if (is_deleting(entry_tree(owner)) && has_finalizer(entry_tree(owner), FOREGROUND_FINALIZER))
        return OWNER_WAITING;
    return OWNER_PRESENT;
}

struct collected {
    struct entry **entries;
    size_t count, capacity;
    const char *prefix;
};

static bool collect_visit(const char *key, void *value, void *data)
{
    struct collected *collected = data;
    if (collected->prefix && !starts_with(key, collected->prefix)) return false;
    if (collected->count == collected->capacity) {
        size_t capacity = collected->capacity ? collected->capacity * 2 : 16;
        struct entry **grown = realloc(collected->entries, capacity * sizeof *grown);
        if (!grown) return false;
        collected->entries = grown;
        collected->capacity = capacity;
    }
    collected->entries[collected->count++] = value;
    return true;
}

/* The entries of `map` whose keys start with `prefix`, in order (caller frees the array). */
static struct collected collect_prefix(const struct sorted_map *map, const char *prefix)
{
    struct collected collected = { NULL, 0, 0, prefix };
    sorted_map_walk(map, prefix, true, collect_visit, &collected);
    return collected;
}

/* Queues a check of every dependent of `uid`. */
static void queue_dependents(struct store *store, const char *uid)
{
    char *prefix = format_text("%s/", uid);
    if (!prefix) return;
    struct collected dependents = collect_prefix(&store->dependents, prefix);
    for (size_t i = 0; i < dependents.count; i++) {
        struct entry *dependent = dependents.entries[i];
        work_push(store, WORK_DEPENDENT, dependent->bucket, dependent->key,
                  meta_string(entry_tree(dependent), "uid"), NULL);
    }
    free(dependents.entries);
    free(prefix);
}

static enum store_outcome delete_entry(struct store *store, struct entry *entry,
                                       enum store_propagation propagation, int64_t grace_seconds);

/* The garbage collector's decision for one dependent. */
static void examine_dependent(struct store *store, struct entry *entry)
{
    const cJSON *tree = entry_tree(entry);
    const cJSON *references = cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "ownerReferences");
    int solid = 0, waiting = 0, dangling = 0;
    const cJSON *reference;
    cJSON_ArrayForEach(reference, references) {
        struct entry *owner;
        switch (resolve_owner(store, reference, tree, &owner)) {
        case OWNER_PRESENT:
        case OWNER_UNRESOLVABLE: solid++; break;
        case OWNER_WAITING: waiting++; break;
        case OWNER_ABSENT: dangling++; break;
        }
    }
    if (solid + waiting + dangling == 0) return;
    if (solid == 0) {
        if (!is_deleting(tree))
            delete_entry(store, entry, waiting ? STORE_PROPAGATION_FOREGROUND
                                               : STORE_PROPAGATION_BACKGROUND, -1);
        return;
    }
    if (waiting + dangling == 0) return;
    cJSON *copy = cJSON_Duplicate(tree, true);
    if (!copy) return;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(metadata_of(copy), "ownerReferences");
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        struct entry *owner;
        enum owner_state state = resolve_owner(store, cJSON_GetArrayItem(list, i), tree, &owner);
        if (state == OWNER_WAITING || state == OWNER_ABSENT) cJSON_DeleteItemFromArray(list, i);
    }
    entry_replace(store, entry, copy);
}

/* Dependents that still hold up a foreground deletion of `uid`. */
static size_t blocking_dependents(struct store *store, const char *uid)
{
    char *prefix = format_text("%s/", uid);
    if (!prefix) return 0;
    struct collected dependents = collect_prefix(&store->dependents, prefix);
    size_t blocking = 0;
    for (size_t i = 0; i < dependents.count; i++) {
        const cJSON *reference;
        cJSON_ArrayForEach(reference, cJSON_GetObjectItemCaseSensitive(
                                          metadata_of(entry_tree(dependents.entries[i])),
                                          "ownerReferences")) {
            const char *owner_uid = string_at(reference, "uid");
            if (owner_uid && strcmp(owner_uid, uid) == 0 &&
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reference, "blockOwnerDeletion")))
                blocking++;
        }
    }
    free(dependents.entries);
    free(prefix);
    return blocking;
}

static void remove_finalizer(cJSON *tree, const char *finalizer)
{
    cJSON *metadata = metadata_of(tree);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(metadata, "finalizers");
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        cJSON *item = cJSON_GetArrayItem(list, i);
        if (cJSON_IsString(item) && strcmp(item->valuestring, finalizer) == 0)
            cJSON_DeleteItemFromArray(list, i);
    }
    if (list && cJSON_GetArraySize(list) == 0) cJSON_DeleteItemFromObjectCaseSensitive(metadata, "finalizers");
}

/* A foreground-deleting owner whose blocking dependents are gone loses its finalizer. */
static void finish_foreground(struct store *store, struct entry *owner)
{
    const cJSON *tree = entry_tree(owner);
    if (!is_deleting(tree) || !has_finalizer(tree, FOREGROUND_FINALIZER)) return;
    if (blocking_dependents(store, meta_string(tree, "uid")) > 0) return;
    cJSON *copy = cJSON_Duplicate(tree, true);
    if (!copy) return;
    remove_finalizer(copy, FOREGROUND_FINALIZER);
    entry_commit(store, owner, copy, NULL);
}

/* ---- namespaces and CRDs ---- */

static const struct resource *namespace_resource(struct store *store)
{
    return resources_find(store->resources, "", "v1", "namespaces");
}

struct namespace_probe {
    const char *prefix;
    bool found;
};

static bool probe_visit(const char *key, void *value, void *data)
{
    (void)value;
    struct namespace_probe *probe = data;
    probe->found = starts_with(key, probe->prefix);
    return false;
}

static bool bucket_visit_namespace(const char *key, void *value, void *data)
{
    (void)key;
    struct bucket *bucket = value;
    struct namespace_probe *probe = data;
    if (!bucket->resource->namespaced) return true;
    sorted_map_walk(&bucket->objects, probe->prefix, true, probe_visit, probe);
    return !probe->found;
}

static bool namespace_has_objects(struct store *store, const char *namespace)
{
    char *prefix = format_text("%s/", namespace);
    if (!prefix) return true;
    struct namespace_probe probe = { prefix, false };
    sorted_map_walk(&store->buckets, NULL, false, bucket_visit_namespace, &probe);
    free(prefix);
    return probe.found;
}

/* The namespace controller's last step: an empty terminating namespace goes away. */
static void finish_namespace(struct store *store, const char *name)
{
    const struct resource *resource = namespace_resource(store);
    struct entry *entry = resource ? find_entry(store, resource, NULL, name) : NULL;
    if (!entry || !is_deleting(entry_tree(entry)) || namespace_has_objects(store, name)) return;
    cJSON *copy = cJSON_Duplicate(entry_tree(entry), true);
    if (!copy) return;
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(copy, "spec"), "finalizers");
    if (finalizer_count(copy) == 0)
        entry_remove(store, entry, copy, NULL);
    else
        entry_replace(store, entry, copy);
}

struct bucket_list {
    struct bucket **buckets;
    size_t count, capacity;
};

static bool bucket_list_visit(const char *key, void *value, void *data)
{
    (void)key;
    struct bucket_list *list = data;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        struct bucket **grown = realloc(list->buckets, capacity * sizeof *grown);
        if (!grown) return false;
        list->buckets = grown;
        list->capacity = capacity;
    }
    list->buckets[list->count++] = value;
    return true;
}

/* Marks the namespace Terminating and deletes what is in it. */
static enum store_outcome delete_namespace(struct store *store, struct entry *entry)
{
    const char *name = meta_string(entry_tree(entry), "name");
    char *namespace = strdup(name ? name : "");
    if (!namespace) return STORE_FAILED;
    if (!is_deleting(entry_tree(entry))) {
        cJSON *copy = cJSON_Duplicate(entry_tree(entry), true);
        char now[32];
        format_timestamp(store, now);
        cJSON *status = copy ? cJSON_CreateObject() : NULL;
        if (!status || !cJSON_AddStringToObject(status, "phase", "Terminating") ||
            !set_string(metadata_of(copy), "deletionTimestamp", now) ||
            !set_item(metadata_of(copy), "deletionGracePeriodSeconds", cJSON_CreateNumber(0)) ||
            !set_item(copy, "status", status)) {
            if (!cJSON_GetObjectItemCaseSensitive(copy, "status")) cJSON_Delete(status);
            cJSON_Delete(copy);
            free(namespace);
            return STORE_FAILED;
        }
        if (!entry_replace(store, entry, copy)) {
            free(namespace);
            return STORE_FAILED;
        }
    }
    struct bucket_list buckets = { 0 };
    sorted_map_walk(&store->buckets, NULL, false, bucket_list_visit, &buckets);
    char *prefix = format_text("%s/", namespace);
    for (size_t b = 0; prefix && b < buckets.count; b++) {
        if (!buckets.buckets[b]->resource->namespaced) continue;
        struct collected members = collect_prefix(&buckets.buckets[b]->objects, prefix);
        /* delete_entry removes only the entry itself; consequences wait in the queue. */
        for (size_t i = 0; i < members.count; i++)
            delete_entry(store, members.entries[i], STORE_PROPAGATION_BACKGROUND, -1);
        free(members.entries);
    }
    free(prefix);
    free(buckets.buckets);
    work_push(store, WORK_NAMESPACE, NULL, namespace, NULL, NULL);
    free(namespace);
    return STORE_DELETING;
}

/* A removed CRD takes its resources and their objects with it. */
static void remove_crd(struct store *store, const cJSON *crd)
{
    const char *name = meta_string(crd, "name");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
    const char *group = string_at(spec, "group");
    const char *plural = string_at(cJSON_GetObjectItemCaseSensitive(spec, "names"), "plural");
    if (!name || !group || !plural) return;
    resources_unregister_crd(store->resources, name);
    char *id = format_text("%s/%s", group, plural);
    struct bucket *bucket = id ? bucket_by_id(store, id) : NULL;
    free(id);
    if (!bucket) return;
    struct collected members = collect_prefix(&bucket->objects, NULL);
    for (size_t i = 0; i < members.count; i++) entry_remove(store, members.entries[i], NULL, NULL);
    free(members.entries);
}

static bool is_crd_bucket(const struct bucket *bucket) { return strcmp(bucket->id, CRD_STORAGE) == 0; }

/* ---- the work loop ---- */

static void process(struct store *store, struct work *item)
{
    switch (item->kind) {
    case WORK_REMOVED: {
        const cJSON *tree = item->object->tree;
        if (item->uid) queue_dependents(store, item->uid);
        const cJSON *reference;
        cJSON_ArrayForEach(reference,
                           cJSON_GetObjectItemCaseSensitive(metadata_of(tree), "ownerReferences")) {
            struct entry *owner;
            if (resolve_owner(store, reference, tree, &owner) == OWNER_WAITING)
                finish_foreground(store, owner);
        }
        const char *namespace = meta_string(tree, "namespace");
        if (!empty(namespace)) finish_namespace(store, namespace);
        if (is_crd_bucket(item->bucket)) remove_crd(store, tree);
        break;
    }
    case WORK_DEPENDENT: {
        struct entry *entry = sorted_map_find(&item->bucket->objects, item->key);
        const char *uid = entry ? meta_string(entry_tree(entry), "uid") : NULL;
        if (entry && uid && item->uid && strcmp(uid, item->uid) == 0) examine_dependent(store, entry);
        break;
    }
    case WORK_OWNER: {
        struct entry *owner = sorted_map_find(&store->by_uid, item->uid);
        if (owner) finish_foreground(store, owner);
        break;
    }
    case WORK_NAMESPACE:
        finish_namespace(store, item->key);
        break;
    }
}

static void drain(struct store *store)
{
    while (store->work_head < store->work_count) {
        struct work item = store->work[store->work_head++];
        process(store, &item);
        free(item.key);
        free(item.uid);
        store_object_release(item.object);
    }
    store->work_head = store->work_count = 0;
}

/* ---- deletion ---- */

static bool has_dependents(struct store *store, const char *uid)
{
    char *prefix = format_text("%s/", uid);
    if (!prefix) return false;
    struct collected dependents = collect_prefix(&store->dependents, prefix);
    bool any = dependents.count > 0;
    free(dependents.entries);
    free(prefix);
    return any;
}

/* Orphan: every dependent forgets its reference to `uid`. */
static void orphan_dependents(struct store *store, const char *uid)
{
    char *prefix = format_text("%s/", uid);
    if (!prefix) return;
    struct collected dependents = collect_prefix(&store->dependents, prefix);
    free(prefix);
    for (size_t i = 0; i < dependents.count; i++) {
        struct entry *dependent = dependents.entries[i];
        cJSON *copy = cJSON_Duplicate(entry_tree(dependent), true);
        if (!copy) continue;
        cJSON *list = cJSON_GetObjectItemCaseSensitive(metadata_of(copy), "ownerReferences");
        for (int j = cJSON_GetArraySize(list) - 1; j >= 0; j--) {
            const char *owner_uid = string_at(cJSON_GetArrayItem(list, j), "uid");
            if (owner_uid && strcmp(owner_uid, uid) == 0) cJSON_DeleteItemFromArray(list, j);
        }
        if (list && cJSON_GetArraySize(list) == 0)
            cJSON_DeleteItemFromObjectCaseSensitive(metadata_of(copy), "ownerReferences");
        entry_replace(store, dependent, copy);
    }
    free(dependents.entries);
}

/* The grace period a delete gives this object: 0 unless it is a pod that
 * its kubelet must stop first (bound to a node, not finished) in a store
 * with graceful pods. `asked` < 0: the delete named none. */
static int64_t grace_for(const struct store *store, const struct entry *entry, int64_t asked)
{
    if (!store->graceful_pods || asked == 0 || !entry->bucket->resource->graceful_delete)
        return 0;
    const cJSON *tree = entry_tree(entry);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(tree, "spec");
    const char *node = string_at(spec, "nodeName");
    const char *phase = string_at(cJSON_GetObjectItemCaseSensitive(tree, "status"), "phase");
    if (!node || !*node || (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)))
        return 0;
    if (asked > 0) return asked;
    const cJSON *spec_grace = cJSON_GetObjectItemCaseSensitive(spec, "terminationGracePeriodSeconds");
    return cJSON_IsNumber(spec_grace) && spec_grace->valuedouble >= 0 ? (int64_t)spec_grace->valuedouble : 30;
}

/*
 * The registry's delete: finalizers (and a foreground deletion with
 * dependents) keep the object with a deletionTimestamp, and so does a pod's
 * grace period (grace_for); otherwise it goes. A delete of grace 0 ends a
 * grace period early. Only this entry is written here; consequences wait
 * in the work queue.
 */
static enum store_outcome delete_entry(struct store *store, struct entry *entry,
                                       enum store_propagation propagation, int64_t grace_seconds)
{
    if (strcmp(entry->bucket->id, NAMESPACE_STORAGE) == 0) return delete_namespace(store, entry);
    if (is_deleting(entry_tree(entry))) {
        /* Only a pod in its grace period is held without finalizers. */
        if (grace_seconds == 0 && finalizer_count(entry_tree(entry)) == 0)
            return entry_remove(store, entry, NULL, NULL) ? STORE_REMOVED : STORE_FAILED;
        return STORE_DELETING;
    }
    int64_t grace = grace_for(store, entry, grace_seconds);
    const char *found_uid = meta_string(entry_tree(entry), "uid");
    char *uid = found_uid ? strdup(found_uid) : NULL;
    if (propagation == STORE_PROPAGATION_ORPHAN && uid) orphan_dependents(store, uid);
    bool foreground = propagation == STORE_PROPAGATION_FOREGROUND && uid && has_dependents(store, uid);
    enum store_outcome outcome = STORE_FAILED;
    if (finalizer_count(entry_tree(entry)) == 0 && !foreground && grace == 0) {
        outcome = entry_remove(store, entry, NULL, NULL) ? STORE_REMOVED : STORE_FAILED;
        free(uid);
        return outcome;
    }
    cJSON *copy = cJSON_Duplicate(entry_tree(entry), true);
    cJSON *metadata = metadata_of(copy);
    char when[32];
    format_timestamp_after(store, grace, when);
    bool ok = copy && set_string(metadata, "deletionTimestamp", when) &&
              set_item(metadata, "deletionGracePeriodSeconds", cJSON_CreateNumber((double)grace));
    const cJSON *generation = cJSON_GetObjectItemCaseSensitive(metadata, "generation");
    if (ok && entry->bucket->resource->has_generation && cJSON_IsNumber(generation))
        ok = set_item(metadata, "generation", cJSON_CreateNumber(generation->valuedouble + 1));
    if (ok && foreground && !has_finalizer(copy, FOREGROUND_FINALIZER)) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(metadata, "finalizers");
        if (!cJSON_IsArray(list)) ok = set_item(metadata, "finalizers", list = cJSON_CreateArray());
        cJSON *item = ok ? cJSON_CreateString(FOREGROUND_FINALIZER) : NULL;
        ok = item && cJSON_AddItemToArray(list, item);
        if (!ok) cJSON_Delete(item);
    }
    if (ok && entry_replace(store, entry, copy)) {
        outcome = STORE_DELETING;
        if (foreground) {
            queue_dependents(store, uid);
            work_push(store, WORK_OWNER, NULL, NULL, uid, NULL);
        }
    } else if (!ok) {
        cJSON_Delete(copy);
    }
    free(uid);
    return outcome;
}

/* ---- create ---- */

static bool is_crd_resource(const struct resource *resource)
{
    return strcmp(resource->storage_id, CRD_STORAGE) == 0;
}

static bool check_kind(struct store_error *error, const struct resource *resource, cJSON *object)
{
    const char *kind = string_at(object, "kind");
    if (kind && strcmp(kind, resource->kind) != 0) {
        error_set(error, 400, "BadRequest",
                  "the kind of the provided object (%s) does not match the resource (%s)", kind,
                  resource->kind);
        return false;
    }
    if (!set_string(object, "kind", resource->kind) ||
        !set_string(object, "apiVersion", resource->group_version)) {
        error_memory(error);
        return false;
    }
    return true;
}

static bool check_crd(struct store *store, struct store_error *error,
                      const struct resource *resource, const cJSON *object)
{
    if (!is_crd_resource(resource)) return true;
    const char *field = NULL;
    const char *problem = resources_check_crd(store->resources, object, &field);
    if (!problem) return true;
    invalid_cause(error, "FieldValueInvalid", field ? field : "spec", strdup(problem));
    error_finish_invalid(error, resource, meta_string(object, "name"));
    return false;
}

/* The status the sim gives a CRD at once: names accepted, established. */
static cJSON *crd_status(const struct store *store, const cJSON *crd)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
    cJSON *names = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(spec, "names"), true);
    cJSON *status = cJSON_CreateObject();
    char now[32];
    format_timestamp(store, now);
    bool ok = names && status;
    if (ok && !cJSON_GetObjectItemCaseSensitive(names, "singular")) {
        char *singular = strdup(string_at(names, "kind") ? string_at(names, "kind") : "");
        for (char *c = singular; c && *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        ok = singular && cJSON_AddStringToObject(names, "singular", singular);
        free(singular);
    }
    if (ok && !cJSON_GetObjectItemCaseSensitive(names, "listKind")) {
        char *list_kind = format_text("%sList", string_at(names, "kind") ? string_at(names, "kind") : "");
        ok = list_kind && cJSON_AddStringToObject(names, "listKind", list_kind);
        free(list_kind);
    }
    static const char *const conditions[][4] = {
        { "NamesAccepted", "NoConflicts", "no conflicts found" },
        { "Established", "InitialNamesAccepted", "the initial names have been accepted" },
    };
    cJSON *list = ok ? cJSON_AddArrayToObject(status, "conditions") : NULL;
    for (size_t i = 0; list && ok && i < 2; i++) {
        cJSON *condition = cJSON_CreateObject();
        ok = condition && cJSON_AddItemToArray(list, condition);
        if (!ok) {
            cJSON_Delete(condition);
            break;
        }
        ok = cJSON_AddStringToObject(condition, "type", conditions[i][0]) &&
             cJSON_AddStringToObject(condition, "status", "True") &&
             cJSON_AddStringToObject(condition, "lastTransitionTime", now) &&
             cJSON_AddStringToObject(condition, "reason", conditions[i][1]) &&
             cJSON_AddStringToObject(condition, "message", conditions[i][2]);
    }
    ok = ok && list && cJSON_AddItemToObject(status, "acceptedNames", names);
    if (!ok) {
        cJSON_Delete(names);
        cJSON_Delete(status);
        return NULL;
    }
    cJSON *stored = cJSON_AddArrayToObject(status, "storedVersions");
    const cJSON *version;
    cJSON_ArrayForEach(version, cJSON_GetObjectItemCaseSensitive(spec, "versions")) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(version, "storage"))) continue;
        cJSON *name = cJSON_CreateString(string_at(version, "name") ? string_at(version, "name") : "");
        if (!stored || !name || !cJSON_AddItemToArray(stored, name)) cJSON_Delete(name);
    }
    return status;
}

/* The fields the server fills on create; false on OOM. */
static bool fill_new_object(struct store *store, const struct resource *resource, cJSON *object,
                            const char *name)
{
    cJSON *metadata = metadata_of(object);
    char uid[37], now[32];
    make_uid(store, uid);
    format_timestamp(store, now);
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "deletionTimestamp");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "deletionGracePeriodSeconds");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "selfLink");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "generation");
    if (!set_string(metadata, "name", name) || !set_string(metadata, "uid", uid) ||
        !set_string(metadata, "creationTimestamp", now))
        return false;
    if (resource->has_generation && !set_item(metadata, "generation", cJSON_CreateNumber(1)))
        return false;
    if (resource->create_status == RESOURCE_STATUS_DROP) {
        cJSON_DeleteItemFromObjectCaseSensitive(object, "status");
    } else if (resource->create_status == RESOURCE_STATUS_RESET) {
        cJSON *status = is_crd_resource(resource) ? crd_status(store, object)
                                                  : cJSON_Parse(resource->initial_status);
        if (!set_item(object, "status", status)) return false;
    }
    if (strcmp(resource->storage_id, NAMESPACE_STORAGE) == 0) {
        cJSON *labels = cJSON_GetObjectItemCaseSensitive(metadata, "labels");
        if (!cJSON_IsObject(labels) && !set_item(metadata, "labels", labels = cJSON_CreateObject()))
            return false;
        if (!set_string(labels, "kubernetes.io/metadata.name", name)) return false;
        cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
        if (!cJSON_IsObject(spec) && !set_item(object, "spec", spec = cJSON_CreateObject())) return false;
        cJSON *finalizers = cJSON_CreateStringArray((const char *const[]){ "kubernetes" }, 1);
        if (!set_item(spec, "finalizers", finalizers)) return false;
    }
    return true;
}

static void random_suffix(struct store *store, char out[6])
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    for (int i = 0; i < 5; i++) out[i] = alphabet[next_random(store) % (sizeof alphabet - 1)];
    out[5] = '\0';
}

/* Checks that a namespaced object's namespace exists and is not terminating. */
static bool check_namespace(struct store *store, struct store_error *error,
                            const struct resource *resource, const char *namespace,
                            const char *name)
{
    const struct resource *namespaces = namespace_resource(store);
    struct entry *entry = namespaces ? find_entry(store, namespaces, NULL, namespace) : NULL;
    if (!entry) {
        error_set(error, 404, "NotFound", "namespaces \"%s\" not found", namespace);
        error_details(error, namespace, "", "namespaces");
        return false;
    }
    if (is_deleting(entry_tree(entry))) {
        error_set(error, 403, "Forbidden",
                  "%s \"%s\" is forbidden: unable to create new content in namespace %s because "
                  "it is being terminated", resource->plural, name ? name : "", namespace);
        error_details(error, name, resource->group, resource->plural);
        invalid_cause(error, "NamespaceTerminating", "metadata.namespace",
                      format_text("namespace %s is being terminated", namespace));
        return false;
    }
    return true;
}

/* The body of a create (POST, or a PUT that creates); `object` is taken. */
static bool create_object(struct store *store, const struct resource *resource,
                          const char *namespace, cJSON *object, struct store_reply *reply)
{
    struct store_error *error = &reply->error;
    char *path_namespace = NULL, *generate = NULL, *name = NULL, *key = NULL;
    bool ok = false;
    if (!cJSON_IsObject(object)) {
        error_bad_request(error, "the body of the request was not a JSON object");
        goto done;
    }
    if (!check_kind(error, resource, object)) goto done;
    if (!ensure_metadata(object)) {
        error_memory(error);
        goto done;
    }
    cJSON *metadata = metadata_of(object);
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "resourceVersion");
    const char *body_namespace = meta_string(object, "namespace");
    if (resource->namespaced) {
        if (!empty(namespace) && !empty(body_namespace) && strcmp(namespace, body_namespace) != 0) {
            error_bad_request(error, "the namespace of the provided object does not match the "
                                     "namespace sent on the request");
            goto done;
        }
        path_namespace = strdup(!empty(namespace) ? namespace : body_namespace ? body_namespace : "");
        if (!path_namespace || !set_string(metadata, "namespace", path_namespace)) {
            error_memory(error);
            goto done;
        }
        if (!path_namespace[0]) {
            error_bad_request(error, "the namespace of the object is required");
            goto done;
        }
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(metadata, "namespace");
    }
    const char *given = meta_string(object, "name");
    const char *prefix = meta_string(object, "generateName");
    if (empty(given) && empty(prefix)) {
        invalid_cause(error, "FieldValueRequired", "metadata.name",
                      strdup("Required value: name or generateName is required"));
        error_finish_invalid(error, resource, "");
        goto done;
    }
    if (empty(given) && !(generate = strndup(prefix, 58))) {
        error_memory(error);
        goto done;
    }
    if (!check_crd(store, error, resource, object)) goto done;
    check_owner_references(error, object);
    if (error->cause_count) {
        error_finish_invalid(error, resource, given ? given : generate);
        goto done;
    }
    if (resource->namespaced &&
        !check_namespace(store, error, resource, path_namespace, given ? given : generate))
        goto done;
    struct bucket *bucket = get_bucket(store, resource);
    if (!bucket) {
        error_memory(error);
        goto done;
    }
    for (int attempt = 0;; attempt++) {
        free(name);
        free(key);
        key = NULL;
        if (generate) {
            char suffix[6];
            random_suffix(store, suffix);
            name = format_text("%s%s", generate, suffix);
        } else {
            name = strdup(given);
        }
        if (!name || !(key = make_key(resource, path_namespace, name))) {
            error_memory(error);
            goto done;
        }
        check_name(error, resource, name);
        if (error->cause_count) {
            error_finish_invalid(error, resource, name);
            goto done;
        }
        if (!sorted_map_find(&bucket->objects, key)) break;
        if (!generate || attempt + 1 >= GENERATE_NAME_ATTEMPTS) {
            char *qualified = qualified_plural(resource);
            error_set(error, 409, "AlreadyExists", "%s \"%s\" already exists",
                      qualified ? qualified : "", name);
            free(qualified);
            error_details(error, name, resource->group, resource->plural);
            goto done;
        }
    }
    if (!fill_new_object(store, resource, object, name)) {
        error_memory(error);
        goto done;
    }
    struct entry *entry = entry_insert(store, bucket, key, object);
    object = NULL;  /* taken by entry_insert */
    if (!entry) {
        error_memory(error);
        goto done;
    }
    if (is_crd_resource(resource)) resources_register_crd(store->resources, entry_tree(entry));
    reply->outcome = STORE_CREATED;
    reply->object = store_object_retain(entry->current);
    ok = true;
done:
    cJSON_Delete(object);
    free(path_namespace);
    free(generate);
    free(name);
    free(key);
    return ok;
}

static void reply_start(struct store_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->outcome = STORE_FAILED;
}

bool store_create(struct store *store, const struct resource *resource, const char *namespace,
                  cJSON *object, struct store_reply *reply)
{
    reply_start(reply);
    if (store->dispatching) {
        cJSON_Delete(object);
        error_busy(&reply->error);
        return false;
    }
    bool ok = create_object(store, resource, namespace, object, reply);
    drain(store);
    return ok;
}

/* ---- update ---- */

static bool skipped_for_generation(const char *key, bool skip_status)
{
    return strcmp(key, "metadata") == 0 || (skip_status && strcmp(key, "status") == 0);
}

/* True when `a` and `b` agree on everything but metadata (and status). */
static bool same_outside_metadata(const cJSON *a, const cJSON *b, bool skip_status)
{
    size_t count_a = 0, count_b = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, a) {
        if (skipped_for_generation(item->string, skip_status)) continue;
        count_a++;
        if (!same_json(item, cJSON_GetObjectItemCaseSensitive(b, item->string))) return false;
    }
    cJSON_ArrayForEach(item, b) count_b += !skipped_for_generation(item->string, skip_status);
    return count_a == count_b;
}

/* The optimistic-concurrency rule shared by PUT and PUT /status. */
static bool check_resource_version(struct store_error *error, const struct resource *resource,
                                   const cJSON *object, const cJSON *old)
{
    const char *given = meta_string(object, "resourceVersion");
    const char *name = meta_string(old, "name");
    if (!empty(given)) {
        const char *current = meta_string(old, "resourceVersion");
        if (current && strcmp(given, current) == 0) return true;
        error_conflict(error, resource, name, STALE);
        return false;
    }
    if (resource->allow_unconditional_update) return true;
    invalid_cause(error, "FieldValueInvalid", "metadata.resourceVersion",
                  strdup("Invalid value: 0x0: must be specified for an update"));
    error_finish_invalid(error, resource, name);
    /* The real message names the plural here, not the kind. */
    free(error->message);
    char *qualified = qualified_plural(resource);
    error->message = format_text("%s \"%s\" is invalid: metadata.resourceVersion: Invalid value: "
                                 "0x0: must be specified for an update",
                                 qualified ? qualified : "", name ? name : "");
    free(qualified);
    return false;
}

static bool check_url_identity(struct store_error *error, const struct resource *resource,
                               const char *namespace, const char *name, const cJSON *object)
{
    const char *body_name = meta_string(object, "name");
    if (!empty(body_name) && strcmp(body_name, name) != 0) {
        error_set(error, 400, "BadRequest",
                  "the name of the object (%s) does not match the name on the URL (%s)",
                  body_name, name);
        return false;
    }
    const char *body_namespace = meta_string(object, "namespace");
    if (resource->namespaced && !empty(body_namespace) && !empty(namespace) &&
        strcmp(body_namespace, namespace) != 0) {
        error_bad_request(error, "the namespace of the provided object does not match the "
                                 "namespace sent on the request");
        return false;
    }
    return true;
}

/* New finalizers are refused once deletion started. */
static bool check_finalizers(struct store_error *error, const struct resource *resource,
                             const cJSON *object, const cJSON *old)
{
    if (!is_deleting(old)) return true;
    struct buffer added = { 0 };
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(metadata_of(object), "finalizers")) {
        if (!cJSON_IsString(item) || has_finalizer(old, item->valuestring)) continue;
        buffer_append_format(&added, "%s\"%s\"", added.length ? ", " : "", item->valuestring);
    }
    if (added.length == 0) {
        buffer_free(&added);
        return true;
    }
    invalid_cause(error, "FieldValueForbidden", "metadata.finalizers",
                  format_text("Forbidden: no new finalizers can be added if the object is being "
                              "deleted, found new finalizers []string{%s}", buffer_string(&added)));
    buffer_free(&added);
    error_finish_invalid(error, resource, meta_string(old, "name"));
    return false;
}

static bool update_object(struct store *store, const struct resource *resource,
                          struct entry *entry, cJSON *object, struct store_reply *reply)
{
    struct store_error *error = &reply->error;
    const cJSON *old = entry_tree(entry);
    bool ok = false;
    if (!check_resource_version(error, resource, object, old) ||
        !check_kind(error, resource, object) || !check_crd(store, error, resource, object))
        goto done;
    check_owner_references(error, object);
    if (error->cause_count) {
        error_finish_invalid(error, resource, meta_string(old, "name"));
        goto done;
    }
    cJSON *metadata = metadata_of(object);
    const cJSON *old_metadata = metadata_of(old);
    static const char *const forced[] = { "name", "namespace", "uid", "creationTimestamp",
                                          "deletionTimestamp", "deletionGracePeriodSeconds",
                                          "generation", "resourceVersion" };
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++) {
        if (!keep_item(metadata, old_metadata, forced[i])) {
            error_memory(error);
            goto done;
        }
    }
    if (resource->has_status && !keep_item(object, old, "status")) {
        error_memory(error);
        goto done;
    }
    if (!check_finalizers(error, resource, object, old)) goto done;
    if (same_json(object, old)) {
        reply->outcome = STORE_UNCHANGED;
        reply->object = store_object_retain(entry->current);
        ok = true;
        goto done;
    }
    const cJSON *generation = cJSON_GetObjectItemCaseSensitive(old_metadata, "generation");
    if (resource->has_generation && !same_outside_metadata(object, old, resource->has_status) &&
        !set_item(metadata, "generation",
                  cJSON_CreateNumber(cJSON_IsNumber(generation) ? generation->valuedouble + 1 : 1))) {
        error_memory(error);
        goto done;
    }
    bool crd = is_crd_resource(resource);
    reply->outcome = entry_commit(store, entry, object, &reply->object);
    object = NULL;
    if (reply->outcome == STORE_FAILED) {
        error_memory(error);
        goto done;
    }
    if (crd && reply->outcome == STORE_UPDATED)
        resources_register_crd(store->resources, store_object_tree(reply->object));
    ok = true;
done:
    cJSON_Delete(object);
    return ok;
}

bool store_update(struct store *store, const struct resource *resource, const char *namespace,
                  const char *name, cJSON *object, struct store_reply *reply)
{
    reply_start(reply);
    struct store_error *error = &reply->error;
    if (store->dispatching) {
        cJSON_Delete(object);
        error_busy(error);
        return false;
    }
    if (!cJSON_IsObject(object) || !ensure_metadata(object)) {
        cJSON_Delete(object);
        error_bad_request(error, "the body of the request was not a JSON object");
        return false;
    }
    if (!check_url_identity(error, resource, namespace, name, object)) {
        cJSON_Delete(object);
        return false;
    }
    struct entry *entry = find_entry(store, resource, namespace, name);
    bool ok;
    if (entry) {
        ok = update_object(store, resource, entry, object, reply);
    } else if (resource->allow_create_on_update) {
        ok = set_string(metadata_of(object), "name", name) &&
             create_object(store, resource, namespace, object, reply);
    } else {
        cJSON_Delete(object);
        error_not_found(error, resource, name);
        ok = false;
    }
    drain(store);
    return ok;
}

bool store_update_status(struct store *store, const struct resource *resource,
                         const char *namespace, const char *name, cJSON *object,
                         struct store_reply *reply)
{
    reply_start(reply);
    struct store_error *error = &reply->error;
    cJSON *copy = NULL;
    bool ok = false;
    if (store->dispatching) {
        error_busy(error);
        goto done;
    }
    if (!resource->has_status) {
        error_set(error, 404, "NotFound", "the server could not find the requested resource");
        goto done;
    }
    if (!cJSON_IsObject(object)) {
        error_bad_request(error, "the body of the request was not a JSON object");
        goto done;
    }
    if (!check_url_identity(error, resource, namespace, name, object)) goto done;
    struct entry *entry = find_entry(store, resource, namespace, name);
    if (!entry) {
        error_not_found(error, resource, name);
        goto done;
    }
    if (!check_resource_version(error, resource, object, entry_tree(entry))) goto done;
    if (!(copy = cJSON_Duplicate(entry_tree(entry), true))) {
        error_memory(error);
        goto done;
    }
    cJSON *status = cJSON_DetachItemFromObjectCaseSensitive(object, "status");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "status");
    if (status && !cJSON_AddItemToObject(copy, "status", status)) {
        cJSON_Delete(status);
        error_memory(error);
        goto done;
    }
    if (same_json(copy, entry_tree(entry))) {
        reply->outcome = STORE_UNCHANGED;
        reply->object = store_object_retain(entry->current);
        ok = true;
        goto done;
    }
    reply->outcome = entry_commit(store, entry, copy, &reply->object);
    copy = NULL;
    if (reply->outcome == STORE_FAILED) {
        error_memory(error);
        goto done;
    }
    ok = true;
done:
    cJSON_Delete(copy);
    cJSON_Delete(object);
    if (!store->dispatching) drain(store);
    return ok;
}

/* ---- delete ---- */

bool store_delete(struct store *store, const struct resource *resource, const char *namespace,
                  const char *name, const struct store_delete_options *options,
                  struct store_reply *reply)
{
    reply_start(reply);
    struct store_error *error = &reply->error;
    static const struct store_delete_options defaults = { .propagation = STORE_PROPAGATION_BACKGROUND };
    if (!options) options = &defaults;
    if (store->dispatching) {
        error_busy(error);
        return false;
    }
    struct entry *entry = find_entry(store, resource, namespace, name);
    if (!entry) {
        error_not_found(error, resource, name);
        return false;
    }
    const cJSON *tree = entry_tree(entry);
    const char *uid = meta_string(tree, "uid");
    const char *version = meta_string(tree, "resourceVersion");
    if (options->precondition_uid && (!uid || strcmp(options->precondition_uid, uid) != 0)) {
        char *why = format_text("Precondition failed: UID in precondition: %s, UID in object meta: %s",
                                options->precondition_uid, uid ? uid : "");
        error_conflict(error, resource, name, why ? why : "Precondition failed");
        free(why);
        return false;
    }
    if (options->precondition_resource_version &&
        (!version || strcmp(options->precondition_resource_version, version) != 0)) {
        char *why = format_text("the ResourceVersion in the precondition (%s) does not match the "
                                "ResourceVersion in record (%s). The object might have been modified",
                                options->precondition_resource_version, version ? version : "");
        error_conflict(error, resource, name, why ? why : "Precondition failed");
        free(why);
        return false;
    }
    store->tracked_uid = uid ? strdup(uid) : NULL;
    if (!store->tracked_uid) {
        error_memory(error);
        return false;
    }
    get_bucket(store, resource);  /* writes not tied to this call use the caller's record */
    enum store_outcome outcome = delete_entry(store, entry, options->propagation,
                                              options->has_grace_period ? options->grace_period_seconds : -1);
    drain(store);
    struct entry *still = sorted_map_find(&store->by_uid, store->tracked_uid);
    if (outcome == STORE_FAILED) {
        error_memory(error);
    } else if (still) {
        reply->outcome = STORE_DELETING;
        reply->object = store_object_retain(still->current);
    } else {
        reply->outcome = STORE_REMOVED;
        reply->object = store_object_retain(store->tracked_final);
    }
    free(store->tracked_uid);
    store->tracked_uid = NULL;
    store_object_release(store->tracked_final);
    store->tracked_final = NULL;
    return reply->outcome != STORE_FAILED;
}

/* ---- get and list ---- */

struct store_object *store_get(struct store *store, const struct resource *resource,
                               const char *namespace, const char *name, struct store_error *error)
{
    struct entry *entry = find_entry(store, resource, namespace, name);
    if (!entry) {
        error_not_found(error, resource, name ? name : "");
        return NULL;
    }
    return store_object_retain(entry->current);
}

static const char BASE64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *base64url_encode(const char *text)
{
    size_t length = strlen(text);
    char *out = malloc(length / 3 * 4 + 5);
    if (!out) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < length; i += 3) {
        uint32_t chunk = (uint32_t)(unsigned char)text[i] << 16;
        if (i + 1 < length) chunk |= (uint32_t)(unsigned char)text[i + 1] << 8;
        if (i + 2 < length) chunk |= (unsigned char)text[i + 2];
        out[at++] = BASE64URL[(chunk >> 18) & 63];
        out[at++] = BASE64URL[(chunk >> 12) & 63];
        if (i + 1 < length) out[at++] = BASE64URL[(chunk >> 6) & 63];
        if (i + 2 < length) out[at++] = BASE64URL[chunk & 63];
    }
    out[at] = '\0';
    return out;
}

static char *base64url_decode(const char *text)
{
    size_t length = strlen(text);
    char *out = malloc(length / 4 * 3 + 4);
    if (!out) return NULL;
    size_t at = 0;
    uint32_t bits = 0;
    int count = 0;
    for (size_t i = 0; i < length; i++) {
        const char *found = text[i] ? strchr(BASE64URL, text[i]) : NULL;
        if (!found) {
            free(out);
            return NULL;
        }
        bits = (bits << 6) | (uint32_t)(found - BASE64URL);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out[at++] = (char)((bits >> count) & 0xff);
        }
    }
    out[at] = '\0';
    return out;
}

/* Like the real server's: base64 of {"v","rv","start"} with the last key served. */
static char *encode_continue(uint64_t version, const char *key)
{
    cJSON *token = cJSON_CreateObject();
    char *text = NULL, *encoded = NULL;
    if (token && cJSON_AddStringToObject(token, "v", "meta.k8s.io/v1") &&
        cJSON_AddNumberToObject(token, "rv", (double)version) &&
        cJSON_AddStringToObject(token, "start", key))
        text = cJSON_PrintUnformatted(token);
    if (text) encoded = base64url_encode(text);
    free(text);
    cJSON_Delete(token);
    return encoded;
}

static bool decode_continue(const char *token, uint64_t *version, char **key)
{
    char *text = base64url_decode(token);
    cJSON *parsed = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(parsed, "rv");
    const char *start = string_at(parsed, "start");
    bool ok = cJSON_IsNumber(rv) && rv->valuedouble >= 0 && start &&
              strcmp(string_at(parsed, "v") ? string_at(parsed, "v") : "", "meta.k8s.io/v1") == 0;
    if (ok) {
        *version = (uint64_t)rv->valuedouble;
        ok = (*key = strdup(start)) != NULL;
    }
    cJSON_Delete(parsed);
    return ok;
}

struct list_walk {
    const char *prefix;
    store_match match;
    void *match_data;
    size_t limit;
    struct store_list *list;
    size_t capacity;
    const char *last_key;
    bool more;
    long remaining;
    bool failed;
};

static bool list_visit(const char *key, void *value, void *data)
{
    struct list_walk *walk = data;
    if (walk->prefix && !starts_with(key, walk->prefix)) return false;
    struct entry *entry = value;
    if (walk->match && !walk->match(entry_tree(entry), walk->match_data)) return true;
    struct store_list *list = walk->list;
    if (walk->limit && list->count == walk->limit) {
        walk->more = true;
        walk->remaining++;
        /* Counting the rest is only meaningful (and reported) without a filter. */
        return walk->match == NULL;
    }
    if (list->count == walk->capacity) {
        size_t capacity = walk->capacity ? walk->capacity * 2 : 64;
        struct store_object **grown = realloc(list->items, capacity * sizeof *grown);
        if (!grown) {
            walk->failed = true;
            return false;
        }
        list->items = grown;
        walk->capacity = capacity;
    }
    list->items[list->count++] = store_object_retain(entry->current);
    walk->last_key = key;
    return true;
}

bool store_list(struct store *store, const struct resource *resource,
                const struct store_list_options *options, struct store_list *list,
                struct store_error *error)
{
    memset(list, 0, sizeof *list);
    list->remaining = -1;
    static const struct store_list_options defaults = { 0 };
    if (!options) options = &defaults;
    char *prefix = NULL, *after = NULL;
    uint64_t version = store->version;
    if (resource->namespaced && !empty(options->namespace) &&
        !(prefix = format_text("%s/", options->namespace))) {
        error_memory(error);
        return false;
    }
    if (!empty(options->continue_token)) {
        if (!decode_continue(options->continue_token, &version, &after) ||
            (prefix && !starts_with(after, prefix))) {
            error_bad_request(error, "invalid continue token");
            goto fail;
        }
        if (version < history_compacted(store->history)) {
            error_set(error, 410, "Expired",
                      "The provided continue parameter is too old to display a consistent list "
                      "result. You can start a new list without the continue parameter.");
            goto fail;
        }
    }
    struct list_walk walk = { prefix, options->match, options->match_data, options->limit, list,
                              0, NULL, false, 0, false };
    struct bucket *bucket = find_bucket(store, resource);
    if (bucket)
        sorted_map_walk(&bucket->objects, after ? after : prefix, after == NULL, list_visit, &walk);
    if (walk.failed) {
        error_memory(error);
        goto fail;
    }
    list->resource_version = version;
    if (walk.more) {
        if (!(list->continue_token = encode_continue(version, walk.last_key))) {
            error_memory(error);
            goto fail;
        }
        list->remaining = options->match ? -1 : walk.remaining;
    }
    free(prefix);
    free(after);
    return true;
fail:
    free(prefix);
    free(after);
    store_list_free(list);
    return false;
}

void store_list_free(struct store_list *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) store_object_release(list->items[i]);
    free(list->items);
    free(list->continue_token);
    memset(list, 0, sizeof *list);
    list->remaining = -1;
}

char *store_list_json(const struct resource *resource, struct store_list *list)
{
    struct buffer out = { 0 };
    bool ok = buffer_append_format(&out,
                                   "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                                   "\"resourceVersion\":\"%" PRIu64 "\"",
                                   resource->list_kind, resource->group_version,
                                   list->resource_version);
    if (ok && list->continue_token)
        ok = buffer_append_format(&out, ",\"continue\":\"%s\"", list->continue_token);
    if (ok && list->continue_token && list->remaining >= 0)
        ok = buffer_append_format(&out, ",\"remainingItemCount\":%ld", list->remaining);
    ok = ok && buffer_append_string(&out, "},\"items\":[");
    for (size_t i = 0; ok && i < list->count; i++) {
        const char *json = store_object_json(list->items[i]);
        ok = json && (i == 0 || buffer_append_string(&out, ",")) && buffer_append_string(&out, json);
    }
    ok = ok && buffer_append_string(&out, "]}");
    if (!ok) {
        buffer_free(&out);
        return NULL;
    }
    return buffer_take(&out);
}

/* ---- watches ---- */

struct store_watch *store_watch_start(struct store *store, const struct resource *resource,
                                      const struct store_watch_options *options,
                                      store_watch_callback callback, void *data,
                                      struct store_error *error)
{
    static const struct store_watch_options defaults = { 0 };
    if (!options) options = &defaults;
    const char *requested = options->resource_version;
    bool initial = empty(requested) || strcmp(requested, "0") == 0;
    uint64_t from = 0;
    if (!initial && !parse_version(requested, &from)) {
        error_set(error, 400, "BadRequest", "invalid resource version: %s", requested);
        return NULL;
    }
    if (!initial && from < history_compacted(store->history)) {
        error_set(error, 410, "Expired", "too old resource version: %" PRIu64 " (%" PRIu64 ")",
                  from, history_compacted(store->history));
        return NULL;
    }
    struct bucket *bucket = get_bucket(store, resource);
    struct store_watch *watch = bucket ? calloc(1, sizeof *watch) : NULL;
    if (watch && !empty(options->namespace) && !(watch->namespace = strdup(options->namespace))) {
        free(watch);
        watch = NULL;
    }
    if (!watch) {
        error_memory(error);
        return NULL;
    }
    watch->bucket = bucket;
    watch->match = options->match;
    watch->match_data = options->match_data;
    watch->callback = callback;
    watch->data = data;
    store->dispatching++;
    if (initial) {
        char *prefix = resource->namespaced && watch->namespace
                           ? format_text("%s/", watch->namespace) : NULL;
        struct collected current = collect_prefix(&bucket->objects, prefix);
        for (size_t i = 0; i < current.count; i++)
            deliver(watch, STORE_EVENT_ADDED, current.entries[i]->current, NULL);
        free(current.entries);
        free(prefix);
    } else {
        for (size_t i = history_find_after(store->history, from); i < history_count(store->history); i++) {
            const struct history_event *event = history_at(store->history, i);
            if (event->storage == bucket) deliver(watch, event->type, event->object, event->previous);
        }
    }
    struct store_watch **link = &bucket->watches;
    while (*link) link = &(*link)->next;
    *link = watch;
    end_dispatch(store);
    return watch;
}

void store_watch_stop(struct store *store, struct store_watch *watch)
{
    if (!watch || watch->stopped) return;
    watch->stopped = true;
    store->stopped_watches++;
    if (!store->dispatching) sweep_watches(store, watch->bucket);
}

/* ---- life cycle ---- */

uint64_t store_resource_version(const struct store *store) { return store->version; }

void store_set_graceful_pods(struct store *store, bool on)
{
    store->graceful_pods = on;
}

struct resource_table *store_resources(struct store *store) { return store->resources; }

void store_compact_history(struct store *store) { history_compact(store->history, store->version); }

static void free_entry(void *value)
{
    struct entry *entry = value;
    store_object_release(entry->current);
    free(entry->key);
    free(entry);
}

static void clear_objects(struct store *store)
{
    struct bucket_list buckets = { 0 };
    sorted_map_walk(&store->buckets, NULL, false, bucket_list_visit, &buckets);
    for (size_t i = 0; i < buckets.count; i++) sorted_map_clear(&buckets.buckets[i]->objects, free_entry);
    free(buckets.buckets);
    sorted_map_clear(&store->dependents, NULL);
    sorted_map_clear(&store->by_uid, NULL);
}

static void free_bucket(void *value)
{
    struct bucket *bucket = value;
    sorted_map_clear(&bucket->objects, free_entry);
    while (bucket->watches) {
        struct store_watch *next = bucket->watches->next;
        free(bucket->watches->namespace);
        free(bucket->watches);
        bucket->watches = next;
    }
    free(bucket->id);
    free(bucket);
}

void store_free(struct store *store)
{
    if (!store) return;
    sorted_map_clear(&store->dependents, NULL);
    sorted_map_clear(&store->by_uid, NULL);
    sorted_map_clear(&store->buckets, free_bucket);
    history_free(store->history);
    for (size_t i = store->work_head; i < store->work_count; i++) {
        free(store->work[i].key);
        free(store->work[i].uid);
        store_object_release(store->work[i].object);
    }
    free(store->work);
    free(store->tracked_uid);
    store_object_release(store->tracked_final);
    resources_free(store->resources);
    free(store);
}

struct store *store_new(const struct store_options *options)
{
    static const struct store_options defaults = { 0 };
    if (!options) options = &defaults;
    struct store *store = calloc(1, sizeof *store);
    if (!store) return NULL;
    store->clock = options->clock ? options->clock : clock_system();
    store->random_state = options->random_seed;
    if (!store->random_state) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        store->random_state = (uint64_t)now.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)now.tv_sec;
        if (!store->random_state) store->random_state = 1;
    }
    store->resources = resources_new();
    store->history = history_new(options->history_size ? options->history_size : DEFAULT_HISTORY_SIZE);
    if (!store->resources || !store->history) {
        store_free(store);
        return NULL;
    }
    static const char *const initial[] = { "default", "kube-system", "kube-public", "kube-node-lease" };
    const struct resource *namespaces = namespace_resource(store);
    for (size_t i = 0; i < sizeof initial / sizeof initial[0]; i++) {
        cJSON *object = cJSON_CreateObject();
        cJSON *metadata = object ? cJSON_AddObjectToObject(object, "metadata") : NULL;
        struct store_reply reply;
        bool ok = metadata && cJSON_AddStringToObject(metadata, "name", initial[i]) &&
                  store_create(store, namespaces, NULL, object, &reply);
        if (!metadata) cJSON_Delete(object);
        store_reply_clear(&reply);
        if (!ok) {
            store_free(store);
            return NULL;
        }
    }
    return store;
}

/* ---- persistence ---- */

struct save_state {
    struct buffer *out;
    bool first;
    bool crds;  /* this pass writes only CRDs (they must load first) */
    bool ok;
};

static bool save_entry(const char *key, void *value, void *data)
{
    (void)key;
    struct save_state *state = data;
    struct entry *entry = value;
    const char *json = store_object_json(entry->current);
    state->ok = state->ok && json &&
                buffer_append_format(state->out, "%s{\"storage\":\"%s\",\"object\":%s}",
                                     state->first ? "" : ",\n", entry->bucket->id, json);
    state->first = false;
    return state->ok;
}

static bool save_bucket(const char *key, void *value, void *data)
{
    struct save_state *state = data;
    if ((strcmp(key, CRD_STORAGE) == 0) != state->crds) return true;
    sorted_map_walk(&((struct bucket *)value)->objects, NULL, false, save_entry, state);
    return state->ok;
}

bool store_save(struct store *store, const char *path)
{
    struct buffer out = { 0 };
    struct save_state state = { &out, true, true, true };
    state.ok = buffer_append_format(&out, "{\"resourceVersion\":\"%" PRIu64 "\",\"objects\":[\n",
                                    store->version);
    sorted_map_walk(&store->buckets, NULL, false, save_bucket, &state);
    state.crds = false;
    sorted_map_walk(&store->buckets, NULL, false, save_bucket, &state);
    bool ok = state.ok && buffer_append_string(&out, "\n]}\n");
    char *temporary = ok ? format_text("%s.tmp", path) : NULL;
    FILE *file = temporary ? fopen(temporary, "w") : NULL;
    if (file) {
        ok = fwrite(out.data, 1, out.length, file) == out.length;
        ok = (fclose(file) == 0) && ok;
        ok = ok && rename(temporary, path) == 0;
        if (!ok) unlink(temporary);
    } else {
        ok = false;
    }
    free(temporary);
    buffer_free(&out);
    return ok;
}

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file) return NULL;
    struct buffer text = { 0 };
    char chunk[65536];
    size_t count;
    bool ok = true;
    while (ok && (count = fread(chunk, 1, sizeof chunk, file)) > 0) ok = buffer_append(&text, chunk, count);
    ok = ok && !ferror(file);
    fclose(file);
    if (!ok) {
        buffer_free(&text);
        return NULL;
    }
    if (!text.data) return strdup("");
    return buffer_take(&text);
}

/* Puts a saved object back as it was: no event, its own resourceVersion. */
static bool adopt(struct store *store, const char *storage, cJSON *tree)
{
    char group[256];
    const char *slash = strchr(storage, '/');
    if (!slash || (size_t)(slash - storage) >= sizeof group) return false;
    memcpy(group, storage, (size_t)(slash - storage));
    group[slash - storage] = '\0';
    const struct resource *resource = resources_find_storage(store->resources, group, slash + 1);
    const char *name = meta_string(tree, "name");
    uint64_t version = 0;
    if (!resource || empty(name) || !parse_version(meta_string(tree, "resourceVersion"), &version))
        return false;
    struct bucket *bucket = get_bucket(store, resource);
    struct entry *entry = bucket ? calloc(1, sizeof *entry) : NULL;
    struct store_object *object = entry ? calloc(1, sizeof *object) : NULL;
    if (object) entry->key = make_key(resource, meta_string(tree, "namespace"), name);
    if (!object || !entry->key || !sorted_map_insert(&bucket->objects, entry->key, entry)) {
        if (entry) free(entry->key);
        free(entry);
        free(object);
        return false;
    }
    object->references = 1;
    object->tree = tree;
    object->resource_version = version;
    entry->bucket = bucket;
    entry->current = object;
    index_owners(store, entry, tree, true);
    const char *uid = meta_string(tree, "uid");
    if (uid) sorted_map_insert(&store->by_uid, uid, entry);
    if (is_crd_resource(resource)) resources_register_crd(store->resources, tree);
    return true;
}

bool store_load(struct store *store, const char *path)
{
    if (store->dispatching) return false;
    char *text = read_file(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    uint64_t version = 0;
    cJSON *objects = cJSON_GetObjectItemCaseSensitive(root, "objects");
    if (!cJSON_IsArray(objects) || !parse_version(string_at(root, "resourceVersion"), &version)) {
        cJSON_Delete(root);
        return false;
    }
    const struct resource *crds = resources_find_storage(store->resources, "apiextensions.k8s.io",
                                                         "customresourcedefinitions");
    struct bucket *crd_bucket = crds ? find_bucket(store, crds) : NULL;
    if (crd_bucket) {
        struct collected all = collect_prefix(&crd_bucket->objects, NULL);
        for (size_t i = 0; i < all.count; i++) {
            const char *name = meta_string(entry_tree(all.entries[i]), "name");
            if (name) resources_unregister_crd(store->resources, name);
        }
        free(all.entries);
    }
    clear_objects(store);
    bool ok = true;
    for (int pass = 0; pass < 2; pass++) {
        cJSON *item = objects->child;
        while (item) {
            cJSON *next = item->next;
            const char *storage = string_at(item, "storage");
            bool crd = storage && strcmp(storage, CRD_STORAGE) == 0;
            if (storage && crd == (pass == 0)) {
                cJSON *tree = cJSON_DetachItemFromObjectCaseSensitive(item, "object");
                if (!cJSON_IsObject(tree) || !adopt(store, storage, tree)) {
                    cJSON_Delete(tree);
                    ok = false;
                }
            }
            item = next;
        }
    }
    cJSON_Delete(root);
    if (version > store->version) store->version = version;
    history_compact(store->history, store->version);
    return ok;
}
