#include "test/sim/pd_http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reactor/clock.h"

#define JSON_TYPE "application/json; charset=UTF-8"
#define TEXT_TYPE "text/plain; charset=utf-8"
#define PD_GIT_HASH "6c2d2b6c5e1a4f0e9b8d7c6a5f4e3d2c1b0a9f8e"
#define TIDB_GIT_HASH "2f6b8c1a0e9d7c5b3a1f0e2d4c6b8a0f1e3d5c7b"
#define TIKV_GIT_HASH "3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"
#define REGION_MIB 90ULL
#define STORE_CAPACITY (100ULL << 30)
#define NOT_BOOTSTRAPPED "[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first"

/* ---- encodings ---- */

void pd_http_format_duration(uint64_t ms, char *out, size_t size)
{
    if (ms == 0) {
        snprintf(out, size, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf(out, size, "%" PRIu64 "ms", ms);
        return;
    }
    uint64_t hours = ms / 3600000, minutes = ms / 60000 % 60, seconds = ms / 1000 % 60;
    unsigned fraction = (unsigned)(ms % 1000);
    char frac[8] = "";
    if (fraction) {
        snprintf(frac, sizeof frac, ".%03u", fraction);
        for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
            frac[n - 1] = '\0';
    }
    if (hours)
        snprintf(out, size, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", hours, minutes, seconds, frac);
    else if (minutes)
        snprintf(out, size, "%" PRIu64 "m%" PRIu64 "%ss", minutes, seconds, frac);
    else
        snprintf(out, size, "%" PRIu64 "%ss", seconds, frac);
}

bool pd_http_parse_duration(const char *text, uint64_t *ms)
{
    if (!text || !*text)
        return false;
    if (strcmp(text, "0") == 0) {
        *ms = 0;
        return true;
    }
    static const struct { const char *unit; double ms; } units[] = {
        { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
        { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
    };
    double total = 0;
    const char *p = text;
    while (*p) {
        char *end = NULL;
        errno = 0;
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
        double value = strtod(p, &end);
        if (end == p || errno)
            return false;
        p = end;
        size_t best = 0;
        double factor = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].unit);
            if (n > best && strncmp(p, units[i].unit, n) == 0) {
                best = n;
                factor = units[i].ms;
            }
        }
        if (!best)
            return false;
        p += best;
        total += value * factor;
    }
    if (total < 0 || total > 1e15)
        return false;
    *ms = (uint64_t)(total + 1e-9);
    return true;
}

void pd_http_format_bytes(uint64_t bytes, char *out, size_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double value = (double)bytes;
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < sizeof units / sizeof units[0]) {
        value /= 1024;
        unit++;
    }
    snprintf(out, size, "%.4g%s", value, units[unit]);
}

/* ---- rendering ---- */

void pd_http_response_clear(struct pd_http_response *response)
{
    free(response->body);
    memset(response, 0, sizeof *response);
}

static bool render_bytes(struct pd_http_response *response, int status, const char *type,
                         const char *body, size_t length)
{
    free(response->body);
    response->body = NULL;
    response->status = status;
    response->content_type = type;
    response->length = length;
    if (length == 0)
        return true;
    response->body = malloc(length + 1);
    if (!response->body) {
        pd_http_response_clear(response);
        return false;
    }
    memcpy(response->body, body, length);
    response->body[length] = '\0';
    return true;
}

static bool render_text(struct pd_http_response *response, int status, const char *type,
                        const char *text)
{
    return render_bytes(response, status, type, text, strlen(text));
}

/* Go's render.JSON with IndentJSON: 2-space indent, ": ", trailing newline.
 * Takes `json` (NULL: memory ran out). cJSON escapes control characters in
 * strings, so every raw tab in its output is indentation or follows a colon. */
static bool render_json(struct pd_http_response *response, int status, cJSON *json)
{
    char *printed = json ? cJSON_Print(json) : NULL;
    cJSON_Delete(json);
    if (!printed) {
        pd_http_response_clear(response);
        return false;
    }
    size_t length = strlen(printed);
    char *out = malloc(length * 2 + 2);
    if (!out) {
        free(printed);
        pd_http_response_clear(response);
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        if (printed[i] != '\t') {
            out[n++] = printed[i];
        } else if (n > 0 && out[n - 1] == ':') {
            out[n++] = ' ';
        } else {
            out[n++] = ' ';
            out[n++] = ' ';
        }
    }
    out[n++] = '\n';
    out[n] = '\0';
    free(printed);
    free(response->body);
    response->status = status;
    response->content_type = JSON_TYPE;
    response->body = out;
    response->length = n;
    return true;
}

/* A JSON string body: PD's messages and most of its errors. */
static bool render_string(struct pd_http_response *response, int status, const char *text)
{
    return render_json(response, status, cJSON_CreateString(text));
}

static bool render_not_found(struct pd_http_response *response)
{
    return render_text(response, 404, TEXT_TYPE, "404 page not found\n");
}

static bool render_method_not_allowed(struct pd_http_response *response)
{
    return render_bytes(response, 405, NULL, "", 0);
}

/* errcode-style input error (JSON object), as PD's apiutil.ErrorResp writes it. */
static bool render_input_error(struct pd_http_response *response, const char *message)
{
    cJSON *json = cJSON_CreateObject();
    if (json && (!cJSON_AddStringToObject(json, "code", "input") ||
                 !cJSON_AddStringToObject(json, "msg", message))) {
        cJSON_Delete(json);
        json = NULL;
    }
    return render_json(response, 400, json);
}

static bool add_u64(cJSON *object, const char *name, uint64_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64, value);
    return cJSON_AddRawToObject(object, name, text) != NULL;
}

static bool add_string_array(cJSON *object, const char *name, const char *value)
{
    cJSON *array = cJSON_AddArrayToObject(object, name);
    cJSON *item = cJSON_CreateString(value);
    if (!array || !item) {
        cJSON_Delete(item);
        return false;
    }
    cJSON_AddItemToArray(array, item);
    return true;
}

/* ---- small parsing helpers ---- */

static bool parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end)
        return false;
    *out = value;
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void url_decode(const char *in, size_t length, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < length && n + 1 < size; i++) {
        if (in[i] == '%' && i + 2 < length && hex_value(in[i + 1]) >= 0 &&
            hex_value(in[i + 2]) >= 0) {
            out[n++] = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out[n++] = in[i] == '+' ? ' ' : in[i];
        }
    }
    out[n] = '\0';
}

/* Calls `each` for every value of parameter `name` in a raw query; stops when it returns false. */
static bool query_each(const char *query, const char *name,
                       bool (*each)(const char *value, void *data), void *data)
{
    if (!query)
        return true;
    size_t name_length = strlen(name);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t piece = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', piece);
        size_t key_length = eq ? (size_t)(eq - p) : piece;
        if (key_length == name_length && strncmp(p, name, name_length) == 0) {
            char value[256];
            if (eq)
                url_decode(eq + 1, piece - key_length - 1, value, sizeof value);
            else
                value[0] = '\0';
            if (!each(value, data))
                return false;
        }
        p += piece;
        if (*p == '&')
            p++;
    }
    return true;
}

static bool query_has(const char *query, const char *name)
{
    bool found = false;
    if (!query)
        return false;
    size_t name_length = strlen(name);
    for (const char *p = query; *p;) {
        size_t piece = strcspn(p, "&");
        size_t key_length = strcspn(p, "=&");
        if (key_length == name_length && strncmp(p, name, name_length) == 0)
            found = true;
        p += piece;
        if (*p == '&')
            p++;
    }
    return found;
}

static const char *after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

static cJSON *parse_body(const struct pd_http_request *request)
{
    if (!request->body || request->body_length == 0)
        return NULL;
    return cJSON_ParseWithLength(request->body, request->body_length);
}

/* ---- PD: members ---- */

static cJSON *member_json(const struct pd_model_member *member, bool full)
{
    cJSON *json = cJSON_CreateObject();
    if (!json)
        return NULL;
    bool ok = cJSON_AddStringToObject(json, "name", member->name) &&
              add_u64(json, "member_id", member->id) &&
              add_string_array(json, "peer_urls", member->peer_url) &&
              add_string_array(json, "client_urls", member->client_url);
    if (ok && full)
        ok = cJSON_AddStringToObject(json, "deploy_path", "/") &&
             cJSON_AddStringToObject(json, "binary_version", member->version) &&
             cJSON_AddStringToObject(json, "git_hash", PD_GIT_HASH);
    if (!ok) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

static bool serve_members(struct pd_model *model, struct pd_http_response *response)
{
    cJSON *json = cJSON_CreateObject();
    cJSON *header = cJSON_AddObjectToObject(json, "header");
    cJSON *members = cJSON_AddArrayToObject(json, "members");
    bool ok = header && members && add_u64(header, "cluster_id", pd_model_cluster_id(model));
    for (size_t i = 0; ok && i < pd_model_member_count(model); i++) {
        cJSON *member = member_json(pd_model_member_at(model, i), true);
        ok = member != NULL;
        if (ok)
            cJSON_AddItemToArray(members, member);
    }
    const struct pd_model_member *leader = pd_model_leader(model);
    if (ok && leader) {
        cJSON *a = member_json(leader, true), *b = member_json(leader, true);
        ok = a && b;
        if (ok) {
            cJSON_AddItemToObject(json, "leader", a);
            cJSON_AddItemToObject(json, "etcd_leader", b);
        } else {
            cJSON_Delete(a);
            cJSON_Delete(b);
        }
    }
    if (!ok) {
        cJSON_Delete(json);
        json = NULL;
    }
    return render_json(response, 200, json);
}

static bool serve_health(struct pd_model *model, struct pd_http_response *response)
{
    cJSON *json = cJSON_CreateArray();
    bool ok = json != NULL;
    for (size_t i = 0; ok && i < pd_model_member_count(model); i++) {
        const struct pd_model_member *member = pd_model_member_at(model, i);
        cJSON *item = cJSON_CreateObject();
        ok = item && cJSON_AddStringToObject(item, "name", member->name) &&
             add_u64(item, "member_id", member->id) &&
             add_string_array(item, "client_urls", member->client_url) &&
             cJSON_AddBoolToObject(item, "health", pd_member_alive(member));
        if (item)
            cJSON_AddItemToArray(json, item);
    }
    if (!ok) {
        cJSON_Delete(json);
        json = NULL;
    }
    return render_json(response, 200, json);
}

static bool serve_member_delete(struct pd_model *model, const char *rest,
                                struct pd_http_response *response)
{
    char msg[PD_MODEL_MSG_SIZE];
    const char *name = after(rest, "name/");
    const char *id_text = after(rest, "id/");
    int status;
    if (name && *name) {
        status = pd_model_delete_member_by_name(model, name, msg);
    } else if (id_text) {
        uint64_t id;
        if (!parse_u64(id_text, &id)) {
            snprintf(msg, sizeof msg, "strconv.ParseUint: parsing \"%s\": invalid syntax", id_text);
            return render_string(response, 400, msg);
        }
        status = pd_model_delete_member_by_id(model, id, msg);
    } else {
        return render_not_found(response);
    }
    return render_string(response, status, msg);
}

/* ---- PD: stores ---- */

static cJSON *store_json(struct pd_model *model, const struct pd_model_store *store)
{
    cJSON *info = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(info, "store");
    cJSON *status = cJSON_AddObjectToObject(info, "status");
    if (!meta || !status) {
        cJSON_Delete(info);
        return NULL;
    }
    bool ok = add_u64(meta, "id", store->id) &&
              cJSON_AddStringToObject(meta, "address", store->address);
    if (ok && store->state != PD_STORE_UP)
        ok = cJSON_AddNumberToObject(meta, "state", store->state) != NULL;
    if (ok && store->label_count) {
        cJSON *labels = cJSON_AddArrayToObject(meta, "labels");
        ok = labels != NULL;
        for (size_t i = 0; ok && i < store->label_count; i++) {
            cJSON *label = cJSON_CreateObject();
            ok = label && cJSON_AddStringToObject(label, "key", store->labels[i].key) &&
                 cJSON_AddStringToObject(label, "value", store->labels[i].value);
            if (label)
                cJSON_AddItemToArray(labels, label);
        }
    }
    ok = ok && cJSON_AddStringToObject(meta, "version", store->version) &&
         cJSON_AddStringToObject(meta, "status_address", store->status_address) &&
         cJSON_AddStringToObject(meta, "git_hash", TIKV_GIT_HASH);
    if (ok && store->start_wall_ms)
        ok = cJSON_AddNumberToObject(meta, "start_timestamp",
                                     (double)(store->start_wall_ms / 1000)) != NULL;
    ok = ok && cJSON_AddStringToObject(meta, "deploy_path", "/");
    if (ok && store->heard)
        ok = add_u64(meta, "last_heartbeat", (uint64_t)store->heartbeat_wall_ms * 1000000ULL);
    if (ok && store->physically_destroyed)
        ok = cJSON_AddBoolToObject(meta, "physically_destroyed", true) != NULL;
    if (ok && store->node_state != PD_NODE_PREPARING)
        ok = cJSON_AddNumberToObject(meta, "node_state", store->node_state) != NULL;
    ok = ok && cJSON_AddStringToObject(meta, "state_name", pd_model_store_state_name(model, store));

    char text[64];
    uint64_t region_size = store->region_count * REGION_MIB;
    uint64_t leader_size = store->leader_count * REGION_MIB;
    uint64_t used = region_size << 20;
    if (used > STORE_CAPACITY)
        used = STORE_CAPACITY;
    pd_http_format_bytes(STORE_CAPACITY, text, sizeof text);
    ok = ok && cJSON_AddStringToObject(status, "capacity", text);
    pd_http_format_bytes(STORE_CAPACITY - used, text, sizeof text);
    ok = ok && cJSON_AddStringToObject(status, "available", text);
    pd_http_format_bytes(used, text, sizeof text);
    ok = ok && cJSON_AddStringToObject(status, "used_size", text) &&
         cJSON_AddNumberToObject(status, "leader_count", (double)store->leader_count) &&
         cJSON_AddNumberToObject(status, "leader_weight", 1) &&
         cJSON_AddNumberToObject(status, "leader_score", (double)store->leader_count) &&
         cJSON_AddNumberToObject(status, "leader_size", (double)leader_size) &&
         cJSON_AddNumberToObject(status, "region_count", (double)store->region_count) &&
         cJSON_AddNumberToObject(status, "region_weight", 1) &&
         cJSON_AddNumberToObject(status, "region_score", (double)region_size) &&
         cJSON_AddNumberToObject(status, "region_size", (double)region_size);
    if (ok && store->state != PD_STORE_TOMBSTONE)
        ok = cJSON_AddNumberToObject(status, "slow_score", 1) != NULL;
    if (ok && store->heard) {
        clock_format_rfc3339(store->start_wall_ms, CLOCK_RFC3339_TRIMMED, text, sizeof text);
        ok = cJSON_AddStringToObject(status, "start_ts", text) != NULL;
        clock_format_rfc3339(store->heartbeat_wall_ms, CLOCK_RFC3339_TRIMMED, text, sizeof text);
        ok = ok && cJSON_AddStringToObject(status, "last_heartbeat_ts", text);
        int64_t up = store->heartbeat_wall_ms - store->start_wall_ms;
        pd_http_format_duration(up > 0 ? (uint64_t)up : 0, text, sizeof text);
        ok = ok && cJSON_AddStringToObject(status, "uptime", text);
    }
    if (ok && pd_model_evict_leader_has(model, store->id))
        ok = cJSON_AddBoolToObject(status, "pause_leader_transfer_in", true) != NULL;
    if (!ok) {
        cJSON_Delete(info);
        return NULL;
    }
    return info;
}

struct state_filter {
    bool wanted[3];
    bool any;
    char error[PD_MODEL_MSG_SIZE];
};

static bool collect_state(const char *value, void *data)
{
    struct state_filter *filter = data;
    uint64_t state;
    char *end = NULL;
    errno = 0;
    long parsed = strtol(value, &end, 10);
    if (!*value || *end || errno) {
        snprintf(filter->error, sizeof filter->error,
                 "strconv.Atoi: parsing \"%s\": invalid syntax", value);
        return false;
    }
    if (parsed < 0 || parsed > 2) {
        snprintf(filter->error, sizeof filter->error, "unknown StoreState: %ld", parsed);
        return false;
    }
    state = (uint64_t)parsed;
    filter->wanted[state] = true;
    filter->any = true;
    return true;
}

static bool serve_stores(struct pd_model *model, const struct pd_http_request *request,
                         struct pd_http_response *response)
{
    struct state_filter filter = { { false, false, false }, false, "" };
    if (!query_each(request->query, "state", collect_state, &filter))
        return render_string(response, 500, filter.error);
    if (!filter.any)
        filter.wanted[PD_STORE_UP] = filter.wanted[PD_STORE_OFFLINE] = true;
    cJSON *json = cJSON_CreateObject();
    cJSON *count = cJSON_AddNumberToObject(json, "count", 0);
    cJSON *stores = cJSON_AddArrayToObject(json, "stores");
    bool ok = count && stores;
    int listed = 0;
    for (size_t i = 0; ok && i < pd_model_store_count(model); i++) {
        const struct pd_model_store *store = pd_model_store_at(model, i);
        if (!filter.wanted[store->state])
            continue;
        cJSON *item = store_json(model, store);
        ok = item != NULL;
        if (ok) {
            cJSON_AddItemToArray(stores, item);
            listed++;
        }
    }
    if (ok)
        cJSON_SetNumberValue(count, listed);
    if (!ok) {
        cJSON_Delete(json);
        json = NULL;
    }
    return render_json(response, 200, json);
}

static bool serve_store_labels(struct pd_model *model, uint64_t id,
                               const struct pd_http_request *request,
                               struct pd_http_response *response)
{
    cJSON *body = parse_body(request);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return render_string(response, 400, "[PD:apiutil:ErrJSONUnmarshal]invalid JSON body");
    }
    size_t count = (size_t)cJSON_GetArraySize(body);
    const char **keys = calloc(count + 1, sizeof *keys);
    const char **values = calloc(count + 1, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        cJSON_Delete(body);
        pd_http_response_clear(response);
        return false;
    }
    size_t n = 0;
    const cJSON *item;
    bool valid = true;
    cJSON_ArrayForEach(item, body) {
        if (!cJSON_IsString(item)) {
            valid = false;
            break;
        }
        keys[n] = item->string;
        values[n++] = item->valuestring;
    }
    char msg[PD_MODEL_MSG_SIZE];
    bool ok;
    if (!valid) {
        ok = render_string(response, 400, "[PD:apiutil:ErrJSONUnmarshal]label values must be strings");
    } else {
        int status = pd_model_store_set_labels(model, id, keys, values, n,
                                               query_has(request->query, "force"), msg);
        ok = render_string(response, status, msg);
    }
    free(keys);
    free(values);
    cJSON_Delete(body);
    return ok;
}

/* /store/{id}[/state|/label] */
static bool serve_store(struct pd_model *model, const struct pd_http_request *request,
                        const char *rest, struct pd_http_response *response)
{
    char id_text[64];
    size_t id_length = strcspn(rest, "/");
    if (id_length == 0 || id_length >= sizeof id_text)
        return render_not_found(response);
    memcpy(id_text, rest, id_length);
    id_text[id_length] = '\0';
    const char *tail = rest + id_length;
    uint64_t id;
    if (!parse_u64(id_text, &id)) {
        char msg[PD_MODEL_MSG_SIZE];
        snprintf(msg, sizeof msg, "strconv.ParseUint: parsing \"%s\": invalid syntax", id_text);
        return render_input_error(response, msg);
    }
    char msg[PD_MODEL_MSG_SIZE];
    const char *method = request->method;
    if (*tail == '\0') {
        if (strcmp(method, "GET") == 0) {
            const struct pd_model_store *store = pd_model_store_find(model, id);
            if (!store) {
                snprintf(msg, sizeof msg, "[PD:core:ErrStoreNotFound]store %" PRIu64 " not found", id);
                return render_string(response, 404, msg);
            }
            return render_json(response, 200, store_json(model, store));
        }
        if (strcmp(method, "DELETE") == 0) {
            int status = pd_model_store_delete(model, id, query_has(request->query, "force"), msg);
            return render_string(response, status, msg);
        }
        return render_method_not_allowed(response);
    }
    if (strcmp(tail, "/state") == 0) {
        if (strcmp(method, "POST") != 0)
            return render_method_not_allowed(response);
        char state[64] = "";
        const char *q = request->query ? strstr(request->query, "state=") : NULL;
        if (q && (q == request->query || q[-1] == '&'))
            url_decode(q + 6, strcspn(q + 6, "&"), state, sizeof state);
        int status = pd_model_store_set_state(model, id, state, msg);
        return render_string(response, status, msg);
    }
    if (strcmp(tail, "/label") == 0) {
        if (strcmp(method, "POST") != 0)
            return render_method_not_allowed(response);
        return serve_store_labels(model, id, request, response);
    }
    return render_not_found(response);
}

/* ---- PD: schedulers ---- */

static const char *const default_schedulers[] = {
    "balance-leader-scheduler",
    "balance-hot-region-scheduler",
    "balance-region-scheduler",
    "evict-slow-store-scheduler",
};
#define DEFAULT_SCHEDULERS (sizeof default_schedulers / sizeof default_schedulers[0])

static bool serve_schedulers_get(struct pd_model *model, const struct pd_http_request *request,
                                 struct pd_http_response *response)
{
    cJSON *json = cJSON_CreateArray();
    bool ok = json != NULL;
    char status[32] = "";
    const char *q = request->query ? strstr(request->query, "status=") : NULL;
    if (q)
        url_decode(q + 7, strcspn(q + 7, "&"), status, sizeof status);
    /* Nothing is ever paused or disabled here. */
    if (!*status) {
        for (size_t i = 0; ok && i < DEFAULT_SCHEDULERS; i++) {
            if (i == 1 && pd_model_evict_leader_count(model)) {
                cJSON *evict = cJSON_CreateString("evict-leader-scheduler");
                ok = evict != NULL;
                cJSON_AddItemToArray(json, evict);
            }
            cJSON *name = cJSON_CreateString(default_schedulers[i]);
            ok = ok && name != NULL;
            cJSON_AddItemToArray(json, name);
        }
    }
    if (!ok) {
        cJSON_Delete(json);
        json = NULL;
    }
    return render_json(response, 200, json);
}

static bool serve_schedulers_post(struct pd_model *model, const struct pd_http_request *request,
                                  struct pd_http_response *response)
{
    cJSON *body = parse_body(request);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return render_string(response, 400, "[PD:apiutil:ErrJSONUnmarshal]invalid JSON body");
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *store_id = cJSON_GetObjectItemCaseSensitive(body, "store_id");
    bool ok;
    if (!cJSON_IsString(name)) {
        ok = render_string(response, 400, "missing scheduler name");
    } else if (strcmp(name->valuestring, "evict-leader-scheduler") == 0) {
        if (!store_id) {
            ok = render_string(response, 400, "missing store id");
        } else if (!cJSON_IsNumber(store_id) || store_id->valuedouble < 0 ||
                   store_id->valuedouble != (double)(uint64_t)store_id->valuedouble) {
            ok = render_string(response, 400, "please input a right store id");
        } else {
            char msg[PD_MODEL_MSG_SIZE];
            bool created = false;
            int status = pd_model_evict_leader_add(model, (uint64_t)store_id->valuedouble,
                                                   &created, msg);
            ok = render_string(response, status, msg);
        }
    } else {
        bool known = false;
        for (size_t i = 0; i < DEFAULT_SCHEDULERS; i++)
            known = known || strcmp(name->valuestring, default_schedulers[i]) == 0;
        ok = render_string(response, 400,
                           known ? "[PD:scheduler:ErrSchedulerExisted]scheduler existed"
                                 : "unknown scheduler");
    }
    cJSON_Delete(body);
    return ok;
}

static bool serve_schedulers_delete(struct pd_model *model, const char *name,
                                    struct pd_http_response *response)
{
    const char *id_text = after(name, "evict-leader-scheduler-");
    uint64_t id;
    if (id_text && parse_u64(id_text, &id)) {
        int status = pd_model_evict_leader_remove(model, id, NULL);
        return render_json(response, status, cJSON_CreateNull());
    }
    if (strcmp(name, "evict-leader-scheduler") == 0) {
        if (pd_model_evict_leader_clear(model))
            return render_string(response, 200, "The scheduler is removed.");
    } else {
        for (size_t i = 0; i < DEFAULT_SCHEDULERS; i++)
            if (strcmp(name, default_schedulers[i]) == 0)
                return render_string(response, 200, "The scheduler is removed.");
    }
    return render_string(response, 404, "[PD:scheduler:ErrSchedulerNotFound]scheduler not found");
}

static bool serve_evict_config(struct pd_model *model, const struct pd_http_request *request,
                               const char *rest, struct pd_http_response *response)
{
    if (pd_model_evict_leader_count(model) == 0)
        return render_not_found(response);
    const char *method = request->method;
    if (strcmp(rest, "list") == 0) {
        if (strcmp(method, "GET") != 0)
            return render_method_not_allowed(response);
        cJSON *json = cJSON_CreateObject();
        cJSON *ranges = cJSON_AddObjectToObject(json, "store-id-ranges");
        bool ok = ranges != NULL;
        for (size_t i = 0; ok && i < pd_model_evict_leader_count(model); i++) {
            char key[32];
            snprintf(key, sizeof key, "%" PRIu64, pd_model_evict_leader_at(model, i));
            cJSON *list = cJSON_AddArrayToObject(ranges, key);
            cJSON *range = cJSON_CreateObject();
            ok = list && range && cJSON_AddStringToObject(range, "start-key", "") &&
                 cJSON_AddStringToObject(range, "end-key", "");
            if (range)
                cJSON_AddItemToArray(list, range);
        }
        ok = ok && cJSON_AddNumberToObject(json, "batch", 3);
        if (!ok) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    if (strcmp(rest, "config") == 0) {
        if (strcmp(method, "POST") != 0)
            return render_method_not_allowed(response);
        cJSON *body = parse_body(request);
        const cJSON *store_id = cJSON_GetObjectItemCaseSensitive(body, "store_id");
        bool ok;
        if (!cJSON_IsObject(body)) {
            ok = render_string(response, 400, "[PD:apiutil:ErrJSONUnmarshal]invalid JSON body");
        } else if (store_id && (!cJSON_IsNumber(store_id) || store_id->valuedouble < 0)) {
            ok = render_string(response, 400, "please input a right store id");
        } else {
            char msg[PD_MODEL_MSG_SIZE] = "The scheduler has been applied to the store.";
            int status = 200;
            if (store_id)
                status = pd_model_evict_leader_add(model, (uint64_t)store_id->valuedouble, NULL, msg);
            ok = render_string(response, status, msg);
        }
        cJSON_Delete(body);
        return ok;
    }
    const char *id_text = after(rest, "delete/");
    if (id_text) {
        if (strcmp(method, "DELETE") != 0)
            return render_method_not_allowed(response);
        uint64_t id;
        if (!parse_u64(id_text, &id))
            return render_input_error(response, "invalid store id");
        bool last = false;
        int status = pd_model_evict_leader_remove(model, id, &last);
        if (status != 200) {
            char msg[PD_MODEL_MSG_SIZE];
            snprintf(msg, sizeof msg, "[PD:core:ErrStoreNotFound]store %" PRIu64 " not found", id);
            return render_string(response, 404, msg);
        }
        if (last)
            return render_string(response, 200, "The last store has been deleted");
        return render_json(response, 200, cJSON_CreateNull());
    }
    return render_not_found(response);
}

/* ---- PD: config ---- */

static cJSON *replication_json(const struct pd_model_config *config)
{
    cJSON *json = cJSON_CreateObject();
    if (json &&
        cJSON_AddNumberToObject(json, "max-replicas", config->max_replicas) &&
        cJSON_AddStringToObject(json, "location-labels", config->location_labels) &&
        cJSON_AddStringToObject(json, "strictly-match-label",
                                config->strictly_match_label ? "true" : "false") &&
        cJSON_AddStringToObject(json, "enable-placement-rules",
                                config->enable_placement_rules ? "true" : "false") &&
        cJSON_AddStringToObject(json, "enable-placement-rules-cache", "false") &&
        cJSON_AddStringToObject(json, "isolation-level", config->isolation_level))
        return json;
    cJSON_Delete(json);
    return NULL;
}

static cJSON *schedule_json(const struct pd_model_config *config)
{
    char down[32];
    pd_http_format_duration(config->max_store_down_ms, down, sizeof down);
    cJSON *json = cJSON_CreateObject();
    cJSON *schedulers = cJSON_AddArrayToObject(json, "schedulers-v2");
    bool ok = schedulers &&
              cJSON_AddStringToObject(json, "max-store-down-time", down) &&
              cJSON_AddStringToObject(json, "max-store-preparing-time", "48h0m0s") &&
              cJSON_AddNumberToObject(json, "leader-schedule-limit", config->leader_schedule_limit) &&
              cJSON_AddNumberToObject(json, "region-schedule-limit", config->region_schedule_limit) &&
              cJSON_AddNumberToObject(json, "replica-schedule-limit", config->replica_schedule_limit) &&
              cJSON_AddNumberToObject(json, "merge-schedule-limit", 8) &&
              cJSON_AddNumberToObject(json, "hot-region-schedule-limit", 4) &&
              cJSON_AddNumberToObject(json, "max-snapshot-count", 64) &&
              cJSON_AddNumberToObject(json, "max-pending-peer-count", 64) &&
              cJSON_AddNumberToObject(json, "max-merge-region-size", 54) &&
              cJSON_AddStringToObject(json, "split-merge-interval", "1h0m0s") &&
              cJSON_AddStringToObject(json, "patrol-region-interval", "10ms") &&
              cJSON_AddNumberToObject(json, "low-space-ratio", 0.8) &&
              cJSON_AddNumberToObject(json, "high-space-ratio", 0.7) &&
              cJSON_AddNumberToObject(json, "tolerant-size-ratio", 0) &&
              cJSON_AddStringToObject(json, "leader-schedule-policy", "count") &&
              cJSON_AddStringToObject(json, "enable-one-way-merge", "false") &&
              cJSON_AddStringToObject(json, "enable-cross-table-merge", "true");
    static const char *const types[] = { "balance-region", "balance-leader", "hot-region",
                                         "evict-slow-store" };
    for (size_t i = 0; ok && i < sizeof types / sizeof types[0]; i++) {
        cJSON *item = cJSON_CreateObject();
        ok = item && cJSON_AddStringToObject(item, "type", types[i]) &&
             cJSON_AddNullToObject(item, "args") && cJSON_AddFalseToObject(item, "disable") &&
             cJSON_AddStringToObject(item, "args-payload", "");
        if (item)
            cJSON_AddItemToArray(schedulers, item);
    }
    if (!ok) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

static bool serve_config_get(struct pd_model *model, const struct pd_model_member *self,
                             struct pd_http_response *response)
{
    const struct pd_model_config *config = pd_model_config(model);
    char version[64];
    const char *v = pd_model_version(model);
    snprintf(version, sizeof version, "%s", v[0] == 'v' ? v + 1 : v);
    cJSON *json = cJSON_CreateObject();
    cJSON *log = cJSON_AddObjectToObject(json, "log");
    bool ok = log && cJSON_AddStringToObject(json, "client-urls", "http://0.0.0.0:2379") &&
              cJSON_AddStringToObject(json, "peer-urls", "http://0.0.0.0:2380") &&
              cJSON_AddStringToObject(json, "advertise-client-urls", self->client_url) &&
              cJSON_AddStringToObject(json, "advertise-peer-urls", self->peer_url) &&
              cJSON_AddStringToObject(json, "name", self->name) &&
              cJSON_AddStringToObject(json, "data-dir", "/var/lib/pd") &&
              cJSON_AddStringToObject(json, "initial-cluster", "") &&
              cJSON_AddStringToObject(json, "initial-cluster-state", "new") &&
              cJSON_AddStringToObject(json, "join", "") &&
              cJSON_AddNumberToObject(json, "lease", 3) &&
              cJSON_AddStringToObject(log, "level", "info") &&
              cJSON_AddStringToObject(log, "format", "text") &&
              cJSON_AddFalseToObject(log, "disable-timestamp");
    cJSON *schedule = ok ? schedule_json(config) : NULL;
    cJSON *replication = schedule ? replication_json(config) : NULL;
    if (schedule)
        cJSON_AddItemToObject(json, "schedule", schedule);
    if (replication)
        cJSON_AddItemToObject(json, "replication", replication);
    cJSON *server = cJSON_AddObjectToObject(json, "pd-server");
    ok = ok && schedule && replication && server &&
         cJSON_AddStringToObject(server, "use-region-storage", "true") &&
         cJSON_AddStringToObject(server, "dashboard-address", "auto") &&
         cJSON_AddStringToObject(json, "cluster-version", version) &&
         cJSON_AddStringToObject(json, "quota-backend-bytes", "8GiB") &&
         cJSON_AddStringToObject(json, "tick-interval", "500ms") &&
         cJSON_AddStringToObject(json, "election-interval", "3s");
    if (!ok) {
        cJSON_Delete(json);
        json = NULL;
    }
    return render_json(response, 200, json);
}

/* A ",string"-tagged bool: only "true"/"false" strings are accepted, as Go does. */
static bool string_bool(const cJSON *item, bool *value, char *msg)
{
    if (cJSON_IsString(item) && (strcmp(item->valuestring, "true") == 0 ||
                                 strcmp(item->valuestring, "false") == 0)) {
        *value = strcmp(item->valuestring, "true") == 0;
        return true;
    }
    snprintf(msg, PD_MODEL_MSG_SIZE,
             "json: invalid use of ,string struct tag, trying to unmarshal %s into bool",
             cJSON_IsString(item) ? "a non-boolean string" : "unquoted value");
    return false;
}

/* Applies one config item; 0 when done, else the status to answer (msg set). */
static int apply_item(struct pd_model *model, const char *key, const cJSON *value, char *msg)
{
    const char *name = key;
    const char *section = NULL;
    const char *dot = strchr(key, '.');
    char prefix[32] = "";
    if (dot && (size_t)(dot - key) < sizeof prefix) {
        memcpy(prefix, key, (size_t)(dot - key));
        prefix[dot - key] = '\0';
        section = prefix;
        name = dot + 1;
    }
    bool replication = !section || strcmp(section, "replication") == 0;
    bool schedule = !section || strcmp(section, "schedule") == 0;
    bool b;
    if (replication && strcmp(name, "max-replicas") == 0) {
        if (!cJSON_IsNumber(value)) {
            snprintf(msg, PD_MODEL_MSG_SIZE, "json: cannot unmarshal into max-replicas");
            return 400;
        }
        int status = pd_model_set_max_replicas(model, (long)value->valuedouble, msg);
        return status == 200 ? 0 : status;
    }
    if (replication && strcmp(name, "location-labels") == 0) {
        if (!cJSON_IsString(value)) {
            snprintf(msg, PD_MODEL_MSG_SIZE, "json: cannot unmarshal into location-labels (a comma-joined string)");
            return 400;
        }
        return pd_model_set_location_labels(model, value->valuestring) ? 0 : 500;
    }
    if (replication && strcmp(name, "isolation-level") == 0) {
        if (!cJSON_IsString(value)) {
            snprintf(msg, PD_MODEL_MSG_SIZE, "json: cannot unmarshal into isolation-level");
            return 400;
        }
        return pd_model_set_isolation_level(model, value->valuestring) ? 0 : 500;
    }
    if (replication && strcmp(name, "strictly-match-label") == 0) {
        if (!string_bool(value, &b, msg))
            return 400;
        pd_model_set_strictly_match_label(model, b);
        return 0;
    }
    if (replication && strcmp(name, "enable-placement-rules") == 0) {
        if (!string_bool(value, &b, msg))
            return 400;
        pd_model_set_placement_rules(model, b);
        return 0;
    }
    if (replication && strcmp(name, "enable-placement-rules-cache") == 0)
        return string_bool(value, &b, msg) ? 0 : 400;
    if (schedule && strcmp(name, "max-store-down-time") == 0) {
        uint64_t ms;
        if (!cJSON_IsString(value) || !pd_http_parse_duration(value->valuestring, &ms)) {
            snprintf(msg, PD_MODEL_MSG_SIZE, "time: invalid duration \"%s\"",
                     cJSON_IsString(value) ? value->valuestring : "");
            return 400;
        }
        pd_model_set_max_store_down_ms(model, ms);
        return 0;
    }
    /* Accepted and ignored: limits the simulator does not model. */
    static const char *const ignored[] = { "leader-schedule-limit", "region-schedule-limit",
                                           "replica-schedule-limit", "merge-schedule-limit",
                                           "hot-region-schedule-limit", "max-snapshot-count",
                                           "max-pending-peer-count", "max-merge-region-size",
                                           "enable-one-way-merge", "enable-cross-table-merge",
                                           "leader-schedule-policy", "max-store-preparing-time",
                                           "split-merge-interval", "patrol-region-interval" };
    for (size_t i = 0; schedule && i < sizeof ignored / sizeof ignored[0]; i++)
        if (strcmp(name, ignored[i]) == 0)
            return 0;
    snprintf(msg, PD_MODEL_MSG_SIZE, "config item %s not found", key);
    return 400;
}

/* POST /config, /config/replicate, /config/schedule: `section` NULL for /config. */
static bool serve_config_post(struct pd_model *model, const struct pd_http_request *request,
                              const char *section, struct pd_http_response *response)
{
    cJSON *body = parse_body(request);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return render_string(response, 400, "unexpected end of JSON input");
    }
    char msg[PD_MODEL_MSG_SIZE] = "";
    int status = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, body) {
        char key[128];
        if (section)
            snprintf(key, sizeof key, "%s.%s", section, item->string);
        else
            snprintf(key, sizeof key, "%s", item->string);
        status = apply_item(model, key, item, msg);
        if (status == 400 && section && strstr(msg, "config item"))
            status = 0; /* section endpoints decode over the struct: unknown keys are ignored */
        if (status)
            break;
    }
    cJSON_Delete(body);
    if (status)
        return render_string(response, status, *msg ? msg : "out of memory");
    return render_string(response, 200, "The config is updated.");
}

/* ---- PD: dispatch ---- */

static const struct pd_model_member *receiver(struct pd_model *model, const char *pod)
{
    if (pod) {
        const struct pd_model_member *member = pd_model_member_find(model, pod);
        return member && pd_member_alive(member) ? member : NULL;
    }
    const struct pd_model_member *leader = pd_model_leader(model);
    if (leader && pd_member_alive(leader))
        return leader;
    for (size_t i = 0; i < pd_model_member_count(model); i++)
        if (pd_member_alive(pd_model_member_at(model, i)))
            return pd_model_member_at(model, i);
    return NULL;
}

static bool is_get(const struct pd_http_request *request) { return strcmp(request->method, "GET") == 0; }

static bool serve_local(struct pd_model *model, const struct pd_model_member *self,
                        const struct pd_http_request *request, const char *p,
                        struct pd_http_response *response, bool *served)
{
    *served = true;
    if (strcmp(p, "/ping") == 0)
        return render_bytes(response, 200, NULL, "", 0);
    if (strcmp(p, "/health") == 0)
        return is_get(request) ? serve_health(model, response) : render_method_not_allowed(response);
    if (strcmp(p, "/version") == 0) {
        if (!is_get(request))
            return render_method_not_allowed(response);
        cJSON *json = cJSON_CreateObject();
        if (!cJSON_AddStringToObject(json, "version", self->version) ||
            !cJSON_AddStringToObject(json, "build_time", "") ||
            !cJSON_AddStringToObject(json, "hash", "") ||
            !cJSON_AddStringToObject(json, "branch", "")) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    if (strcmp(p, "/status") == 0) {
        if (!is_get(request))
            return render_method_not_allowed(response);
        cJSON *json = cJSON_CreateObject();
        if (!cJSON_AddStringToObject(json, "build_ts", "2025-01-01 00:00:00") ||
            !cJSON_AddStringToObject(json, "version", self->version) ||
            !cJSON_AddStringToObject(json, "git_hash", PD_GIT_HASH) ||
            !cJSON_AddNumberToObject(json, "start_timestamp", (double)(self->start_wall_ms / 1000)) ||
            !cJSON_AddStringToObject(json, "kernel_type", "classic")) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    if (strcmp(p, "/config") == 0 && is_get(request))
        return serve_config_get(model, self, response);
    *served = false;
    return true;
}

static bool needs_bootstrap(const char *p)
{
    return after(p, "/store") || after(p, "/labels") || after(p, "/regions/check") ||
           after(p, "/schedulers");
}

bool pd_http_serve_pd(struct pd_model *model, const struct pd_http_request *request,
                      struct pd_http_response *response)
{
    memset(response, 0, sizeof *response);
    const struct pd_model_member *self = receiver(model, request->pod);
    if (!self)
        return true; /* status 0: connection refused */
    const char *failure = pd_model_failure(model);
    if (failure)
        return render_string(response, 500, failure);
    if (pd_model_garbage(model)) {
        static const char garbage[] = "{\"members\":[{\"name\":\"pd-0\",\"member_id\":";
        return render_bytes(response, 200, "application/json", garbage, sizeof garbage - 1);
    }
    const char *path = request->path;
    if (strcmp(path, "/pd/api/v2/ready") == 0)
        return is_get(request) ? render_bytes(response, 200, NULL, "", 0)
                               : render_method_not_allowed(response);
    const char *p = after(path, "/pd/api/v1");
    if (!p || (*p && *p != '/'))
        return render_not_found(response);
    bool served = false;
    if (!serve_local(model, self, request, p, response, &served))
        return false;
    if (served)
        return true;
    /* Everything else is proxied to the leader. */
    if (!pd_model_leader(model))
        return render_text(response, 503, TEXT_TYPE,
                           "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\n");
    if (needs_bootstrap(p) && !pd_model_bootstrapped(model))
        return render_string(response, 500, NOT_BOOTSTRAPPED);

    const char *method = request->method;
    const char *rest;
    char msg[PD_MODEL_MSG_SIZE];
    if (strcmp(p, "/members") == 0)
        return is_get(request) ? serve_members(model, response) : render_method_not_allowed(response);
    if ((rest = after(p, "/members/")) != NULL) {
        if (strcmp(method, "DELETE") != 0)
            return render_method_not_allowed(response);
        return serve_member_delete(model, rest, response);
    }
    if (strcmp(p, "/leader") == 0) {
        if (!is_get(request))
            return render_method_not_allowed(response);
        return render_json(response, 200, member_json(pd_model_leader(model), false));
    }
    if (strcmp(p, "/leader/resign") == 0) {
        if (strcmp(method, "POST") != 0)
            return render_method_not_allowed(response);
        int status = pd_model_resign_leader(model, msg);
        return render_string(response, status, msg);
    }
    if ((rest = after(p, "/leader/transfer/")) != NULL && *rest) {
        if (strcmp(method, "POST") != 0)
            return render_method_not_allowed(response);
        int status = pd_model_transfer_leader(model, rest, msg);
        return render_string(response, status, msg);
    }
    if (strcmp(p, "/cluster") == 0) {
        if (!is_get(request))
            return render_method_not_allowed(response);
        cJSON *json = cJSON_CreateObject();
        if (!add_u64(json, "id", pd_model_cluster_id(model)) ||
            !cJSON_AddNumberToObject(json, "max_peer_count", pd_model_config(model)->max_replicas)) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    if (strcmp(p, "/cluster/status") == 0) {
        if (!is_get(request))
            return render_method_not_allowed(response);
        cJSON *json = cJSON_CreateObject();
        bool ok = json != NULL;
        if (ok && pd_model_bootstrapped(model)) {
            char text[64];
            clock_format_rfc3339(pd_model_bootstrap_wall_ms(model), CLOCK_RFC3339_TRIMMED, text,
                                 sizeof text);
            ok = cJSON_AddStringToObject(json, "raft_bootstrap_time", text) != NULL;
        }
        ok = ok && cJSON_AddBoolToObject(json, "is_initialized", pd_model_regions_replicated(model));
        if (!ok) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    if (strcmp(p, "/stores") == 0)
        return is_get(request) ? serve_stores(model, request, response)
                               : render_method_not_allowed(response);
    if (strcmp(p, "/stores/remove-tombstone") == 0) {
        if (strcmp(method, "DELETE") != 0)
            return render_method_not_allowed(response);
        int status = pd_model_remove_tombstones(model, msg);
        return render_string(response, status, msg);
    }
    if ((rest = after(p, "/store/")) != NULL)
        return serve_store(model, request, rest, response);
    if (strcmp(p, "/schedulers") == 0) {
        if (is_get(request))
            return serve_schedulers_get(model, request, response);
        if (strcmp(method, "POST") == 0)
            return serve_schedulers_post(model, request, response);
        return render_method_not_allowed(response);
    }
    if ((rest = after(p, "/schedulers/")) != NULL && *rest) {
        if (strcmp(method, "DELETE") != 0)
            return render_method_not_allowed(response);
        return serve_schedulers_delete(model, rest, response);
    }
    if ((rest = after(p, "/scheduler-config/evict-leader-scheduler/")) != NULL)
        return serve_evict_config(model, request, rest, response);
    if (strcmp(p, "/config") == 0)
        return strcmp(method, "POST") == 0 ? serve_config_post(model, request, NULL, response)
                                           : render_method_not_allowed(response);
    if (strcmp(p, "/config/replicate") == 0) {
        if (is_get(request))
            return render_json(response, 200, replication_json(pd_model_config(model)));
        if (strcmp(method, "POST") == 0)
            return serve_config_post(model, request, "replication", response);
        return render_method_not_allowed(response);
    }
    if (strcmp(p, "/config/schedule") == 0) {
        if (is_get(request))
            return render_json(response, 200, schedule_json(pd_model_config(model)));
        if (strcmp(method, "POST") == 0)
            return serve_config_post(model, request, "schedule", response);
        return render_method_not_allowed(response);
    }
    if (strcmp(p, "/admin/cluster/markers/snapshot-recovering") == 0) {
        if (!is_get(request))
            return render_method_not_allowed(response);
        cJSON *json = cJSON_CreateObject();
        if (!cJSON_AddFalseToObject(json, "marked")) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    return render_not_found(response);
}

/* ---- TiDB status port ---- */

bool pd_http_serve_tidb(struct pd_model *model, const struct pd_http_request *request,
                        struct pd_http_response *response)
{
    memset(response, 0, sizeof *response);
    const struct pd_model_tidb *self = NULL;
    if (request->pod) {
        self = pd_model_tidb_find(model, request->pod);
    } else {
        for (size_t i = 0; i < pd_model_tidb_count(model) && !self; i++)
            if (pd_model_tidb_at(model, i)->state == PD_TIDB_RUNNING)
                self = pd_model_tidb_at(model, i);
    }
    if (!self || (self->state != PD_TIDB_RUNNING && self->state != PD_TIDB_SHUTTING_DOWN))
        return true; /* connection refused */
    const char *path = request->path;
    if (strcmp(path, "/status") == 0) {
        if (self->state == PD_TIDB_SHUTTING_DOWN)
            return render_bytes(response, 500, NULL, "", 0);
        cJSON *json = cJSON_CreateObject();
        cJSON *status = cJSON_CreateObject();
        if (!json || !status || !cJSON_AddNumberToObject(json, "connections", self->connections) ||
            !cJSON_AddStringToObject(json, "version", self->version) ||
            !cJSON_AddStringToObject(json, "git_hash", TIDB_GIT_HASH) ||
            !cJSON_AddNumberToObject(status, "init_stats_percentage", 100)) {
            cJSON_Delete(json);
            cJSON_Delete(status);
            pd_http_response_clear(response);
            return false;
        }
        cJSON_AddItemToObject(json, "status", status);
        char *text = cJSON_PrintUnformatted(json);
        cJSON_Delete(json);
        if (!text) {
            pd_http_response_clear(response);
            return false;
        }
        bool ok = render_text(response, 200, "application/json", text);
        free(text);
        return ok;
    }
    if (strcmp(path, "/info") == 0) {
        /* The DDL owner: the first running TiDB. */
        bool owner = false;
        for (size_t i = 0; i < pd_model_tidb_count(model); i++) {
            const struct pd_model_tidb *t = pd_model_tidb_at(model, i);
            if (t->state == PD_TIDB_RUNNING) {
                owner = t == self;
                break;
            }
        }
        cJSON *json = cJSON_CreateObject();
        if (!cJSON_AddBoolToObject(json, "is_owner", owner) ||
            !cJSON_AddStringToObject(json, "version", self->version) ||
            !cJSON_AddStringToObject(json, "git_hash", TIDB_GIT_HASH)) {
            cJSON_Delete(json);
            json = NULL;
        }
        return render_json(response, 200, json);
    }
    if (strcmp(path, "/labels") == 0 && strcmp(request->method, "POST") == 0)
        return render_string(response, 200, "success!");
    if ((strcmp(path, "/upgrade/start") == 0 || strcmp(path, "/upgrade/finish") == 0) &&
        strcmp(request->method, "POST") == 0)
        return render_text(response, 200, TEXT_TYPE, "success!");
    return render_not_found(response);
}

/* ---- TiKV status port ---- */

bool pd_http_serve_tikv(struct pd_model *model, const struct pd_http_request *request,
                        struct pd_http_response *response)
{
    memset(response, 0, sizeof *response);
    if (!request->pod || !pd_model_tikv_running(model, request->pod))
        return true; /* connection refused */
    const char *path = request->path;
    if (strcmp(path, "/status") == 0)
        return render_bytes(response, 200, NULL, "", 0);
    if (strcmp(path, "/metrics") == 0) {
        const struct pd_model_store *store = pd_model_store_by_pod(model, request->pod);
        size_t leaders = 0, regions = 0;
        if (store && store->state != PD_STORE_TOMBSTONE) {
            leaders = store->leader_count;
            regions = store->region_count;
        }
        char text[512];
        snprintf(text, sizeof text,
                 "# HELP tikv_raftstore_region_count The number of regions collected in each TiKV node\n"
                 "# TYPE tikv_raftstore_region_count gauge\n"
                 "tikv_raftstore_region_count{type=\"leader\"} %zu\n"
                 "tikv_raftstore_region_count{type=\"region\"} %zu\n",
                 leaders, regions);
        return render_text(response, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    }
    return render_not_found(response);
}
