#include "pd/pd_decode.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the error value -------------------------------------------------------- */

const char *pd_error_kind_name(enum pd_error_kind kind)
{
    switch (kind) {
    case PD_ERROR_NONE: return "none";
    case PD_ERROR_TRANSPORT: return "transport";
    case PD_ERROR_HTTP: return "http";
    case PD_ERROR_DECODE: return "decode";
    }
    return "unknown";
}

const char *pd_error_reason_name(enum pd_error_reason reason)
{
    switch (reason) {
    case PD_REASON_NONE: return "none";
    case PD_REASON_NOT_FOUND: return "not_found";
    case PD_REASON_NOT_BOOTSTRAPPED: return "not_bootstrapped";
    case PD_REASON_NO_LEADER: return "no_leader";
    case PD_REASON_STORE_REMOVED: return "store_removed";
    case PD_REASON_STORES_NOT_ENOUGH: return "stores_not_enough";
    case PD_REASON_UNHEALTHY_CLUSTER: return "unhealthy_cluster";
    }
    return "unknown";
}

void pd_error_clear(struct pd_error *error)
{
    memset(error, 0, sizeof *error);
}

/* Copies `text` into `out` (size `size`) so it is safe in logs and in
 * Kubernetes status: control characters become spaces, non-ASCII bytes '?'
 * (PD's texts are ASCII; a cut multi-byte sequence would make invalid UTF-8). */
static void copy_printable(char *out, size_t size, const char *text)
{
    size_t used = strlen(out);
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && used + 1 < size; p++) {
        unsigned char ch = *p;
        if (ch < 0x20 || ch == 0x7f)
            ch = ' ';
        else if (ch >= 0x80)
            ch = '?';
        out[used++] = (char)ch;
    }
    out[used] = '\0';
}

void pd_error_set(struct pd_error *error, enum pd_error_kind kind, const char *format, ...)
{
    char text[PD_ERROR_MESSAGE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    error->kind = kind;
    error->message[0] = '\0';
    copy_printable(error->message, sizeof error->message, text);
}

bool pd_error_same(const struct pd_error *a, const struct pd_error *b)
{
    return a->kind == b->kind && a->status == b->status && a->reason == b->reason &&
           a->transport == b->transport;
}

static bool is_blank(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (!isspace((unsigned char)text[i]))
            return false;
    return true;
}

static char *dup_trimmed(const char *text, size_t length)
{
    while (length > 0 && isspace((unsigned char)text[0])) {
        text++;
        length--;
    }
    while (length > 0 && isspace((unsigned char)text[length - 1]))
        length--;
    char *copy = malloc(length + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, text, length);
    copy[length] = '\0';
    return copy;
}

static char *dup_string(const char *text)
{
    return dup_trimmed(text, strlen(text));
}

char *pd_decode_message(const char *body, size_t length)
{
    if (body == NULL || length == 0)
        return dup_trimmed("", 0);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, length, &end, false);
    if (root != NULL && end != NULL && !is_blank(end, length - (size_t)(end - body))) {
        cJSON_Delete(root);
        root = NULL;
    }
    char *text = NULL;
    if (root != NULL && cJSON_IsString(root)) {
        text = dup_string(root->valuestring);
    } else if (root != NULL && cJSON_IsNull(root)) {
        text = dup_trimmed("", 0);
    } else if (root != NULL && cJSON_IsObject(root)) {
        /* errcode objects ({"code":"input","msg":...}) and other shapes. */
        static const char *const keys[] = {"msg", "message", "error"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && text == NULL; i++) {
            const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
            if (cJSON_IsString(item))
                text = dup_string(item->valuestring);
        }
    }
    if (root == NULL || text == NULL) {
        /* Not JSON we understand: the raw text, up to the first NUL. */
        size_t raw = strnlen(body, length);
        text = dup_trimmed(body, raw);
    }
    cJSON_Delete(root);
    return text;
}

static enum pd_error_reason classify(long status, const char *text)
{
    if (text != NULL) {
        if (strstr(text, "please start TiKV first") != NULL || strstr(text, "ErrNotBootstrapped") != NULL)
            return PD_REASON_NOT_BOOTSTRAPPED;
        if (strstr(text, "ErrStoresNotEnough") != NULL ||
            strstr(text, "ErrNoStoreForRegionLeader") != NULL)
            return PD_REASON_STORES_NOT_ENOUGH;
        if (strstr(text, "etcdserver: unhealthy cluster") != NULL ||
            strstr(text, "not enough started members") != NULL)
            return PD_REASON_UNHEALTHY_CLUSTER;
        if (strstr(text, "ErrStoreRemoved") != NULL)
            return PD_REASON_STORE_REMOVED;
        if (strstr(text, "redirect finds no leader") != NULL)
            return PD_REASON_NO_LEADER;
    }
    switch (status) {
    case 404: return PD_REASON_NOT_FOUND;
    case 410: return PD_REASON_STORE_REMOVED;
    case 503: return PD_REASON_NO_LEADER;
    default: return PD_REASON_NONE;
    }
}

void pd_error_from_http(struct pd_error *error, long status, const char *body, size_t length)
{
    pd_error_clear(error);
    error->kind = PD_ERROR_HTTP;
    error->status = status;
    char *text = pd_decode_message(body, length);
    error->reason = classify(status, text);
    if (text == NULL || text[0] == '\0')
        snprintf(error->message, sizeof error->message, "HTTP %ld with %s body", status,
                 text == NULL ? "an unreadable" : "an empty");
    else {
        snprintf(error->message, sizeof error->message, "HTTP %ld: ", status);
        copy_printable(error->message, sizeof error->message, text);
    }
    free(text);
}

/* --- JSON reading with paths for messages ----------------------------------- */

/* Integer literals longer than this many digits may not fit a double's 53
 * bits: they are turned into strings before cJSON sees them. */
#define LONG_INTEGER_DIGITS 15

static char *quote_long_integers(const char *text, size_t length, size_t *out_length)
{
    /* Each quoted literal has >= 16 digits and gains 2 bytes. */
    char *out = malloc(length + length / 8 + 3);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    size_t i = 0;
    while (i < length) {
        char ch = text[i];
        if (in_string) {
            out[o++] = ch;
            if (ch == '\\' && i + 1 < length) {
                out[o++] = text[i + 1];
                i += 2;
                continue;
            }
            if (ch == '"')
                in_string = false;
            i++;
            continue;
        }
        if (ch == '"') {
            in_string = true;
            out[o++] = ch;
            i++;
            continue;
        }
        if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t start = i, j = i;
            if (text[j] == '-')
                j++;
            size_t digits_start = j;
            while (j < length && text[j] >= '0' && text[j] <= '9')
                j++;
            size_t digits = j - digits_start;
            bool integer = !(j < length && (text[j] == '.' || text[j] == 'e' || text[j] == 'E'));
            if (integer && digits > LONG_INTEGER_DIGITS) {
                out[o++] = '"';
                memcpy(out + o, text + start, j - start);
                o += j - start;
                out[o++] = '"';
            } else {
                memcpy(out + o, text + start, j - start);
                o += j - start;
            }
            if (j == start)  /* a lone '-' is copied as is */
                out[o++] = text[j++];
            i = j;
            continue;
        }
        out[o++] = ch;
        i++;
    }
    out[o] = '\0';
    *out_length = o;
    return out;
}

struct ctx {
    struct pd_error *error;
    char path[160];
};

static void ctx_init(struct ctx *c, struct pd_error *error, const char *what)
{
    c->error = error;
    pd_error_clear(error);
    snprintf(c->path, sizeof c->path, "%s", what);
}

static size_t path_push(struct ctx *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(struct ctx *c, const char *format, ...)
{
    size_t old = strlen(c->path);
    va_list args;
    va_start(args, format);
    vsnprintf(c->path + old, sizeof c->path - old, format, args);
    va_end(args);
    return old;
}

static void path_pop(struct ctx *c, size_t old)
{
    c->path[old] = '\0';
}

static bool fail(struct ctx *c, const char *what)
{
    pd_error_set(c->error, PD_ERROR_DECODE, "%s: %s", c->path, what);
    return false;
}

static bool fail_field(struct ctx *c, const char *field, const char *what)
{
    pd_error_set(c->error, PD_ERROR_DECODE, "%s.%s: %s", c->path, field, what);
    return false;
}

static cJSON *parse_json(struct ctx *c, const char *body, size_t length)
{
    if (body == NULL || is_blank(body, length)) {
        fail(c, "empty body");
        return NULL;
    }
    size_t first = 0;
    while (first < length && isspace((unsigned char)body[first]))
        first++;
    if (body[first] == '<') {
        fail(c, "not JSON (looks like an HTML page)");
        return NULL;
    }
    /* cJSON would skip a NUL as whitespace; JSON text never has one. */
    if (memchr(body, '\0', length) != NULL) {
        fail(c, "invalid JSON (NUL byte)");
        return NULL;
    }
    size_t text_length = 0;
    char *text = quote_long_integers(body, length, &text_length);
    if (text == NULL) {
        fail(c, "out of memory");
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, text_length, &end, false);
    if (root != NULL && (end == NULL || !is_blank(end, text_length - (size_t)(end - text)))) {
        cJSON_Delete(root);
        root = NULL;
        fail(c, "invalid JSON (trailing data)");
    } else if (root == NULL) {
        fail(c, "invalid JSON (malformed or truncated)");
    }
    free(text);
    return root;
}

/* Turns the parsed body `root` into `out`, which is zeroed on entry. On
 * failure it returns false with the error set through `c` and leaves `out`
 * released and zeroed, as every public decoder promises. */
typedef bool document_converter(struct ctx *c, const cJSON *root, void *out);

/* The frame every public decoder shares: clears the error (or, when `error`
 * is NULL, a scratch one nobody reads), zeroes the `size` bytes of `out`,
 * parses `body` and hands the tree to `convert`. Messages start with `what`
 * ("members: invalid JSON ..."). */
static bool decode_document(const char *body, size_t length, const char *what, void *out,
                            size_t size, document_converter *convert, struct pd_error *error)
{
    struct pd_error scratch;
    struct ctx c;
    ctx_init(&c, error != NULL ? error : &scratch, what);
    memset(out, 0, size);
    cJSON *root = parse_json(&c, body, length);
    if (root == NULL)
        return false;
    bool ok = convert(&c, root, out);
    cJSON_Delete(root);
    return ok;
}

static const cJSON *field(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

static bool absent(const cJSON *item)
{
    return item == NULL || cJSON_IsNull(item);
}

/* 2^53: every integer below it is exact in a double. */
#define EXACT_DOUBLE_LIMIT 9007199254740992.0

static bool digits_only(const char *text)
{
    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++)
        if (*text < '0' || *text > '9')
            return false;
    return true;
}

static bool parse_u64_text(const char *text, uint64_t *out)
{
    if (!digits_only(text) || strlen(text) > 20)
        return false;
    errno = 0;
    unsigned long long value = strtoull(text, NULL, 10);
    if (errno == ERANGE)
        return false;
    *out = value;
    return true;
}

static bool value_u64(const cJSON *item, uint64_t *out)
{
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (!isfinite(d) || d < 0 || d >= EXACT_DOUBLE_LIMIT || d != floor(d))
            return false;
        *out = (uint64_t)d;
        return true;
    }
    if (cJSON_IsString(item))
        return parse_u64_text(item->valuestring, out);
    return false;
}

static bool value_i64(const cJSON *item, int64_t *out)
{
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (!isfinite(d) || d <= -EXACT_DOUBLE_LIMIT || d >= EXACT_DOUBLE_LIMIT || d != floor(d))
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (cJSON_IsString(item)) {
        const char *text = item->valuestring;
        bool negative = *text == '-';
        if (!digits_only(text + (negative ? 1 : 0)) || strlen(text) > 20)
            return false;
        errno = 0;
        long long value = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            return false;
        *out = value;
        return true;
    }
    return false;
}

/* Field readers: `required` false means a missing or null field leaves the
 * default (0, false, ""). */
static bool read_u64(struct ctx *c, const cJSON *object, const char *name, bool required,
                     uint64_t *out)
{
    const cJSON *item = field(object, name);
    if (absent(item)) {
        *out = 0;
        return required ? fail_field(c, name, "missing") : true;
    }
    if (!value_u64(item, out))
        return fail_field(c, name, cJSON_IsNumber(item) || cJSON_IsString(item)
                                       ? "not an unsigned integer in range"
                                       : "expected an unsigned integer");
    return true;
}

static bool read_i64(struct ctx *c, const cJSON *object, const char *name, int64_t *out)
{
    const cJSON *item = field(object, name);
    *out = 0;
    if (absent(item))
        return true;
    if (!value_i64(item, out))
        return fail_field(c, name, "expected an integer in range");
    return true;
}

static bool read_string(struct ctx *c, const cJSON *object, const char *name, bool required,
                        char **out)
{
    const cJSON *item = field(object, name);
    const char *text = "";
    if (absent(item)) {
        if (required)
            return fail_field(c, name, "missing");
    } else if (cJSON_IsString(item)) {
        text = item->valuestring;
    } else {
        return fail_field(c, name, "expected a string");
    }
    *out = strdup(text);
    return *out != NULL ? true : fail(c, "out of memory");
}

static bool read_bool(struct ctx *c, const cJSON *object, const char *name, bool *out)
{
    const cJSON *item = field(object, name);
    *out = false;
    if (absent(item))
        return true;
    if (cJSON_IsBool(item)) {
        *out = cJSON_IsTrue(item);
        return true;
    }
    /* PD tags some bools ",string". */
    if (cJSON_IsString(item) && (strcmp(item->valuestring, "true") == 0 ||
                                 strcmp(item->valuestring, "false") == 0)) {
        *out = strcmp(item->valuestring, "true") == 0;
        return true;
    }
    return fail_field(c, name, "expected a boolean");
}

static void free_strings(char **strings, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

static bool read_string_array(struct ctx *c, const cJSON *object, const char *name, char ***out,
                              size_t *count)
{
    const cJSON *item = field(object, name);
    *out = NULL;
    *count = 0;
    if (absent(item))
        return true;
    if (!cJSON_IsArray(item))
        return fail_field(c, name, "expected an array of strings");
    size_t n = (size_t)cJSON_GetArraySize(item);
    if (n == 0)
        return true;
    char **strings = calloc(n, sizeof *strings);
    if (strings == NULL)
        return fail(c, "out of memory");
    *out = strings;
    size_t i = 0;
    const cJSON *element;
    cJSON_ArrayForEach(element, item)
    {
        if (!cJSON_IsString(element)) {
            size_t old = path_push(c, ".%s[%zu]", name, i);
            fail(c, "expected a string");
            path_pop(c, old);
            return false;
        }
        strings[i] = strdup(element->valuestring);
        if (strings[i] == NULL)
            return fail(c, "out of memory");
        *count = ++i;
    }
    return true;
}

/* Decodes one list element into `item` (zeroed on entry). It may set *skip
 * to leave the element out of the list, leaving `item` zeroed. */
typedef bool element_converter(struct ctx *c, const cJSON *element, void *item, bool *skip);

/* The elements of the JSON array `array` into a calloc'd array of `size`-byte
 * items (*items, NULL when empty; *count of them), each by `convert` under
 * the path "<prefix>[i]". An element that fails is counted too, so the
 * owner's *_free releases whatever was decoded before the failure. */
static bool decode_elements(struct ctx *c, const cJSON *array, const char *prefix, size_t size,
                            void **items, size_t *count, element_converter *convert)
{
    size_t n = (size_t)cJSON_GetArraySize(array);
    char *base = n > 0 ? calloc(n, size) : NULL;
    *items = base;
    if (n > 0 && base == NULL)
        return fail(c, "out of memory");
    size_t i = 0;
    const cJSON *element;
    cJSON_ArrayForEach(element, array)
    {
        bool skip = false;
        size_t old = path_push(c, "%s[%zu]", prefix, i++);
        bool ok = convert(c, element, base + *count * size, &skip);
        path_pop(c, old);
        if (!ok || !skip)
            ++*count;
        if (!ok)
            return false;
    }
    return true;
}

/* The optional array field `name` of `object`, as decode_elements. */
static bool read_list(struct ctx *c, const cJSON *object, const char *name, size_t size, void **items,
                      size_t *count, element_converter *convert)
{
    const cJSON *list = field(object, name);
    if (absent(list))
        return true;
    if (!cJSON_IsArray(list))
        return fail_field(c, name, "expected an array");
    char prefix[64];
    snprintf(prefix, sizeof prefix, ".%s", name);
    return decode_elements(c, list, prefix, size, items, count, convert);
}

/* --- members, leader, health ------------------------------------------------ */

void pd_member_free(struct pd_member *member)
{
    free(member->name);
    free_strings(member->peer_urls, member->peer_url_count);
    free_strings(member->client_urls, member->client_url_count);
    free(member->binary_version);
    memset(member, 0, sizeof *member);
}

void pd_members_free(struct pd_members *members)
{
    for (size_t i = 0; i < members->count; i++)
        pd_member_free(&members->members[i]);
    free(members->members);
    pd_member_free(&members->leader);
    pd_member_free(&members->etcd_leader);
    memset(members, 0, sizeof *members);
}

void pd_health_free(struct pd_health *health)
{
    for (size_t i = 0; i < health->count; i++) {
        free(health->entries[i].name);
        free(health->entries[i].client_url);
    }
    free(health->entries);
    memset(health, 0, sizeof *health);
}

const struct pd_member *pd_members_find(const struct pd_members *members, const char *name)
{
    for (size_t i = 0; i < members->count; i++)
        if (members->members[i].name != NULL && strcmp(members->members[i].name, name) == 0)
            return &members->members[i];
    return NULL;
}

static bool member_from_json(struct ctx *c, const cJSON *object, struct pd_member *member)
{
    if (!cJSON_IsObject(object))
        return fail(c, "expected an object");
    return read_string(c, object, "name", false, &member->name) &&
           read_u64(c, object, "member_id", true, &member->member_id) &&
           read_string_array(c, object, "peer_urls", &member->peer_urls,
                             &member->peer_url_count) &&
           read_string_array(c, object, "client_urls", &member->client_urls,
                             &member->client_url_count) &&
           read_string(c, object, "binary_version", false, &member->binary_version);
}

/* An element_converter for struct pd_member. */
static bool member_element(struct ctx *c, const cJSON *element, void *item, bool *skip)
{
    (void)skip;
    return member_from_json(c, element, item);
}

static bool optional_member(struct ctx *c, const cJSON *root, const char *name, bool *has,
                            struct pd_member *member)
{
    const cJSON *item = field(root, name);
    *has = false;
    if (absent(item))
        return true;
    size_t old = path_push(c, ".%s", name);
    bool ok = member_from_json(c, item, member);
    path_pop(c, old);
    *has = ok;
    return ok;
}

static bool members_from_json(struct ctx *c, const cJSON *root, struct pd_members *out)
{
    if (!cJSON_IsObject(root))
        return fail(c, "expected an object");
    const cJSON *header = field(root, "header");
    if (!absent(header)) {
        if (!cJSON_IsObject(header))
            return fail_field(c, "header", "expected an object");
        size_t old = path_push(c, ".header");
        bool ok = read_u64(c, header, "cluster_id", false, &out->cluster_id);
        path_pop(c, old);
        if (!ok)
            return false;
    }
    void *members = NULL;
    bool ok = read_list(c, root, "members", sizeof *out->members, &members, &out->count, member_element);
    out->members = members;
    return ok && optional_member(c, root, "leader", &out->has_leader, &out->leader) &&
                 optional_member(c, root, "etcd_leader", &out->has_etcd_leader, &out->etcd_leader);
}

/* An element_converter for struct pd_health_entry. */
static bool health_entry_from_json(struct ctx *c, const cJSON *object, void *item, bool *skip)
{
    (void)skip;
    struct pd_health_entry *entry = item;
    if (!cJSON_IsObject(object))
        return fail(c, "expected an object");
    char **urls = NULL;
    size_t url_count = 0;
    if (!read_string(c, object, "name", false, &entry->name) ||
        !read_u64(c, object, "member_id", true, &entry->member_id) ||
        !read_string_array(c, object, "client_urls", &urls, &url_count))
        return false;
    entry->client_url = strdup(url_count > 0 ? urls[0] : "");
    free_strings(urls, url_count);
    if (entry->client_url == NULL)
        return fail(c, "out of memory");
    const cJSON *health = field(object, "health");
    if (!cJSON_IsBool(health))
        return fail_field(c, "health", absent(health) ? "missing" : "expected a boolean");
    entry->health = cJSON_IsTrue(health);
    return true;
}

/* struct pd_health: an array of entries. */
static bool health_from_json(struct ctx *c, const cJSON *root, struct pd_health *health)
{
    void *entries = NULL;
    bool ok = cJSON_IsArray(root) ? decode_elements(c, root, "", sizeof *health->entries, &entries,
                                                    &health->count, health_entry_from_json)
                                  : fail(c, "expected an array");
    health->entries = entries;
    return ok;
}

/* --- stores ----------------------------------------------------------------- */

static const char *const state_names[] = {
    [PD_STORE_UP] = "Up",
    [PD_STORE_DISCONNECTED] = "Disconnected",
    [PD_STORE_DOWN] = "Down",
    [PD_STORE_OFFLINE] = "Offline",
    [PD_STORE_TOMBSTONE] = "Tombstone",
    [PD_STORE_UNKNOWN] = "Unknown",
};

const char *pd_store_state_name_text(enum pd_store_state_name name)
{
    if ((unsigned)name > PD_STORE_UNKNOWN)
        return "Unknown";
    return state_names[name];
}

enum pd_store_state_name pd_store_state_name_parse(const char *text)
{
    for (int i = PD_STORE_UP; i < PD_STORE_UNKNOWN; i++)
        if (strcmp(text, state_names[i]) == 0)
            return (enum pd_store_state_name)i;
    return PD_STORE_UNKNOWN;
}

void pd_store_free(struct pd_store *store)
{
    free(store->address);
    free(store->status_address);
    free(store->version);
    free(store->state_name_text);
    for (size_t i = 0; i < store->label_count; i++) {
        free(store->labels[i].key);
        free(store->labels[i].value);
    }
    free(store->labels);
    memset(store, 0, sizeof *store);
}

void pd_stores_free(struct pd_stores *stores)
{
    for (size_t i = 0; i < stores->count; i++)
        pd_store_free(&stores->stores[i]);
    free(stores->stores);
    memset(stores, 0, sizeof *stores);
}

const struct pd_store *pd_stores_find(const struct pd_stores *stores, uint64_t id)
{
    for (size_t i = 0; i < stores->count; i++)
        if (stores->stores[i].id == id)
            return &stores->stores[i];
    return NULL;
}

static bool labels_from_json(struct ctx *c, const cJSON *object, struct pd_store *store)
{
    const cJSON *labels = field(object, "labels");
    if (absent(labels))
        return true;
    if (!cJSON_IsArray(labels))
        return fail_field(c, "labels", "expected an array");
    size_t n = (size_t)cJSON_GetArraySize(labels);
    if (n == 0)
        return true;
    store->labels = calloc(n, sizeof *store->labels);
    if (store->labels == NULL)
        return fail(c, "out of memory");
    size_t i = 0;
    const cJSON *element;
    cJSON_ArrayForEach(element, labels)
    {
        store->label_count = i + 1;
        size_t old = path_push(c, ".labels[%zu]", i);
        bool ok = cJSON_IsObject(element) ? (read_string(c, element, "key", true, &store->labels[i].key) &&
                                             read_string(c, element, "value", false, &store->labels[i].value))
                                          : fail(c, "expected an object");
        path_pop(c, old);
        if (!ok)
            return false;
        if (strcmp(store->labels[i].key, "engine") == 0 && strcmp(store->labels[i].value, "tiflash") == 0)
            store->is_tiflash = true;
        i++;
    }
    return true;
}

static bool store_meta_from_json(struct ctx *c, const cJSON *object, struct pd_store *store)
{
    if (!cJSON_IsObject(object))
        return fail(c, "expected an object");
    uint64_t state = 0, node_state = 0;
    if (!read_u64(c, object, "id", true, &store->id) ||
        !read_string(c, object, "address", false, &store->address) ||
        !read_string(c, object, "status_address", false, &store->status_address) ||
        !read_string(c, object, "version", false, &store->version) ||
        !read_u64(c, object, "state", false, &state) ||
        !read_u64(c, object, "node_state", false, &node_state) ||
        !read_i64(c, object, "start_timestamp", &store->start_timestamp) ||
        !read_i64(c, object, "last_heartbeat", &store->last_heartbeat) ||
        !labels_from_json(c, object, store))
        return false;
    if (state > PD_STORE_STATE_TOMBSTONE)
        return fail_field(c, "state", "unknown store state (expected 0, 1 or 2)");
    if (node_state > 3)
        return fail_field(c, "node_state", "unknown node state (expected 0 to 3)");
    store->state = (enum pd_store_state)state;
    store->node_state = (unsigned)node_state;
    const cJSON *name = field(object, "state_name");
    if (absent(name)) {
        /* PDs before state_name existed: the persistent state says enough. */
        store->state_name = state == PD_STORE_STATE_UP        ? PD_STORE_UP
                            : state == PD_STORE_STATE_OFFLINE ? PD_STORE_OFFLINE
                                                              : PD_STORE_TOMBSTONE;
        store->state_name_text = strdup(state_names[store->state_name]);
    } else if (cJSON_IsString(name)) {
        store->state_name = pd_store_state_name_parse(name->valuestring);
        store->state_name_text = strdup(name->valuestring);
    } else {
        return fail_field(c, "state_name", "expected a string");
    }
    return store->state_name_text != NULL ? true : fail(c, "out of memory");
}

static bool store_status_from_json(struct ctx *c, const cJSON *object, struct pd_store *store)
{
    if (absent(object))
        return true;
    if (!cJSON_IsObject(object))
        return fail(c, "expected an object");
    store->has_status = true;
    return read_u64(c, object, "leader_count", false, &store->leader_count) &&
           read_u64(c, object, "region_count", false, &store->region_count) &&
           read_bool(c, object, "pause_leader_transfer_in", &store->pause_leader_transfer_in);
}

/* One StoreInfo. In a list (`skipped` not NULL) an entry whose "store" is
 * null is skipped: *skipped set, true returned. */
static bool store_info_from_json(struct ctx *c, const cJSON *object, void *item, bool *skipped)
{
    struct pd_store *store = item;
    if (skipped != NULL)
        *skipped = false;
    if (!cJSON_IsObject(object))
        return fail(c, "expected an object");
    const cJSON *meta = field(object, "store");
    if (absent(meta)) {
        if (skipped != NULL) {
            *skipped = true;
            return true;
        }
        return fail_field(c, "store", "missing");
    }
    size_t old = path_push(c, ".store");
    bool ok = store_meta_from_json(c, meta, store);
    path_pop(c, old);
    if (!ok)
        return false;
    old = path_push(c, ".status");
    ok = store_status_from_json(c, field(object, "status"), store);
    path_pop(c, old);
    return ok;
}

/* struct pd_stores: {"stores": [StoreInfo...]}. */
static bool stores_from_json(struct ctx *c, const cJSON *root, struct pd_stores *stores)
{
    void *items = NULL;
    bool ok = cJSON_IsObject(root) ? read_list(c, root, "stores", sizeof *stores->stores, &items,
                                               &stores->count, store_info_from_json)
                                   : fail(c, "expected an object");
    stores->stores = items;
    return ok;
}

/* One struct pd_store (a StoreInfo) as the whole document. */
static bool store_from_json(struct ctx *c, const cJSON *root, struct pd_store *store)
{
    return store_info_from_json(c, root, store, NULL);
}

/* --- schedulers ------------------------------------------------------------- */

#define EVICT_LEADER_NAME "evict-leader-scheduler"

void pd_schedulers_free(struct pd_schedulers *schedulers)
{
    free_strings(schedulers->names, schedulers->count);
    free(schedulers->evict_leader_store_ids);
    memset(schedulers, 0, sizeof *schedulers);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* struct pd_schedulers: an array of names. */
static bool schedulers_from_json(struct ctx *c, const cJSON *root, struct pd_schedulers *schedulers)
{
    bool ok = true;
    if (cJSON_IsNull(root)) {
        /* An empty Go slice may marshal as null. */
    } else if (!cJSON_IsArray(root)) {
        ok = fail(c, "expected an array of names");
    } else {
        size_t n = (size_t)cJSON_GetArraySize(root);
        if (n > 0 && ((schedulers->names = calloc(n, sizeof *schedulers->names)) == NULL ||
                      (schedulers->evict_leader_store_ids = calloc(n, sizeof(uint64_t))) == NULL))
            ok = fail(c, "out of memory");
        size_t i = 0;
        const cJSON *element;
        cJSON_ArrayForEach(element, root)
        {
            if (!ok)
                break;
            if (!cJSON_IsString(element)) {
                size_t old = path_push(c, "[%zu]", i);
                ok = fail(c, "expected a string");
                path_pop(c, old);
                break;
            }
            const char *name = element->valuestring;
            if ((schedulers->names[i] = strdup(name)) == NULL) {
                ok = fail(c, "out of memory");
                break;
            }
            schedulers->count = ++i;
            if (strcmp(name, EVICT_LEADER_NAME) == 0) {
                schedulers->evict_leader_bare = true;
            } else if (strncmp(name, EVICT_LEADER_NAME "-", sizeof EVICT_LEADER_NAME) == 0) {
                uint64_t id = 0;
                /* Other suffixes are not ours to interpret: ignored. */
                if (parse_u64_text(name + sizeof EVICT_LEADER_NAME, &id))
                    schedulers->evict_leader_store_ids[schedulers->evict_leader_count++] = id;
            }
        }
        if (ok && schedulers->evict_leader_count > 1)
            qsort(schedulers->evict_leader_store_ids, schedulers->evict_leader_count,
                  sizeof(uint64_t), compare_u64);
    }
    return ok;
}

/* The output of the evict-leader list: store ids sorted ascending (malloc'd,
 * NULL when none) and how many. */
struct store_id_list {
    uint64_t *ids;
    size_t count;
};

/* A document_converter for struct store_id_list: the keys of
 * {"store-id-ranges": {"<id>": ...}}. */
static bool evict_leader_list_document(struct ctx *c, const cJSON *root, void *out)
{
    struct store_id_list *result = out;
    bool ok = true;
    const cJSON *ranges = cJSON_IsObject(root) ? field(root, "store-id-ranges") : NULL;
    if (!cJSON_IsObject(root)) {
        ok = fail(c, "expected an object");
    } else if (!absent(ranges) && !cJSON_IsObject(ranges)) {
        ok = fail_field(c, "store-id-ranges", "expected an object");
    } else if (!absent(ranges)) {
        size_t n = (size_t)cJSON_GetArraySize(ranges);
        uint64_t *list = n > 0 ? calloc(n, sizeof *list) : NULL;
        if (n > 0 && list == NULL)
            ok = fail(c, "out of memory");
        size_t i = 0;
        const cJSON *element;
        cJSON_ArrayForEach(element, ranges)
        {
            if (!ok)
                break;
            if (element->string == NULL || !parse_u64_text(element->string, &list[i])) {
                ok = fail_field(c, "store-id-ranges", "key is not a store id");
                break;
            }
            i++;
        }
        if (ok) {
            if (i > 1)
                qsort(list, i, sizeof *list, compare_u64);
            result->ids = list;
            result->count = i;
        } else {
            free(list);
        }
    }
    return ok;
}

bool pd_decode_evict_leader_list(const char *body, size_t length, uint64_t **ids,
                                 size_t *count, struct pd_error *error)
{
    struct store_id_list list;
    bool ok = decode_document(body, length, "evict-leader list", &list, sizeof list,
                              evict_leader_list_document, error);
    *ids = list.ids;
    *count = list.count;
    return ok;
}

/* --- config and cluster ----------------------------------------------------- */

void pd_config_free(struct pd_config *config)
{
    free(config->location_labels);
    memset(config, 0, sizeof *config);
}

static bool mul_add(uint64_t *value, uint64_t factor, uint64_t add)
{
    return !__builtin_mul_overflow(*value, factor, value) && !__builtin_add_overflow(*value, add, value);
}

bool pd_parse_go_duration_ms(const char *text, uint64_t *out_ms)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {
        {"ns", 1ull},         {"us", 1000ull},        {"\xc2\xb5s", 1000ull}, {"\xce\xbcs", 1000ull},
        {"ms", 1000000ull},   {"s", 1000000000ull},   {"m", 60000000000ull},  {"h", 3600000000000ull},
    };
    if (text == NULL || *text == '\0')
        return false;
    if (strcmp(text, "0") == 0) {
        *out_ms = 0;
        return true;
    }
    if (*text == '+')
        text++;
    uint64_t total_ns = 0;
    const char *p = text;
    if (*p == '\0')
        return false;
    while (*p != '\0') {
        uint64_t whole = 0, fraction = 0, scale = 1;
        bool digits = false;
        while (*p >= '0' && *p <= '9') {
            if (!mul_add(&whole, 10, (uint64_t)(*p - '0')))
                return false;
            digits = true;
            p++;
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (scale < 1000000000000000000ull) {
                    fraction = fraction * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
                digits = true;
                p++;
            }
        }
        if (!digits)
            return false;
        size_t best = 0, best_length = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, n) == 0 && n > best_length) {
                best = i;
                best_length = n;
            }
        }
        if (best_length == 0)
            return false;
        uint64_t part = whole;
        if (__builtin_mul_overflow(part, units[best].ns, &part))
            return false;
        /* fraction/scale < 1 and unit <= 3.6e12 ns: the product fits when
         * scale is capped at 1e18 only if reduced first. */
        long double extra = (long double)fraction * (long double)units[best].ns / (long double)scale;
        if (__builtin_add_overflow(part, (uint64_t)extra, &part) ||
            __builtin_add_overflow(total_ns, part, &total_ns))
            return false;
        p += best_length;
    }
    *out_ms = total_ns / 1000000ull;
    return true;
}

static bool join_labels(struct ctx *c, const cJSON *item, char **out)
{
    if (absent(item) || cJSON_IsString(item)) {
        *out = strdup(absent(item) ? "" : item->valuestring);
        return *out != NULL ? true : fail(c, "out of memory");
    }
    if (!cJSON_IsArray(item))
        return fail_field(c, "location-labels", "expected a string");
    /* Lenient: an array of strings is joined like PD's StringSlice. */
    size_t total = 1;
    const cJSON *element;
    cJSON_ArrayForEach(element, item)
    {
        if (!cJSON_IsString(element))
            return fail_field(c, "location-labels", "expected strings");
        total += strlen(element->valuestring) + 1;
    }
    char *joined = malloc(total);
    if (joined == NULL)
        return fail(c, "out of memory");
    joined[0] = '\0';
    cJSON_ArrayForEach(element, item)
    {
        if (joined[0] != '\0')
            strcat(joined, ",");
        strcat(joined, element->valuestring);
    }
    *out = joined;
    return true;
}

static bool config_from_json(struct ctx *c, const cJSON *root, struct pd_config *out)
{
    if (!cJSON_IsObject(root))
        return fail(c, "expected an object");
    const cJSON *replication = field(root, "replication");
    if (!cJSON_IsObject(replication))
        return fail_field(c, "replication", absent(replication) ? "missing" : "expected an object");
    size_t old = path_push(c, ".replication");
    bool ok = read_u64(c, replication, "max-replicas", true, &out->max_replicas) &&
              (out->max_replicas > 0 || fail_field(c, "max-replicas", "must be at least 1")) &&
              join_labels(c, field(replication, "location-labels"), &out->location_labels) &&
              read_bool(c, replication, "enable-placement-rules", &out->enable_placement_rules);
    path_pop(c, old);
    if (!ok)
        return false;
    out->max_store_down_time_ms = 30ull * 60 * 1000;
    const cJSON *schedule = field(root, "schedule");
    if (absent(schedule))
        return true;
    if (!cJSON_IsObject(schedule))
        return fail_field(c, "schedule", "expected an object");
    const cJSON *down = field(schedule, "max-store-down-time");
    if (absent(down))
        return true;
    old = path_push(c, ".schedule");
    if (!cJSON_IsString(down) || !pd_parse_go_duration_ms(down->valuestring, &out->max_store_down_time_ms))
        ok = fail_field(c, "max-store-down-time", "expected a Go duration string like \"30m0s\"");
    path_pop(c, old);
    out->has_max_store_down_time = ok;
    return ok;
}

static bool cluster_from_json(struct ctx *c, const cJSON *root, struct pd_cluster *cluster)
{
    return cJSON_IsObject(root) ? read_u64(c, root, "id", true, &cluster->id) &&
                                      read_u64(c, root, "max_peer_count", false, &cluster->max_peer_count)
                                : fail(c, "expected an object");
}

/* It owns nothing: releasing only zeroes it. */
static void cluster_release(struct pd_cluster *cluster)
{
    memset(cluster, 0, sizeof *cluster);
}

/* --- TiDB status ------------------------------------------------------------ */

void tidb_status_free(struct tidb_status *status)
{
    free(status->version);
    free(status->git_hash);
    memset(status, 0, sizeof *status);
}

static bool tidb_status_from_json(struct ctx *c, const cJSON *root, struct tidb_status *status)
{
    return cJSON_IsObject(root) ? read_u64(c, root, "connections", true, &status->connections) &&
                                      read_string(c, root, "version", true, &status->version) &&
                                      read_string(c, root, "git_hash", false, &status->git_hash)
                                : fail(c, "expected an object");
}

/* --- the decoders: one line per document --------------------------------------- */

/* Defines the public decoder `name` of `type` (see pd_decode.h): the frame
 * parses the body as `what`, `convert` fills the struct, and on failure
 * `release` frees what it filled, leaving the struct zeroed. */
#define DECODER(name, type, what, convert, release)                                             \
    static bool name##_document(struct ctx *c, const cJSON *root, void *out)                     \
    {                                                                                            \
        if (convert(c, root, out))                                                               \
            return true;                                                                         \
        release(out);                                                                            \
        return false;                                                                            \
    }                                                                                            \
    bool name(const char *body, size_t length, type *out, struct pd_error *error)                \
    {                                                                                            \
        return decode_document(body, length, what, out, sizeof *out, name##_document, error);    \
    }

DECODER(pd_decode_members, struct pd_members, "members", members_from_json, pd_members_free)
DECODER(pd_decode_member, struct pd_member, "leader", member_from_json, pd_member_free)
DECODER(pd_decode_health, struct pd_health, "health", health_from_json, pd_health_free)
DECODER(pd_decode_stores, struct pd_stores, "stores", stores_from_json, pd_stores_free)
DECODER(pd_decode_store, struct pd_store, "store", store_from_json, pd_store_free)
DECODER(pd_decode_schedulers, struct pd_schedulers, "schedulers", schedulers_from_json, pd_schedulers_free)
DECODER(pd_decode_config, struct pd_config, "config", config_from_json, pd_config_free)
DECODER(pd_decode_cluster, struct pd_cluster, "cluster", cluster_from_json, cluster_release)
DECODER(tidb_decode_status, struct tidb_status, "tidb status", tidb_status_from_json, tidb_status_free)
