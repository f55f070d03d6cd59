#include "watchers/objects.h"

#include "reactor/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- small helpers ----------------------------------------------------------- */

const cJSON *json_path(const cJSON *object, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count && object != NULL; i++)
        object = cJSON_IsObject(object) ? cJSON_GetObjectItemCaseSensitive(object, names[i])
                                        : NULL;
    return object;
}

const char *json_string(const cJSON *item)
{
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

bool json_intern(struct string_pool *pool, const cJSON *item, const char **out)
{
    *out = NULL;
    const char *text = json_string(item);
    if (text == NULL)
        return true;
    *out = string_pool_intern(pool, text);
    return *out != NULL;
}

static bool has_prefix(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

bool object_keep_operator_label(const char *key)
{
    return has_prefix(key, "app.kubernetes.io/") || has_prefix(key, "tidb.pingcap.com/") ||
           has_prefix(key, "pingcap.com/");
}

bool object_keep_operator_annotation(const char *key)
{
    return has_prefix(key, "tidb.pingcap.com/") || has_prefix(key, "pingcap.com/");
}

bool object_keep_all(const char *key)
{
    (void)key;
    return true;
}

bool object_keep_none(const char *key)
{
    (void)key;
    return false;
}

uint64_t kube_hash_bytes(uint64_t hash, const void *data, size_t length)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < length; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

bool kube_parse_rv(const char *text, uint64_t *rv)
{
    if (text == NULL || *text == '\0')
        return false;
    uint64_t value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *rv = value;
    return true;
}

/* --- the tail ------------------------------------------------------------------ */

size_t object_tail_array_size(size_t count, size_t size)
{
    return (count * size + 7) & ~(size_t)7;
}

size_t object_tail_string_size(const char *text)
{
    return text != NULL ? strlen(text) + 1 : 0;
}

void *object_tail_array(struct object_tail *tail, size_t count, size_t size, bool *ok)
{
    if (count == 0)
        return NULL;
    size_t need = object_tail_array_size(count, size);
    if (need > (size_t)(tail->back - tail->front)) {
        *ok = false;
        return NULL;
    }
    void *array = tail->front;
    tail->front += need;
    return array;
}

/* `length` bytes from the back of the tail, or NULL (and *ok false). */
static char *tail_take(struct object_tail *tail, size_t length, bool *ok)
{
    if (length > (size_t)(tail->back - tail->front)) {
        *ok = false;
        return NULL;
    }
    tail->back -= length;
    return tail->back;
}

const char *object_tail_string(struct object_tail *tail, const char *text, bool *ok)
{
    if (text == NULL)
        return NULL;
    size_t length = strlen(text) + 1;
    char *copy = tail_take(tail, length, ok);
    if (copy != NULL)
        memcpy(copy, text, length);
    return copy;
}

/* --- uid and resourceVersion ------------------------------------------------------ */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A canonical lower-case UUID ("0b6c3f51-9d3e-4d8f-a0a8-6c1f0e2b8f11") into
 * its 16 bytes; false for anything else (kept as text then). */
static bool uuid_parse(const char *text, uint8_t bytes[16])
{
    if (strlen(text) != 36)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i++] != '-')
                return false;
            continue;
        }
        int high = hex_value(text[i]), low = hex_value(text[i + 1]);
        if (high < 0 || low < 0)
            return false;
        bytes[n++] = (uint8_t)(high << 4 | low);
        i += 2;
    }
    return true;
}

const char *object_uid(const struct object_meta *meta, char buffer[OBJECT_UID_SIZE])
{
    if (!(meta->flags & OBJECT_UID_BYTES))
        return meta->uid.text != NULL ? meta->uid.text : "";
    static const char digits[] = "0123456789abcdef";
    char *p = buffer;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = digits[meta->uid.bytes[i] >> 4];
        *p++ = digits[meta->uid.bytes[i] & 15];
    }
    *p = '\0';
    return buffer;
}

/* A resourceVersion that formatting meta->rv gives back exactly. */
static bool rv_canonical(const char *text, uint64_t *rv)
{
    return kube_parse_rv(text, rv) && (text[0] != '0' || text[1] == '\0');
}

const char *object_resource_version(const struct object_meta *meta, char buffer[OBJECT_RV_SIZE])
{
    if (meta->flags & OBJECT_RV_TEXT)
        return meta->key + strlen(meta->key) + 1;
    snprintf(buffer, OBJECT_RV_SIZE, "%" PRIu64, meta->rv);
    return buffer;
}

/* --- metadata ------------------------------------------------------------------ */

static const char *find_label(const struct kube_label *labels, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(labels[i].key, key) == 0)
            return labels[i].value;
    return NULL;
}

const char *object_label(const struct object_meta *meta, const char *key)
{
    return find_label(meta->labels, meta->label_count, key);
}

/* The annotations, after the labels in the same array (NULL when neither). */
static const struct kube_label *annotations_of(const struct object_meta *meta)
{
    return meta->labels != NULL ? meta->labels + meta->label_count : NULL;
}

const char *object_annotation(const struct object_meta *meta, const char *key)
{
    return find_label(annotations_of(meta), meta->annotation_count, key);
}

/* The kept string entries of a label or annotation map (at most UINT16_MAX). */
static size_t count_kept(const cJSON *map, bool (*keep)(const char *key))
{
    if (!cJSON_IsObject(map) || keep == NULL)
        return 0;
    size_t kept = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, map)
        if (entry->string != NULL && cJSON_IsString(entry) && keep(entry->string))
            kept++;
    return kept > UINT16_MAX ? UINT16_MAX : kept;
}

/* Interns the first `count` kept entries of `map` into `labels` (zeroed);
 * false when memory ran out (what was interned is in `labels`). */
static bool project_labels(const cJSON *map, bool (*keep)(const char *key),
                           struct string_pool *pool, struct kube_label *labels, size_t count)
{
    size_t n = 0;
    const cJSON *entry;
    if (count == 0)
        return true;
    cJSON_ArrayForEach(entry, map) {
        if (n == count)
            break;
        if (entry->string == NULL || !cJSON_IsString(entry) || !keep(entry->string))
            continue;
        labels[n].key = string_pool_intern(pool, entry->string);
        labels[n].value = string_pool_intern(pool, entry->valuestring);
        if (labels[n].key == NULL || labels[n].value == NULL)
            return false;
        n++;
    }
    return true;
}

static void meta_release(struct object_meta *meta, struct string_pool *pool)
{
    string_pool_release(pool, meta->namespace);
    string_pool_release(pool, meta->owner_kind);
    string_pool_release(pool, meta->owner_name);
    string_pool_release(pool, meta->owner_uid);
    string_pool_release(pool, meta->cluster);
    size_t count = (size_t)meta->label_count + meta->annotation_count;
    for (size_t i = 0; meta->labels != NULL && i < count; i++) {
        string_pool_release(pool, meta->labels[i].key);
        string_pool_release(pool, meta->labels[i].value);
    }
}

static bool set_error(char *error, size_t size, const char *why)
{
    if (size > 0)
        snprintf(error, size, "%s", why);
    return false;
}

/* What metadata holds that the projection needs, checked. */
struct meta_fields {
    const cJSON *metadata, *labels, *annotations;
    const char *name, *namespace, *rv, *uid;
    size_t label_count, annotation_count;
    uint64_t rv_number;
    bool rv_canonical;
    uint8_t uid_bytes[16];
    bool uid_is_uuid;
};

static bool meta_check(const struct object_kind *kind, const cJSON *object,
                       struct meta_fields *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    if (!cJSON_IsObject(metadata))
        return set_error(error, error_size, "object has no metadata");
    out->metadata = metadata;
    out->name = json_string(cJSON_GetObjectItemCaseSensitive(metadata, "name"));
    if (out->name == NULL || *out->name == '\0')
        return set_error(error, error_size, "object has no metadata.name");
    out->rv = json_string(cJSON_GetObjectItemCaseSensitive(metadata, "resourceVersion"));
    if (out->rv == NULL || *out->rv == '\0')
        return set_error(error, error_size, "object has no metadata.resourceVersion");
    out->namespace = json_string(cJSON_GetObjectItemCaseSensitive(metadata, "namespace"));
    if (!kind->namespaced)
        out->namespace = "";
    else if (out->namespace == NULL || *out->namespace == '\0')
        return set_error(error, error_size, "namespaced object has no metadata.namespace");
    out->uid = json_string(cJSON_GetObjectItemCaseSensitive(metadata, "uid"));
    if (out->uid == NULL)
        out->uid = "";
    out->uid_is_uuid = uuid_parse(out->uid, out->uid_bytes);
    out->rv_canonical = rv_canonical(out->rv, &out->rv_number);
    out->labels = cJSON_GetObjectItemCaseSensitive(metadata, "labels");
    out->annotations = cJSON_GetObjectItemCaseSensitive(metadata, "annotations");
    out->label_count = count_kept(out->labels, kind->keep_label);
    out->annotation_count = count_kept(out->annotations, kind->keep_annotation);
    return true;
}

/* The key's length with its NUL. */
static size_t key_size(const struct meta_fields *fields)
{
    size_t ns_length = strlen(fields->namespace);
    return (ns_length > 0 ? ns_length + 1 : 0) + strlen(fields->name) + 1;
}

static size_t meta_tail_size(const struct meta_fields *fields)
{
    size_t size = object_tail_array_size(fields->label_count + fields->annotation_count,
                                         sizeof(struct kube_label));
    size += key_size(fields);
    if (!fields->rv_canonical)
        size += strlen(fields->rv) + 1;
    if (!fields->uid_is_uuid && *fields->uid != '\0')
        size += strlen(fields->uid) + 1;
    return size;
}

static bool meta_project(const struct object_kind *kind, const struct meta_fields *fields,
                         struct object_meta *meta, struct string_pool *pool,
                         struct object_tail *tail, char *error, size_t error_size)
{
    const cJSON *metadata = fields->metadata;
    bool ok = true;
    meta->cluster_position = UINT32_MAX;
    meta->node_position = UINT32_MAX;

    /* The key, then (when kept as text) the resourceVersion after its NUL. */
    size_t ns_length = strlen(fields->namespace), key_length = key_size(fields);
    size_t rv_length = fields->rv_canonical ? 0 : strlen(fields->rv) + 1;
    char *key = tail_take(tail, key_length + rv_length, &ok);
    size_t labels = fields->label_count + fields->annotation_count;
    meta->labels = object_tail_array(tail, labels, sizeof *meta->labels, &ok);
    if (fields->uid_is_uuid) {
        memcpy(meta->uid.bytes, fields->uid_bytes, sizeof meta->uid.bytes);
        meta->flags |= OBJECT_UID_BYTES;
    } else if (*fields->uid != '\0') {
        meta->uid.text = object_tail_string(tail, fields->uid, &ok);
    } else {
        meta->uid.text = "";
    }
    if (!ok)
        return set_error(error, error_size, "projection larger than measured");
    if (ns_length > 0) {
        memcpy(key, fields->namespace, ns_length);
        key[ns_length] = '/';
        memcpy(key + ns_length + 1, fields->name, key_length - ns_length - 1);
        meta->name = key + ns_length + 1;
    } else {
        memcpy(key, fields->name, key_length);
        meta->name = key;
    }
    meta->key = key;
    meta->rv = fields->rv_canonical ? fields->rv_number : 0;
    if (!fields->rv_canonical) {
        memcpy(key + key_length, fields->rv, rv_length);
        meta->flags |= OBJECT_RV_TEXT;
        uint64_t rv;
        if (kube_parse_rv(fields->rv, &rv)) /* "007": still comparable */
            meta->rv = rv;
    }
    meta->label_count = (uint16_t)fields->label_count;
    meta->annotation_count = (uint16_t)fields->annotation_count;

    if ((meta->namespace = string_pool_intern(pool, fields->namespace)) == NULL)
        goto oom;
    const cJSON *generation = cJSON_GetObjectItemCaseSensitive(metadata, "generation");
    if (cJSON_IsNumber(generation))
        meta->generation = (int64_t)generation->valuedouble;
    const char *deletion =
        json_string(cJSON_GetObjectItemCaseSensitive(metadata, "deletionTimestamp"));
    if (deletion != NULL && (!clock_parse_rfc3339(deletion, &meta->deletion_ms) ||
                             meta->deletion_ms == 0))
        meta->deletion_ms = 1; /* being deleted, time unreadable: still being deleted */

    const cJSON *owners = cJSON_GetObjectItemCaseSensitive(metadata, "ownerReferences");
    const cJSON *owner = NULL, *candidate;
    if (!cJSON_IsArray(owners))
        owners = NULL;
    cJSON_ArrayForEach(candidate, owners) {
        if (!cJSON_IsObject(candidate))
            continue;
        if (owner == NULL)
            owner = candidate;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(candidate, "controller"))) {
            owner = candidate;
            break;
        }
    }
    if (owner != NULL) {
        if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(owner, "kind"), &meta->owner_kind) ||
            !json_intern(pool, cJSON_GetObjectItemCaseSensitive(owner, "name"), &meta->owner_name) ||
            !json_intern(pool, cJSON_GetObjectItemCaseSensitive(owner, "uid"), &meta->owner_uid))
            goto oom;
    }
    if (!project_labels(fields->labels, kind->keep_label, pool, meta->labels,
                        fields->label_count) ||
        !project_labels(fields->annotations, kind->keep_annotation, pool,
                        (struct kube_label *)annotations_of(meta), fields->annotation_count))
        goto oom;

    /* The cluster key: read from the full label map, whatever the kind keeps. */
    const char *instance = cJSON_IsObject(fields->labels)
                               ? json_string(cJSON_GetObjectItemCaseSensitive(fields->labels,
                                                                              LABEL_INSTANCE))
                               : NULL;
    if (instance != NULL && *instance != '\0' && ns_length > 0) {
        char small[256];
        size_t need = ns_length + strlen(instance) + 2;
        char *cluster = need <= sizeof small ? small : malloc(need);
        if (cluster == NULL)
            goto oom;
        snprintf(cluster, need, "%s/%s", fields->namespace, instance);
        meta->cluster = string_pool_intern(pool, cluster);
        if (cluster != small)
            free(cluster);
        if (meta->cluster == NULL)
            goto oom;
    }
    return true;
oom:
    return set_error(error, error_size, "out of memory");
}

struct object_meta *object_project(const struct object_kind *kind, const cJSON *object,
                                   struct string_pool *pool, char *error, size_t error_size)
{
    if (!cJSON_IsObject(object)) {
        set_error(error, error_size, "object is not a JSON object");
        return NULL;
    }
    struct meta_fields fields;
    if (!meta_check(kind, object, &fields, error, error_size))
        return NULL;
    /* One allocation: the struct, then the tail measured for this object. */
    size_t tail_size = meta_tail_size(&fields);
    if (kind->tail_size != NULL)
        tail_size += kind->tail_size(object);
    struct object_meta *meta = calloc(1, kind->size + tail_size);
    if (meta == NULL) {
        set_error(error, error_size, "out of memory");
        return NULL;
    }
    struct object_tail tail = {.front = (char *)meta + kind->size,
                               .back = (char *)meta + kind->size + tail_size};
    if (!meta_project(kind, &fields, meta, pool, &tail, error, error_size)) {
        meta_release(meta, pool);
        free(meta);
        return NULL;
    }
    if (kind->project != NULL &&
        !kind->project(meta, object, pool, &tail, error, error_size)) {
        if (kind->release != NULL)
            kind->release(meta, pool);
        meta_release(meta, pool);
        free(meta);
        return NULL;
    }
#ifndef NDEBUG
    /* A kind's tail_size must count exactly what its projection takes. */
    if (tail.front != tail.back) {
        set_error(error, error_size, "projection smaller than measured");
        object_free(kind, meta, pool);
        return NULL;
    }
#endif
    return meta;
}

void object_free(const struct object_kind *kind, struct object_meta *object,
                 struct string_pool *pool)
{
    if (object == NULL)
        return;
    if (kind->release != NULL)
        kind->release(object, pool);
    meta_release(object, pool);
    free(object);
}

size_t object_memory_bytes(const struct object_kind *kind, const struct object_meta *object)
{
    if (object == NULL)
        return 0;
    size_t total = memory_chunk_bytes(object);
    if (kind->memory_bytes != NULL)
        total += kind->memory_bytes(object);
    return total;
}

static bool same_labels(const struct kube_label *a, size_t a_count, const struct kube_label *b,
                        size_t b_count)
{
    if (a_count != b_count)
        return false;
    /* Interned, so pointer equality; order may differ between encodings. */
    for (size_t i = 0; i < a_count; i++) {
        size_t j = 0;
        while (j < b_count && b[j].key != a[i].key)
            j++;
        if (j == b_count || b[j].value != a[i].value)
            return false;
    }
    return true;
}

static bool same_uid(const struct object_meta *a, const struct object_meta *b)
{
    if ((a->flags & OBJECT_UID_BYTES) != (b->flags & OBJECT_UID_BYTES))
        return false;
    if (a->flags & OBJECT_UID_BYTES)
        return memcmp(a->uid.bytes, b->uid.bytes, sizeof a->uid.bytes) == 0;
    return strcmp(a->uid.text ? a->uid.text : "", b->uid.text ? b->uid.text : "") == 0;
}

bool object_same(const struct object_kind *kind, const struct object_meta *a,
                 const struct object_meta *b)
{
    if (strcmp(a->key, b->key) != 0 || !same_uid(a, b) ||
        a->namespace != b->namespace || a->generation != b->generation ||
        a->deletion_ms != b->deletion_ms || a->owner_kind != b->owner_kind ||
        a->owner_name != b->owner_name || a->owner_uid != b->owner_uid ||
        a->cluster != b->cluster ||
        !same_labels(a->labels, a->label_count, b->labels, b->label_count) ||
        !same_labels(annotations_of(a), a->annotation_count, annotations_of(b),
                     b->annotation_count))
        return false;
    return kind->same == NULL || kind->same(a, b);
}

int object_rv_compare(const struct object_meta *a, const struct object_meta *b)
{
    if (a->rv == 0 || b->rv == 0)
        return 0;
    return a->rv < b->rv ? -1 : a->rv > b->rv ? 1 : 0;
}
