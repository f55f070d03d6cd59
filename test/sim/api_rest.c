/*
 * api_rest: URL parsing and the REST verbs of the simulated API server
 * (kube-api.md §2-§8), plus discovery and OpenAPI routing.
 */
#include "test/sim/api_internal.h"
#include "test/sim/schema.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reactor/buffer.h"
#include "reactor/clock.h"
#include "test/sim/discovery.h"
#include "test/sim/openapi.h"
#include "test/sim/patch.h"
#include "test/sim/selector.h"
#include "test/sim/validation.h"

#define MAX_SEGMENTS 12

static const char UNKNOWN_FORMAT[] =
    "the body of the request was in an unknown format - accepted media types include: ";

/* ---- small helpers ---- */

static bool same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static bool empty(const char *text) { return !text || !text[0]; }

static const char *string_at(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static cJSON *metadata_of(const cJSON *tree)
{
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(tree, "metadata");
    return cJSON_IsObject(metadata) ? metadata : NULL;
}

static const char *meta_string(const cJSON *tree, const char *key)
{
    return string_at(metadata_of(tree), key);
}

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

static cJSON *ensure_object(cJSON *parent, const char *key)
{
    cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (cJSON_IsObject(child)) return child;
    if (child) cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
    return cJSON_AddObjectToObject(parent, key);
}

static char *qualified_plural(const struct resource *resource)
{
    char *text = NULL;
    if (resource->group[0]) {
        if (asprintf(&text, "%s.%s", resource->plural, resource->group) < 0) text = NULL;
    } else {
        text = strdup(resource->plural);
    }
    return text;
}

static const char *json_type_name(const cJSON *item)
{
    if (cJSON_IsString(item)) return "string";
    if (cJSON_IsBool(item)) return "boolean";
    if (cJSON_IsNumber(item)) return item->valuedouble == (double)(int64_t)item->valuedouble ? "integer" : "number";
    if (cJSON_IsArray(item)) return "array";
    if (cJSON_IsObject(item)) return "object";
    if (cJSON_IsNull(item)) return "null";
    return "unknown";
}

/* Go's strconv.ParseBool. */
static bool parse_bool(const char *text)
{
    return text && (strcmp(text, "true") == 0 || strcmp(text, "1") == 0 || strcmp(text, "t") == 0 ||
                    strcmp(text, "T") == 0 || strcmp(text, "TRUE") == 0 || strcmp(text, "True") == 0);
}

static bool parse_u64(const char *text, uint64_t *out)
{
    if (empty(text)) return false;
    uint64_t value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        if (value > (UINT64_MAX - 9) / 10) return false;
        value = value * 10 + (uint64_t)(*p - '0');
    }
    *out = value;
    return true;
}

static bool media_is(const char *content_type, const char *media)
{
    size_t length = strlen(media);
    return content_type && strncasecmp(content_type, media, length) == 0 &&
           (content_type[length] == '\0' || content_type[length] == ';' ||
            content_type[length] == ' ');
}

/* ---- errors with causes ---- */

/* `<Kind>[.<group>] "<name>" is invalid: <field>: <message>[, ...]`, as the store words it. */
static void finish_invalid(struct store_error *error, const char *kind, const char *group,
                           const char *name)
{
    struct buffer text = { 0 };
    buffer_append_format(&text, "%s%s%s \"%s\" is invalid: ", kind, group[0] ? "." : "", group,
                         name ? name : "");
    if (error->cause_count > 1) buffer_append_string(&text, "[");
    for (size_t i = 0; i < error->cause_count; i++)
        buffer_append_format(&text, "%s%s: %s", i ? ", " : "",
                             error->causes[i].field ? error->causes[i].field : "",
                             error->causes[i].message ? error->causes[i].message : "");
    if (error->cause_count > 1) buffer_append_string(&text, "]");
    free(error->message);
    error->message = buffer_take(&text);
    error->code = 422;
    error->reason = "Invalid";
    free(error->name);
    free(error->group);
    free(error->kind);
    error->name = name ? strdup(name) : NULL;
    error->group = group[0] ? strdup(group) : NULL;
    error->kind = strdup(kind);
}

static void list_options_invalid(struct http_request *request, const char *field,
                                 const char *message)
{
    struct store_error error = { 0 };
    api_error_add_cause(&error, "FieldValueForbidden", field, message);
    finish_invalid(&error, "ListOptions", "meta.k8s.io", "");
    api_send_error(request, &error);
}

static void send_conflict(struct http_request *request, const char *qualified_name,
                          const struct resource *resource, const char *name, const char *why)
{
    struct store_error error = { 0 };
    api_error_set(&error, 409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": %s",
                  qualified_name, name, why);
    error.name = strdup(name);
    error.group = resource->group[0] ? strdup(resource->group) : NULL;
    error.kind = strdup(resource->plural);
    api_send_error(request, &error);
}

static const char STALE[] = "the object has been modified; please apply your changes to the "
                            "latest version and try again";

/* ---- targets ---- */

bool api_target_parse(struct api_server *server, struct http_request *request,
                      struct api_target *target)
{
    memset(target, 0, sizeof *target);
    const char *path = http_request_path(request);
    if (strncmp(path, "/api/", 5) != 0 && strncmp(path, "/apis/", 6) != 0) return false;
    target->path = strdup(path);
    if (!target->path) return false;
    const char *segments[MAX_SEGMENTS];
    size_t count = 0;
    char *save = NULL;
    for (char *part = strtok_r(target->path, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (count == MAX_SEGMENTS) {
            target->not_found = true;
            return true;
        }
        segments[count++] = part;
    }
    size_t at;
    if (same(segments[0], "api")) {
        if (count < 2) goto meta;
        target->group = "";
        target->version = segments[1];
        at = 2;
    } else {
        if (count < 3) goto meta;
        target->group = segments[1];
        target->version = segments[2];
        at = 3;
    }
    if (count == at) goto meta;
    const char **rest = segments + at;
    size_t n = count - at;
    bool legacy_watch = false;
    if (same(rest[0], "watch")) {  /* the deprecated /watch/ prefix */
        legacy_watch = true;
        rest++;
        n--;
        if (n == 0) {
            target->not_found = true;
            return true;
        }
    }
    /* As the real RequestInfoFactory: namespaces/<ns>/<x> is a namespaced
     * resource unless <x> is a subresource of the namespace itself. */
    if (same(rest[0], "namespaces") && n >= 3 && !same(rest[2], "status") &&
        !same(rest[2], "finalize")) {
        target->namespace = rest[1];
        rest += 2;
        n -= 2;
    }
    if (n > 3) {
        target->not_found = true;
        return true;
    }
    const char *plural = rest[0];
    target->name = n > 1 ? rest[1] : NULL;
    target->subresource = n > 2 ? rest[2] : NULL;
    const struct resource *resource =
        resources_find(store_resources(server->store), target->group, target->version, plural);
    if (!resource || (resource->namespaced && target->name && !target->namespace) ||
        (!resource->namespaced && target->namespace)) {
        target->not_found = true;
        return true;
    }
    target->resource = resource;
    const char *method = http_request_method(request);
    bool watch = legacy_watch || parse_bool(http_request_query_param(request, "watch"));
    if (same(method, "GET") || same(method, "HEAD"))
        target->verb = watch ? API_VERB_WATCH : target->name ? API_VERB_GET : API_VERB_LIST;
    else if (same(method, "POST"))
        target->verb = !target->name || target->subresource ? API_VERB_CREATE : API_VERB_NONE;
    else if (same(method, "PUT"))
        target->verb = target->name ? API_VERB_UPDATE : API_VERB_NONE;
    else if (same(method, "PATCH"))
        target->verb = target->name ? API_VERB_PATCH : API_VERB_NONE;
    else if (same(method, "DELETE"))
        target->verb = target->name ? API_VERB_DELETE : API_VERB_DELETE_COLLECTION;
    return true;
meta:
    free(target->path);
    memset(target, 0, sizeof *target);
    return false;
}

void api_target_free(struct api_target *target)
{
    free(target->path);
    memset(target, 0, sizeof *target);
}

/* ---- request bodies ---- */

static bool check_content_type(struct http_request *request, bool patch)
{
    const char *type = http_request_header(request, "Content-Type");
    if (type && strstr(type, "protobuf")) {
        api_fail(request, 415, "UnsupportedMediaType",
                 "%sapplication/json (kubesim does not decode %s; send JSON, e.g. "
                 "kubectl create ... --dry-run=client -o json | kubectl create -f -)",
                 UNKNOWN_FORMAT, "application/vnd.kubernetes.protobuf");
        return false;
    }
    if (patch) return true;
    /* A missing Content-Type is JSON: kubectl scale's PUT sends none. */
    if (!type || !type[0] || media_is(type, "application/json") || media_is(type, "*/*")) return true;
    api_fail(request, 415, "UnsupportedMediaType", "%sapplication/json", UNKNOWN_FORMAT);
    return false;
}

/* The body as a JSON object, or NULL after answering 400. */
static cJSON *parse_body(struct http_request *request)
{
    size_t length = 0;
    const char *body = http_request_body(request, &length);
    if (!body || length == 0) {
        api_fail(request, 400, "BadRequest", "Object 'Kind' is missing in ''");
        return NULL;
    }
    const char *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(body, length, &end, false);
    if (!tree) {
        size_t offset = end && end >= body ? (size_t)(end - body) : 0;
        api_fail(request, 400, "BadRequest",
                 "couldn't get version/kind; json parse error: invalid JSON at offset %zu", offset);
        return NULL;
    }
    if (!cJSON_IsObject(tree)) {
        api_fail(request, 400, "BadRequest",
                 "couldn't get version/kind; json parse error: json: cannot unmarshal %s into Go "
                 "value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
                 "Kind string \"json:\\\"kind,omitempty\\\"\" }",
                 json_type_name(tree));
        cJSON_Delete(tree);
        return NULL;
    }
    return tree;
}

/* kind and apiVersion of a body against what the URL serves. */
static bool check_kind(struct http_request *request, const cJSON *body, const char *kind,
                       const char *group_version, bool required)
{
    const cJSON *api_version_item = cJSON_GetObjectItemCaseSensitive(body, "apiVersion");
    const cJSON *kind_item = cJSON_GetObjectItemCaseSensitive(body, "kind");
    const char *api_version = cJSON_IsString(api_version_item) ? api_version_item->valuestring : NULL;
    const char *body_kind = cJSON_IsString(kind_item) ? kind_item->valuestring : NULL;
    if (required && (empty(body_kind) || empty(api_version))) {
        char *text = cJSON_PrintUnformatted(body);
        if (text && strlen(text) > 200) strcpy(text + 197, "...");
        api_fail(request, 400, "BadRequest", "Object '%s' is missing in '%s'",
                 empty(body_kind) ? "Kind" : "apiVersion", text ? text : "");
        free(text);
        return false;
    }
    if (!empty(api_version) && !same(api_version, group_version)) {
        api_fail(request, 400, "BadRequest",
                 "the API version in the data (%s) does not match the expected API version (%s)",
                 api_version, group_version);
        return false;
    }
    if (!empty(body_kind) && !same(body_kind, kind)) {
        api_fail(request, 400, "BadRequest",
                 "the kind in the data (%s) does not match the expected kind (%s)", body_kind, kind);
        return false;
    }
    return true;
}

static void type_cause(struct store_error *error, const char *field, const cJSON *item,
                       const char *expected)
{
    char message[256];
    snprintf(message, sizeof message, "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
             json_type_name(item), field, expected, json_type_name(item));
    api_error_add_cause(error, "FieldValueTypeInvalid", field, message);
}

static void check_string_map(struct store_error *error, const cJSON *map, const char *field)
{
    if (!map || cJSON_IsNull(map)) return;
    if (!cJSON_IsObject(map)) {
        type_cause(error, field, map, "object");
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, map) {
        if (cJSON_IsString(item)) continue;
        char path[512];
        snprintf(path, sizeof path, "%s.%s", field, item->string ? item->string : "");
        type_cause(error, path, item, "string");
    }
}

static void add_validation_causes(struct store_error *error, const struct validation_causes *causes)
{
    for (size_t i = 0; i < causes->count; i++)
        api_error_add_cause(error, causes->items[i].reason, causes->items[i].field,
                            causes->items[i].message);
}

static void add_schema_cause(void *data, const char *field, const char *reason, const char *message)
{
    api_error_add_cause(data, reason, field, message);
}

/*
 * The basic schema of metadata every kind shares (the store checks names and
 * owner references), and a custom resource's CRD schema (test/sim/schema.h).
 * Answers 422 and returns false on a violation.
 */
static bool check_metadata(struct http_request *request, const struct resource *resource,
                           const cJSON *body, bool creating, const char *subresource)
{
    struct store_error error = { 0 };
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(body, "metadata");
    if (metadata && !cJSON_IsNull(metadata) && !cJSON_IsObject(metadata)) {
        type_cause(&error, "metadata", metadata, "object");
        metadata = NULL;
    }
    static const char *const strings[] = { "name", "generateName", "namespace", "resourceVersion",
                                           "uid", "creationTimestamp" };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(metadata, strings[i]);
        if (item && !cJSON_IsNull(item) && !cJSON_IsString(item)) {
            char field[64];
            snprintf(field, sizeof field, "metadata.%s", strings[i]);
            type_cause(&error, field, item, "string");
        }
    }
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(metadata, "labels");
    const cJSON *annotations = cJSON_GetObjectItemCaseSensitive(metadata, "annotations");
    size_t before = error.cause_count;
    check_string_map(&error, labels, "metadata.labels");
    check_string_map(&error, annotations, "metadata.annotations");
    const cJSON *finalizers = cJSON_GetObjectItemCaseSensitive(metadata, "finalizers");
    if (finalizers && !cJSON_IsNull(finalizers)) {
        if (!cJSON_IsArray(finalizers)) {
            type_cause(&error, "metadata.finalizers", finalizers, "array");
        } else {
            int index = 0;
            const cJSON *item;
            cJSON_ArrayForEach(item, finalizers) {
                if (!cJSON_IsString(item)) {
                    char field[64];
                    snprintf(field, sizeof field, "metadata.finalizers[%d]", index);
                    type_cause(&error, field, item, "string");
                }
                index++;
            }
        }
    }
    const cJSON *owners = cJSON_GetObjectItemCaseSensitive(metadata, "ownerReferences");
    if (owners && !cJSON_IsNull(owners) && !cJSON_IsArray(owners))
        type_cause(&error, "metadata.ownerReferences", owners, "array");
    if (error.cause_count == before) {
        /* Only well-typed maps reach the key and value rules. */
        struct validation_causes causes = { 0 };
        if (cJSON_IsObject(labels)) validation_check_labels(labels, "metadata.labels", &causes);
        if (cJSON_IsObject(annotations))
            validation_check_annotations(annotations, "metadata.annotations", &causes);
        add_validation_causes(&error, &causes);
    }
    const char *name = string_at(metadata, "name");
    const char *generate_name = string_at(metadata, "generateName");
    if (creating && empty(name) && empty(generate_name)) {
        struct validation_causes causes = { 0 };
        validation_check_name(NULL, NULL, resource->name_rule == RESOURCE_NAME_LABEL, &causes);
        add_validation_causes(&error, &causes);
    }
    /* A status write keeps the stored spec, which was checked when written. */
    if (resource->custom && resource->schema && !subresource)
        schema_validate_object(resource->schema, body, add_schema_cause, &error);
    if (error.cause_count == 0) return true;
    finish_invalid(&error, resource->kind, resource->group, name);
    api_send_error(request, &error);
    return false;
}

/* The namespace in the body must match the URL's; cluster-scoped kinds drop it. */
static bool fix_namespace(struct http_request *request, const struct resource *resource,
                          cJSON *body, const char *namespace)
{
    cJSON *metadata = metadata_of(body);
    if (!metadata) return true;
    const char *in_body = string_at(metadata, "namespace");
    if (!resource->namespaced) {
        cJSON_DeleteItemFromObjectCaseSensitive(metadata, "namespace");
        return true;
    }
    if (!empty(in_body) && !same(in_body, namespace)) {
        api_fail(request, 400, "BadRequest",
                 "the namespace of the provided object does not match the namespace sent on the "
                 "request");
        return false;
    }
    return true;
}

/* dryRun: "All" or absent; anything else is a 400. */
static bool read_dry_run(struct http_request *request, bool *dry_run)
{
    const char *value = http_request_query_param(request, "dryRun");
    *dry_run = false;
    if (empty(value)) return true;
    if (same(value, "All")) {
        *dry_run = true;
        return true;
    }
    api_fail(request, 400, "BadRequest", "Invalid dry run value: [%s]", value);
    return false;
}

/* ---- responses with objects ---- */

/* includeObject is part of the Table options: an unknown value is a 400 as on the real server. */
static bool include_object_valid(struct http_request *request)
{
    const char *value = http_request_query_param(request, "includeObject");
    if (empty(value) || same(value, "None") || same(value, "Metadata") || same(value, "Object"))
        return true;
    api_fail(request, 400, "BadRequest",
             "Invalid value: \"%s\": includeObject must be one of None, Metadata, Object", value);
    return false;
}

static void send_object(struct api_server *server, struct http_request *request,
                        const struct resource *resource, struct store_object *object, int code,
                        bool allow_render)
{
    struct api_render_request render = {
        .resource = resource,
        .accept = http_request_header(request, "Accept"),
        .include_object = http_request_query_param(request, "includeObject"),
    };
    const char *content_type = "application/json";
    const struct api_renderer *renderer =
        allow_render ? api_renderer_for(server, &render, &content_type) : NULL;
    if (renderer && renderer->object && !include_object_valid(request)) return;
    if (renderer && renderer->object) {
        char *text = renderer->object(renderer->data, &render, object);
        if (!text) {
            api_fail(request, 500, "InternalError", "Internal error occurred: rendering failed");
            return;
        }
        http_response_send(request, code, content_type, text, strlen(text));
        free(text);
        return;
    }
    const char *json = store_object_json(object);
    if (!json) {
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    http_response_send(request, code, "application/json", json, strlen(json));
}

static void send_tree_status(struct http_request *request, int code, const char *status_text,
                             const struct resource *resource, const char *name, const char *uid)
{
    cJSON *status = cJSON_CreateObject();
    cJSON *details = NULL;
    bool ok = status && cJSON_AddStringToObject(status, "kind", "Status") &&
              cJSON_AddStringToObject(status, "apiVersion", "v1") &&
              cJSON_AddObjectToObject(status, "metadata") &&
              cJSON_AddStringToObject(status, "status", status_text);
    if (ok && resource) {
        ok = (details = cJSON_AddObjectToObject(status, "details")) != NULL &&
             cJSON_AddStringToObject(details, "name", name) &&
             cJSON_AddStringToObject(details, "group", resource->group) &&
             cJSON_AddStringToObject(details, "kind", resource->plural) &&
             (!uid || cJSON_AddStringToObject(details, "uid", uid));
    }
    if (ok && !resource) ok = cJSON_AddNumberToObject(status, "code", code) != NULL;
    api_send_json(request, ok ? code : 500, ok ? status : NULL);
    cJSON_Delete(status);
}

/* ---- selectors ---- */

struct matcher {
    struct selector *labels;
    struct field_selector *fields;
    const char *name;
};

static bool matcher_match(const cJSON *object, void *data)
{
    const struct matcher *matcher = data;
    if (matcher->labels && !selector_matches_object(matcher->labels, object)) return false;
    if (matcher->fields && !field_selector_matches(matcher->fields, object)) return false;
    if (matcher->name && !same(meta_string(object, "name"), matcher->name)) return false;
    return true;
}

static void matcher_free(struct matcher *matcher)
{
    selector_free(matcher->labels);
    field_selector_free(matcher->fields);
    memset(matcher, 0, sizeof *matcher);
}

/* Parses labelSelector and fieldSelector; false after answering 400. */
static bool matcher_parse(struct http_request *request, const struct resource *resource,
                          struct matcher *matcher)
{
    memset(matcher, 0, sizeof *matcher);
    struct selector_error error = { { 0 } };
    const char *labels = http_request_query_param(request, "labelSelector");
    const char *fields = http_request_query_param(request, "fieldSelector");
    if (!empty(labels)) {
        matcher->labels = selector_parse(labels, &error);
        if (!matcher->labels) {
            api_fail(request, 400, "BadRequest", "%s", error.message);
            return false;
        }
    }
    if (!empty(fields)) {
        matcher->fields = field_selector_parse(fields, resource->group, resource->kind, &error);
        if (!matcher->fields) {
            matcher_free(matcher);
            api_fail(request, 400, "BadRequest", "%s", error.message);
            return false;
        }
    }
    return true;
}

/* ---- GET ---- */

static void do_get(struct api_server *server, struct http_request *request,
                   const struct api_target *target)
{
    struct store_error error = { 0 };
    struct store_object *object =
        store_get(server->store, target->resource, target->namespace, target->name, &error);
    if (!object) {
        api_send_error(request, &error);
        return;
    }
    send_object(server, request, target->resource, object, 200, target->subresource == NULL);
    store_object_release(object);
}

/* ---- LIST ---- */

static void do_list(struct api_server *server, struct http_request *request,
                    const struct api_target *target)
{
    const struct resource *resource = target->resource;
    const char *rv = http_request_query_param(request, "resourceVersion");
    const char *match = http_request_query_param(request, "resourceVersionMatch");
    const char *continue_token = http_request_query_param(request, "continue");
    const char *limit_text = http_request_query_param(request, "limit");
    if (http_request_query_param(request, "sendInitialEvents")) {
        list_options_invalid(request, "sendInitialEvents",
                             "Forbidden: sendInitialEvents is forbidden for list");
        return;
    }
    uint64_t rv_number = 0;
    if (!empty(rv) && !parse_u64(rv, &rv_number)) {
        api_fail(request, 400, "BadRequest", "invalid resource version: %s", rv);
        return;
    }
    if (!empty(match)) {
        if (empty(rv)) {
            list_options_invalid(request, "resourceVersionMatch",
                                 "Forbidden: resourceVersionMatch is forbidden unless "
                                 "resourceVersion is provided");
            return;
        }
        if (!empty(continue_token)) {
            list_options_invalid(request, "resourceVersionMatch",
                                 "Forbidden: resourceVersionMatch is forbidden when continue is "
                                 "provided");
            return;
        }
        if (!same(match, "Exact") && !same(match, "NotOlderThan")) {
            struct store_error error = { 0 };
            char message[256];
            snprintf(message, sizeof message,
                     "Unsupported value: \"%s\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
                     match);
            api_error_add_cause(&error, "FieldValueNotSupported", "resourceVersionMatch", message);
            finish_invalid(&error, "ListOptions", "meta.k8s.io", "");
            api_send_error(request, &error);
            return;
        }
        if (same(match, "Exact") && same(rv, "0")) {
            list_options_invalid(request, "resourceVersionMatch",
                                 "Forbidden: resourceVersionMatch \"exact\" is forbidden for "
                                 "resourceVersion \"0\"");
            return;
        }
    }
    uint64_t current = store_resource_version(server->store);
    /* The sim keeps no past snapshots: an exact read of anything but now is gone. */
    if (same(match, "Exact") && rv_number != current) {
        api_fail(request, 410, "Expired", "too old resource version: %" PRIu64 " (%" PRIu64 ")",
                 rv_number, current);
        return;
    }
    if (rv_number > current) {
        /* apimachinery's NewTooLargeResourceVersionError: client-go recognises the cause
         * and relists from scratch. (The real server first waits up to 3 s.) */
        struct store_error error = { 0 };
        api_error_set(&error, 504, "Timeout",
                      "Timeout: Too large resource version: %" PRIu64 ", current: %" PRIu64,
                      rv_number, current);
        api_error_add_cause(&error, "ResourceVersionTooLarge", NULL, "Too large resource version");
        cJSON *status = store_error_status(&error);
        store_error_clear(&error);
        cJSON *details = cJSON_GetObjectItemCaseSensitive(status, "details");
        cJSON *cause = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(details, "causes"), 0);
        if (cause) cJSON_DeleteItemFromObjectCaseSensitive(cause, "field");
        if (details) cJSON_AddNumberToObject(details, "retryAfterSeconds", 1);
        api_send_json(request, status ? 504 : 500, status);
        cJSON_Delete(status);
        return;
    }
    uint64_t limit = 0;
    if (!empty(limit_text) && !parse_u64(limit_text, &limit)) {
        api_fail(request, 400, "BadRequest", "invalid limit: %s", limit_text);
        return;
    }
    struct matcher matcher;
    if (!matcher_parse(request, resource, &matcher)) return;
    struct store_list_options options = {
        .namespace = target->namespace,
        .match = (matcher.labels || matcher.fields) ? matcher_match : NULL,
        .match_data = &matcher,
        .limit = (size_t)limit,
        .continue_token = empty(continue_token) ? NULL : continue_token,
    };
    struct store_list list = { 0 };
    struct store_error error = { 0 };
    if (!store_list(server->store, resource, &options, &list, &error)) {
        matcher_free(&matcher);
        api_send_error(request, &error);
        return;
    }
    matcher_free(&matcher);
    struct api_render_request render = {
        .resource = resource,
        .accept = http_request_header(request, "Accept"),
        .include_object = http_request_query_param(request, "includeObject"),
    };
    const char *content_type = "application/json";
    const struct api_renderer *renderer = api_renderer_for(server, &render, &content_type);
    if (renderer && renderer->list && !include_object_valid(request)) {
        store_list_free(&list);
        return;
    }
    char *text = renderer && renderer->list ? renderer->list(renderer->data, &render, &list)
                                            : store_list_json(resource, &list);
    if (!renderer || !renderer->list) content_type = "application/json";
    store_list_free(&list);
    if (!text) {
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    http_response_send(request, 200, content_type, text, strlen(text));
    free(text);
}

/* ---- WATCH ---- */

static void do_watch(struct api_server *server, struct http_request *request,
                     const struct api_target *target)
{
    const char *rv = http_request_query_param(request, "resourceVersion");
    const char *match = http_request_query_param(request, "resourceVersionMatch");
    const char *initial = http_request_query_param(request, "sendInitialEvents");
    if (initial) {
        /* WatchList is off in 1.32: client-go falls back to list+watch after this. */
        list_options_invalid(request, "sendInitialEvents",
                             "Forbidden: sendInitialEvents is forbidden for watch unless the "
                             "WatchList feature gate is enabled");
        return;
    }
    if (!empty(match)) {
        list_options_invalid(request, "resourceVersionMatch",
                             "Forbidden: resourceVersionMatch is forbidden for watch unless "
                             "sendInitialEvents is provided");
        return;
    }
    uint64_t ignored;
    if (!empty(rv) && !parse_u64(rv, &ignored)) {
        api_fail(request, 400, "BadRequest", "invalid resource version: %s", rv);
        return;
    }
    const char *timeout_text = http_request_query_param(request, "timeoutSeconds");
    uint64_t timeout_seconds = 0;
    if (!empty(timeout_text) && !parse_u64(timeout_text, &timeout_seconds)) {
        api_fail(request, 400, "BadRequest", "invalid timeoutSeconds: %s", timeout_text);
        return;
    }
    uint64_t timeout_ms;
    if (timeout_seconds > 0) {
        timeout_ms = timeout_seconds * 1000;
    } else {
        /* The real server's default: min-request-timeout (1800 s) x (1 + rand). */
        server->random ^= server->random << 13;
        server->random ^= server->random >> 7;
        server->random ^= server->random << 17;
        timeout_ms = (1800 + server->random % 1800) * 1000;
    }
    struct api_render_request render = {
        .resource = target->resource,
        .accept = http_request_header(request, "Accept"),
        .include_object = http_request_query_param(request, "includeObject"),
    };
    const char *content_type;
    const struct api_renderer *renderer = api_renderer_for(server, &render, &content_type);
    if (renderer && renderer->watch_object && !include_object_valid(request)) return;
    struct matcher matcher;
    if (!matcher_parse(request, target->resource, &matcher)) return;
    struct api_watch_params params = {
        .resource_version = rv,
        .bookmarks = parse_bool(http_request_query_param(request, "allowWatchBookmarks")),
        .timeout_ms = timeout_ms,
        .labels = matcher.labels,
        .fields = matcher.fields,
        .name = target->name,
    };
    api_watch_serve(server, request, target->resource, target->namespace, &params);
}

/* ---- CREATE ---- */

static const struct resource *namespace_resource(struct api_server *server)
{
    return resources_find(store_resources(server->store), "", "v1", "namespaces");
}

/* A dry-run create: the checks a create would do, and the would-be object. */
static void dry_create(struct api_server *server, struct http_request *request,
                       const struct resource *resource, const char *namespace, cJSON *body)
{
    struct store_error error = { 0 };
    if (resource->namespaced) {
        struct store_object *ns =
            store_get(server->store, namespace_resource(server), NULL, namespace, &error);
        if (!ns) {
            api_send_error(request, &error);
            cJSON_Delete(body);
            return;
        }
        store_object_release(ns);
    }
    cJSON *metadata = ensure_object(body, "metadata");
    const char *name = string_at(metadata, "name");
    char generated[300];
    if (empty(name)) {
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        snprintf(generated, 254, "%.58s", string_at(metadata, "generateName"));
        size_t length = strlen(generated);
        for (int i = 0; i < 5; i++) {
            server->random ^= server->random << 13;
            server->random ^= server->random >> 7;
            server->random ^= server->random << 17;
            generated[length++] = alphabet[server->random % (sizeof alphabet - 1)];
        }
        generated[length] = '\0';
        set_string(metadata, "name", generated);
        name = generated;
    }
    struct store_object *existing = store_get(server->store, resource, namespace, name, &error);
    store_error_clear(&error);
    if (existing) {
        store_object_release(existing);
        char *qualified = qualified_plural(resource);
        api_error_set(&error, 409, "AlreadyExists", "%s \"%s\" already exists",
                      qualified ? qualified : "", name);
        free(qualified);
        error.name = strdup(name);
        error.group = resource->group[0] ? strdup(resource->group) : NULL;
        error.kind = strdup(resource->plural);
        api_send_error(request, &error);
        cJSON_Delete(body);
        return;
    }
    if (!cJSON_GetObjectItemCaseSensitive(body, "kind")) set_string(body, "kind", resource->kind);
    if (!cJSON_GetObjectItemCaseSensitive(body, "apiVersion"))
        set_string(body, "apiVersion", resource->group_version);
    if (resource->namespaced) set_string(metadata, "namespace", namespace);
    char now[CLOCK_RFC3339_SIZE];
    clock_format_rfc3339(clock_wall_ms(clock_system()), CLOCK_RFC3339_SECONDS, now, sizeof now);
    set_string(metadata, "creationTimestamp", now);
    api_send_json(request, 201, body);
    cJSON_Delete(body);
}

static void do_create(struct api_server *server, struct http_request *request,
                      const struct api_target *target)
{
    const struct resource *resource = target->resource;
    bool dry_run;
    if (!read_dry_run(request, &dry_run) || !check_content_type(request, false)) return;
    cJSON *body = parse_body(request);
    if (!body) return;
    if (!check_kind(request, body, resource->kind, resource->group_version, resource->custom) ||
        !fix_namespace(request, resource, body, target->namespace) ||
        !check_metadata(request, resource, body, true, NULL)) {
        cJSON_Delete(body);
        return;
    }
    if (dry_run) {
        dry_create(server, request, resource, target->namespace, body);
        return;
    }
    struct store_reply reply = { 0 };
    if (!store_create(server->store, resource, target->namespace, body, &reply)) {
        api_send_error(request, &reply.error);
        store_reply_clear(&reply);
        return;
    }
    send_object(server, request, resource, reply.object, 201, false);
    store_reply_clear(&reply);
}

/* POST pods/<name>/binding: the scheduler's write. */
static void do_binding(struct api_server *server, struct http_request *request,
                       const struct api_target *target)
{
    const struct resource *resource = target->resource;
    bool dry_run;
    if (!read_dry_run(request, &dry_run) || !check_content_type(request, false)) return;
    cJSON *body = parse_body(request);
    if (!body) return;
    if (!check_kind(request, body, "Binding", "v1", false)) {
        cJSON_Delete(body);
        return;
    }
    const char *node = string_at(cJSON_GetObjectItemCaseSensitive(body, "target"), "name");
    if (empty(node)) {
        struct store_error error = { 0 };
        api_error_add_cause(&error, "FieldValueRequired", "target.name", "Required value");
        finish_invalid(&error, "Binding", "", target->name);
        api_send_error(request, &error);
        cJSON_Delete(body);
        return;
    }
    struct store_error error = { 0 };
    struct store_object *pod =
        store_get(server->store, resource, target->namespace, target->name, &error);
    if (!pod) {
        api_send_error(request, &error);
        cJSON_Delete(body);
        return;
    }
    const char *assigned = string_at(cJSON_GetObjectItemCaseSensitive(store_object_tree(pod), "spec"),
                                     "nodeName");
    if (!empty(assigned)) {
        char why[600];
        snprintf(why, sizeof why, "pod %s is already assigned to node \"%s\"", target->name, assigned);
        send_conflict(request, "pods/binding", resource, target->name, why);
        store_object_release(pod);
        cJSON_Delete(body);
        return;
    }
    cJSON *updated = cJSON_Duplicate(store_object_tree(pod), true);
    store_object_release(pod);
    cJSON *spec = updated ? ensure_object(updated, "spec") : NULL;
    if (!spec || !set_string(spec, "nodeName", node)) {
        cJSON_Delete(updated);
        cJSON_Delete(body);
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    cJSON_Delete(body);
    if (dry_run) {
        cJSON_Delete(updated);
        send_tree_status(request, 201, "Success", NULL, NULL, NULL);
        return;
    }
    struct store_reply reply = { 0 };
    if (!store_update(server->store, resource, target->namespace, target->name, updated, &reply)) {
        api_send_error(request, &reply.error);
        store_reply_clear(&reply);
        return;
    }
    store_reply_clear(&reply);
    send_tree_status(request, 201, "Success", NULL, NULL, NULL);
}

/* ---- scale ---- */

/* Reads a simple JSONPath (".spec.replicas") from a tree. */
static const cJSON *path_get(const cJSON *tree, const char *path)
{
    if (!path || path[0] != '.') return NULL;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path + 1);
    const cJSON *at = tree;
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part && at; part = strtok_r(NULL, ".", &save))
        at = cJSON_IsObject(at) ? cJSON_GetObjectItemCaseSensitive(at, part) : NULL;
    return at;
}

/* Writes a number at a simple JSONPath, creating objects on the way. */
static bool path_set_number(cJSON *tree, const char *path, double value)
{
    if (!path || path[0] != '.') return false;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path + 1);
    cJSON *at = tree;
    char *save = NULL;
    char *part = strtok_r(copy, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            cJSON *number = cJSON_CreateNumber(value);
            if (!number) return false;
            if (cJSON_GetObjectItemCaseSensitive(at, part))
                return cJSON_ReplaceItemInObjectCaseSensitive(at, part, number);
            if (!cJSON_AddItemToObject(at, part, number)) {
                cJSON_Delete(number);
                return false;
            }
            return true;
        }
        at = ensure_object(at, part);
        if (!at) return false;
        part = next;
    }
    return false;
}

static const char *spec_replicas_path(const struct resource *resource)
{
    return resource->scale_spec_replicas_path ? resource->scale_spec_replicas_path : ".spec.replicas";
}

/* autoscaling/v1 Scale of an object (kube-api.md §8.2). */
static cJSON *scale_of(const struct resource *resource, const cJSON *object)
{
    cJSON *scale = cJSON_CreateObject();
    cJSON *metadata = NULL, *spec = NULL, *status = NULL;
    bool ok = scale && cJSON_AddStringToObject(scale, "kind", "Scale") &&
              cJSON_AddStringToObject(scale, "apiVersion", "autoscaling/v1") &&
              (metadata = cJSON_AddObjectToObject(scale, "metadata")) != NULL;
    static const char *const keys[] = { "name", "namespace", "uid", "resourceVersion",
                                        "creationTimestamp" };
    for (size_t i = 0; ok && i < sizeof keys / sizeof keys[0]; i++) {
        const char *value = meta_string(object, keys[i]);
        if (value) ok = cJSON_AddStringToObject(metadata, keys[i], value) != NULL;
    }
    const cJSON *spec_replicas = path_get(object, spec_replicas_path(resource));
    const cJSON *status_replicas = path_get(object, resource->scale_status_replicas_path
                                                        ? resource->scale_status_replicas_path
                                                        : ".status.replicas");
    const cJSON *selector = path_get(object, resource->scale_label_selector_path);
    ok = ok && (spec = cJSON_AddObjectToObject(scale, "spec")) != NULL &&
         cJSON_AddNumberToObject(spec, "replicas",
                                 cJSON_IsNumber(spec_replicas) ? spec_replicas->valuedouble : 0) &&
         (status = cJSON_AddObjectToObject(scale, "status")) != NULL &&
         cJSON_AddNumberToObject(status, "replicas",
                                 cJSON_IsNumber(status_replicas) ? status_replicas->valuedouble : 0);
    if (ok && cJSON_IsString(selector))
        ok = cJSON_AddStringToObject(status, "selector", selector->valuestring) != NULL;
    if (!ok) {
        cJSON_Delete(scale);
        return NULL;
    }
    return scale;
}

static void do_scale_get(struct api_server *server, struct http_request *request,
                         const struct api_target *target)
{
    struct store_error error = { 0 };
    struct store_object *object =
        store_get(server->store, target->resource, target->namespace, target->name, &error);
    if (!object) {
        api_send_error(request, &error);
        return;
    }
    cJSON *scale = scale_of(target->resource, store_object_tree(object));
    store_object_release(object);
    api_send_json(request, 200, scale);
    cJSON_Delete(scale);
}

/* Writes a Scale (taken) into its parent `current` (borrowed) and answers. */
static void scale_write(struct api_server *server, struct http_request *request,
                        const struct api_target *target, struct store_object *current, cJSON *scale,
                        bool dry_run)
{
    const struct resource *resource = target->resource;
    const cJSON *replicas =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(scale, "spec"), "replicas");
    if (!cJSON_IsNumber(replicas) || replicas->valuedouble < 0 ||
        replicas->valuedouble != (double)(int64_t)replicas->valuedouble) {
        struct store_error error = { 0 };
        char message[128];
        if (cJSON_IsNumber(replicas))
            snprintf(message, sizeof message,
                     "Invalid value: %g: must be greater than or equal to 0", replicas->valuedouble);
        else
            snprintf(message, sizeof message, "Required value");
        api_error_add_cause(&error, cJSON_IsNumber(replicas) ? "FieldValueInvalid"
                                                             : "FieldValueRequired",
                            "spec.replicas", message);
        finish_invalid(&error, "Scale", "autoscaling", target->name);
        api_send_error(request, &error);
        cJSON_Delete(scale);
        return;
    }
    const char *rv = meta_string(scale, "resourceVersion");
    const char *current_rv = meta_string(store_object_tree(current), "resourceVersion");
    if (!empty(rv) && !same(rv, current_rv)) {
        char *qualified = qualified_plural(resource);
        send_conflict(request, qualified ? qualified : "", resource, target->name, STALE);
        free(qualified);
        cJSON_Delete(scale);
        return;
    }
    cJSON *updated = cJSON_Duplicate(store_object_tree(current), true);
    if (!updated || !path_set_number(updated, spec_replicas_path(resource), replicas->valuedouble)) {
        cJSON_Delete(updated);
        cJSON_Delete(scale);
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    cJSON_Delete(scale);
    if (dry_run) {
        cJSON *view = scale_of(resource, updated);
        cJSON_Delete(updated);
        api_send_json(request, 200, view);
        cJSON_Delete(view);
        return;
    }
    struct store_reply reply = { 0 };
    if (!store_update(server->store, resource, target->namespace, target->name, updated, &reply)) {
        api_send_error(request, &reply.error);
        store_reply_clear(&reply);
        return;
    }
    cJSON *view = scale_of(resource, store_object_tree(reply.object));
    store_reply_clear(&reply);
    api_send_json(request, 200, view);
    cJSON_Delete(view);
}

/* ---- UPDATE ---- */

static void do_update(struct api_server *server, struct http_request *request,
                      const struct api_target *target)
{
    const struct resource *resource = target->resource;
    const char *sub = target->subresource;
    bool dry_run;
    if (!read_dry_run(request, &dry_run) || !check_content_type(request, false)) return;
    cJSON *body = parse_body(request);
    if (!body) return;
    if (same(sub, "scale")) {
        if (!check_kind(request, body, "Scale", "autoscaling/v1", false)) {
            cJSON_Delete(body);
            return;
        }
        struct store_error error = { 0 };
        struct store_object *current =
            store_get(server->store, resource, target->namespace, target->name, &error);
        if (!current) {
            cJSON_Delete(body);
            api_send_error(request, &error);
            return;
        }
        scale_write(server, request, target, current, body, dry_run);
        store_object_release(current);
        return;
    }
    if (!check_kind(request, body, resource->kind, resource->group_version, resource->custom) ||
        !fix_namespace(request, resource, body, target->namespace) ||
        !check_metadata(request, resource, body, false, target->subresource)) {
        cJSON_Delete(body);
        return;
    }
    const char *name = meta_string(body, "name");
    if (!same(name, target->name)) {
        api_fail(request, 400, "BadRequest",
                 "the name of the object (%s) does not match the name on the URL (%s)",
                 name ? name : "", target->name);
        cJSON_Delete(body);
        return;
    }
    if (dry_run) {
        struct store_error error = { 0 };
        struct store_object *current =
            store_get(server->store, resource, target->namespace, target->name, &error);
        if (!current) {
            cJSON_Delete(body);
            api_send_error(request, &error);
            return;
        }
        const char *rv = meta_string(body, "resourceVersion");
        if (!empty(rv) && !same(rv, meta_string(store_object_tree(current), "resourceVersion"))) {
            char *qualified = qualified_plural(resource);
            send_conflict(request, qualified ? qualified : "", resource, target->name, STALE);
            free(qualified);
        } else {
            api_send_json(request, 200, body);
        }
        store_object_release(current);
        cJSON_Delete(body);
        return;
    }
    struct store_reply reply = { 0 };
    bool ok = sub ? store_update_status(server->store, resource, target->namespace, target->name,
                                        body, &reply)
                  : store_update(server->store, resource, target->namespace, target->name, body,
                                 &reply);
    if (!ok) {
        api_send_error(request, &reply.error);
        store_reply_clear(&reply);
        return;
    }
    send_object(server, request, resource, reply.object,
                reply.outcome == STORE_CREATED ? 201 : 200, false);
    store_reply_clear(&reply);
}

/* ---- PATCH ---- */

static void send_patch_error(struct http_request *request, const struct patch_error *error)
{
    switch (error->kind) {
    case PATCH_BAD_REQUEST:
        api_fail(request, 400, "BadRequest", "%s", error->message);
        break;
    case PATCH_UNPROCESSABLE: {
        struct store_error status = { 0 };
        api_error_set(&status, 422, "Invalid", "%s", error->message);
        api_send_error(request, &status);
        break;
    }
    case PATCH_UNSUPPORTED_MEDIA:
        api_fail(request, 415, "UnsupportedMediaType", "%s", error->message);
        break;
    default:
        api_fail(request, 500, "InternalError", "Internal error occurred: %s", error->message);
        break;
    }
}

static void do_patch(struct api_server *server, struct http_request *request,
                     const struct api_target *target)
{
    const struct resource *resource = target->resource;
    const char *sub = target->subresource;
    bool dry_run;
    if (!read_dry_run(request, &dry_run) || !check_content_type(request, true)) return;
    const char *type = http_request_header(request, "Content-Type");
    bool strategic = media_is(type, "application/strategic-merge-patch+json");
    bool scale = same(sub, "scale");
    bool builtin = patch_supports_strategic(resource->group, resource->kind);
    const char *accepted = builtin ? "application/json-patch+json, application/merge-patch+json, "
                                     "application/strategic-merge-patch+json"
                                   : "application/json-patch+json, application/merge-patch+json";
    if (media_is(type, "application/apply-patch+yaml")) {
        /* kubectl apply --server-side prints "Server-side apply not available on the server". */
        api_fail(request, 415, "UnsupportedMediaType", "%s%s (kubesim does not implement "
                 "server-side apply)", UNKNOWN_FORMAT, accepted);
        return;
    }
    if (!strategic && !media_is(type, "application/merge-patch+json") &&
        !media_is(type, "application/json-patch+json")) {
        api_fail(request, 415, "UnsupportedMediaType", "%s%s", UNKNOWN_FORMAT, accepted);
        return;
    }
    if (strategic && !builtin && !scale) {
        /* The real text for custom resources (which do support apply). */
        api_fail(request, 415, "UnsupportedMediaType",
                 "%sapplication/json-patch+json, application/merge-patch+json, "
                 "application/apply-patch+yaml", UNKNOWN_FORMAT);
        return;
    }
    struct store_error error = { 0 };
    struct store_object *current =
        store_get(server->store, resource, target->namespace, target->name, &error);
    if (!current) {
        api_send_error(request, &error);
        return;
    }
    size_t length = 0;
    const char *body = http_request_body(request, &length);
    struct patch_error patch_error = { 0 };
    if (scale) {
        cJSON *view = scale_of(resource, store_object_tree(current));
        /* A Scale has no keyed lists: a strategic patch of it is a merge patch. */
        cJSON *patched = view ? patch_apply(view, strategic ? "application/merge-patch+json" : type,
                                            body ? body : "", length, "autoscaling", "Scale",
                                            &patch_error)
                              : NULL;
        cJSON_Delete(view);
        if (!patched) {
            send_patch_error(request, &patch_error);
        } else if (!cJSON_IsObject(patched)) {
            cJSON_Delete(patched);
            api_fail(request, 400, "BadRequest", "the patched Scale is not a JSON object");
        } else {
            scale_write(server, request, target, current, patched, dry_run);
        }
        store_object_release(current);
        return;
    }
    cJSON *patched = patch_apply(store_object_tree(current), type, body ? body : "", length,
                                 resource->group, resource->kind, &patch_error);
    if (!patched) {
        store_object_release(current);
        send_patch_error(request, &patch_error);
        return;
    }
    if (!cJSON_IsObject(patched)) {
        store_object_release(current);
        cJSON_Delete(patched);
        api_fail(request, 400, "BadRequest", "the patched object is not a JSON object");
        return;
    }
    if (!check_kind(request, patched, resource->kind, resource->group_version, false) ||
        !fix_namespace(request, resource, patched, target->namespace) ||
        !check_metadata(request, resource, patched, false, target->subresource)) {
        store_object_release(current);
        cJSON_Delete(patched);
        return;
    }
    const char *name = meta_string(patched, "name");
    if (!same(name, target->name)) {
        api_fail(request, 400, "BadRequest",
                 "the name of the object (%s) does not match the name on the URL (%s)",
                 name ? name : "", target->name);
        store_object_release(current);
        cJSON_Delete(patched);
        return;
    }
    if (dry_run) {
        const char *rv = meta_string(patched, "resourceVersion");
        if (!empty(rv) && !same(rv, meta_string(store_object_tree(current), "resourceVersion"))) {
            char *qualified = qualified_plural(resource);
            send_conflict(request, qualified ? qualified : "", resource, target->name, STALE);
            free(qualified);
        } else {
            api_send_json(request, 200, patched);
        }
        store_object_release(current);
        cJSON_Delete(patched);
        return;
    }
    store_object_release(current);
    struct store_reply reply = { 0 };
    bool ok = sub ? store_update_status(server->store, resource, target->namespace, target->name,
                                        patched, &reply)
                  : store_update(server->store, resource, target->namespace, target->name,
                                 patched, &reply);
    if (!ok) {
        api_send_error(request, &reply.error);
        store_reply_clear(&reply);
        return;
    }
    send_object(server, request, resource, reply.object, 200, false);
    store_reply_clear(&reply);
}

/* ---- DELETE ---- */

static bool parse_delete_options(struct http_request *request, struct store_delete_options *options,
                                 cJSON **body_out);

/* DeleteOptions from the body and the query; false after answering (nothing to free then). */
static bool read_delete_options(struct http_request *request, struct store_delete_options *options,
                                cJSON **body_out)
{
    if (parse_delete_options(request, options, body_out)) return true;
    cJSON_Delete(*body_out);
    *body_out = NULL;
    return false;
}

static bool parse_delete_options(struct http_request *request, struct store_delete_options *options,
                                 cJSON **body_out)
{
    memset(options, 0, sizeof *options);
    *body_out = NULL;
    size_t length = 0;
    const char *body = http_request_body(request, &length);
    const char *policy = http_request_query_param(request, "propagationPolicy");
    const char *orphan = http_request_query_param(request, "orphanDependents");
    const char *grace = http_request_query_param(request, "gracePeriodSeconds");
    if (!empty(grace)) {
        char *end = NULL;
        long long seconds = strtoll(grace, &end, 10);
        if (!end || *end != '\0' || seconds < 0) {
            api_fail(request, 400, "BadRequest", "invalid gracePeriodSeconds");
            return false;
        }
        options->has_grace_period = true;
        options->grace_period_seconds = seconds;
    }
    if (body && length > 0) {
        if (!check_content_type(request, false)) return false;
        cJSON *tree = cJSON_ParseWithLength(body, length);
        if (!cJSON_IsObject(tree)) {
            cJSON_Delete(tree);
            api_fail(request, 400, "BadRequest",
                     "couldn't get version/kind; json parse error: invalid DeleteOptions");
            return false;
        }
        *body_out = tree;
        const char *in_body = string_at(tree, "propagationPolicy");
        if (in_body) policy = in_body;
        const cJSON *orphan_item = cJSON_GetObjectItemCaseSensitive(tree, "orphanDependents");
        if (cJSON_IsBool(orphan_item)) orphan = cJSON_IsTrue(orphan_item) ? "true" : "false";
        const cJSON *preconditions = cJSON_GetObjectItemCaseSensitive(tree, "preconditions");
        options->precondition_uid = string_at(preconditions, "uid");
        options->precondition_resource_version = string_at(preconditions, "resourceVersion");
        const cJSON *grace_item = cJSON_GetObjectItemCaseSensitive(tree, "gracePeriodSeconds");
        if (cJSON_IsNumber(grace_item)) {
            if (grace_item->valuedouble < 0) {
                api_fail(request, 400, "BadRequest", "invalid gracePeriodSeconds");
                return false;
            }
            options->has_grace_period = true;
            options->grace_period_seconds = (int64_t)grace_item->valuedouble;
        }
        const cJSON *dry = cJSON_GetObjectItemCaseSensitive(tree, "dryRun");
        if (cJSON_IsArray(dry) && cJSON_GetArraySize(dry) > 0) {
            const cJSON *first = cJSON_GetArrayItem(dry, 0);
            if (!cJSON_IsString(first) || !same(first->valuestring, "All")) {
                api_fail(request, 400, "BadRequest", "Invalid dry run value");
                return false;
            }
        }
    }
    if (!empty(policy) && !empty(orphan)) {
        struct store_error error = { 0 };
        api_error_add_cause(&error, "FieldValueInvalid", "propagationPolicy",
                            "Invalid value: \"propagationPolicy\": orphanDependents and "
                            "deletionPropagation cannot be both set");
        finish_invalid(&error, "DeleteOptions", "meta.k8s.io", "");
        api_send_error(request, &error);
        return false;
    }
    if (empty(policy) || same(policy, "Background")) {
        options->propagation = STORE_PROPAGATION_BACKGROUND;
    } else if (same(policy, "Foreground")) {
        options->propagation = STORE_PROPAGATION_FOREGROUND;
    } else if (same(policy, "Orphan")) {
        options->propagation = STORE_PROPAGATION_ORPHAN;
    } else {
        struct store_error error = { 0 };
        char message[256];
        snprintf(message, sizeof message,
                 "Unsupported value: \"%s\": supported values: \"Foreground\", \"Background\", "
                 "\"Orphan\", \"nil\"", policy);
        api_error_add_cause(&error, "FieldValueNotSupported", "propagationPolicy", message);
        finish_invalid(&error, "DeleteOptions", "meta.k8s.io", "");
        api_send_error(request, &error);
        return false;
    }
    if (parse_bool(orphan)) options->propagation = STORE_PROPAGATION_ORPHAN;
    return true;
}

static bool dry_run_in_body(const cJSON *body)
{
    const cJSON *dry = cJSON_GetObjectItemCaseSensitive(body, "dryRun");
    return cJSON_IsArray(dry) && cJSON_GetArraySize(dry) > 0;
}

/* Kinds whose registry sets ReturnDeletedObject: the answer is the object. */
static bool returns_deleted_object(const struct resource *resource)
{
    return resource->group[0] == '\0' && same(resource->plural, "pods");
}

static void do_delete(struct api_server *server, struct http_request *request,
                      const struct api_target *target)
{
    const struct resource *resource = target->resource;
    if (target->subresource) {
        api_fail(request, 405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
        return;
    }
    bool dry_run;
    if (!read_dry_run(request, &dry_run)) return;
    struct store_delete_options options;
    cJSON *body = NULL;
    if (!read_delete_options(request, &options, &body)) return;
    if (dry_run || dry_run_in_body(body)) {
        struct store_error error = { 0 };
        struct store_object *current =
            store_get(server->store, resource, target->namespace, target->name, &error);
        if (!current) {
            api_send_error(request, &error);
        } else if (returns_deleted_object(resource)) {
            send_object(server, request, resource, current, 200, false);
        } else {
            send_tree_status(request, 200, "Success", resource, target->name,
                             meta_string(store_object_tree(current), "uid"));
        }
        store_object_release(current);
        cJSON_Delete(body);
        return;
    }
    struct store_reply reply = { 0 };
    bool ok = store_delete(server->store, resource, target->namespace, target->name, &options,
                           &reply);
    cJSON_Delete(body);  /* the options pointed into it */
    if (!ok) {
        api_send_error(request, &reply.error);
        store_reply_clear(&reply);
        return;
    }
    if (reply.outcome == STORE_REMOVED && !returns_deleted_object(resource))
        send_tree_status(request, 200, "Success", resource, target->name,
                         meta_string(store_object_tree(reply.object), "uid"));
    else
        send_object(server, request, resource, reply.object, 200, false);
    store_reply_clear(&reply);
}

static void do_delete_collection(struct api_server *server, struct http_request *request,
                                 const struct api_target *target)
{
    const struct resource *resource = target->resource;
    if (resource->namespaced && !target->namespace) {
        api_fail(request, 405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
        return;
    }
    bool dry_run;
    if (!read_dry_run(request, &dry_run)) return;
    struct store_delete_options options;
    cJSON *body = NULL;
    if (!read_delete_options(request, &options, &body)) return;
    dry_run = dry_run || dry_run_in_body(body);
    struct matcher matcher;
    if (!matcher_parse(request, resource, &matcher)) {
        cJSON_Delete(body);
        return;
    }
    struct store_list_options list_options = {
        .namespace = target->namespace,
        .match = (matcher.labels || matcher.fields) ? matcher_match : NULL,
        .match_data = &matcher,
    };
    struct store_list list = { 0 };
    struct store_error error = { 0 };
    if (!store_list(server->store, resource, &list_options, &list, &error)) {
        matcher_free(&matcher);
        cJSON_Delete(body);
        api_send_error(request, &error);
        return;
    }
    matcher_free(&matcher);
    struct store_list deleted = { .remaining = -1 };
    deleted.items = calloc(list.count ? list.count : 1, sizeof *deleted.items);
    if (!deleted.items) {
        store_list_free(&list);
        cJSON_Delete(body);
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    for (size_t i = 0; i < list.count; i++) {
        const cJSON *tree = store_object_tree(list.items[i]);
        if (dry_run) {
            deleted.items[deleted.count++] = store_object_retain(list.items[i]);
            continue;
        }
        struct store_reply reply = { 0 };
        if (store_delete(server->store, resource, meta_string(tree, "namespace"),
                         meta_string(tree, "name"), &options, &reply)) {
            deleted.items[deleted.count++] = reply.object;
            reply.object = NULL;
        }
        store_reply_clear(&reply);
    }
    cJSON_Delete(body);
    store_list_free(&list);
    deleted.resource_version = store_resource_version(server->store);
    char *text = store_list_json(resource, &deleted);
    store_list_free(&deleted);
    api_send_text(request, 200, text);
}

/* ---- dispatch ---- */

static bool verb_allowed(const struct resource *resource, enum api_verb verb)
{
    unsigned bit = 0;
    switch (verb) {
    case API_VERB_GET: bit = RESOURCE_VERB_GET; break;
    case API_VERB_LIST: bit = RESOURCE_VERB_LIST; break;
    case API_VERB_WATCH: bit = RESOURCE_VERB_WATCH; break;
    case API_VERB_CREATE: bit = RESOURCE_VERB_CREATE; break;
    case API_VERB_UPDATE: bit = RESOURCE_VERB_UPDATE; break;
    case API_VERB_PATCH: bit = RESOURCE_VERB_PATCH; break;
    case API_VERB_DELETE: bit = RESOURCE_VERB_DELETE; break;
    case API_VERB_DELETE_COLLECTION: bit = RESOURCE_VERB_DELETE_COLLECTION; break;
    case API_VERB_NONE: return false;
    }
    return (resource->verbs & bit) != 0;
}

void api_rest_serve(struct api_server *server, struct http_request *request,
                    const struct api_target *target)
{
    const struct resource *resource = target->resource;
    const char *sub = target->subresource;
    /* Subresources the kind does not have are paths nothing serves. */
    if (sub && !((same(sub, "status") && resource->has_status) ||
                 (same(sub, "scale") && resource->has_scale) ||
                 (same(sub, "binding") && resource->has_binding))) {
        api_not_found(request);
        return;
    }
    bool binding = same(sub, "binding");
    if (!verb_allowed(resource, target->verb) || (binding && target->verb != API_VERB_CREATE) ||
        (!binding && sub && target->verb == API_VERB_CREATE) ||
        (sub && target->verb == API_VERB_WATCH) ||
        (target->verb == API_VERB_CREATE && !target->name && resource->namespaced &&
         !target->namespace)) {
        api_fail(request, 405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
        return;
    }
    switch (target->verb) {
    case API_VERB_GET:
        if (same(sub, "scale")) do_scale_get(server, request, target);
        else do_get(server, request, target);
        break;
    case API_VERB_LIST: do_list(server, request, target); break;
    case API_VERB_WATCH: do_watch(server, request, target); break;
    case API_VERB_CREATE:
        if (binding) do_binding(server, request, target);
        else do_create(server, request, target);
        break;
    case API_VERB_UPDATE: do_update(server, request, target); break;
    case API_VERB_PATCH: do_patch(server, request, target); break;
    case API_VERB_DELETE: do_delete(server, request, target); break;
    case API_VERB_DELETE_COLLECTION: do_delete_collection(server, request, target); break;
    case API_VERB_NONE: break;
    }
}

/* ---- discovery and openapi ---- */

static void send_tree(struct http_request *request, cJSON *tree, const char *content_type)
{
    if (!tree) {
        api_not_found(request);
        return;
    }
    char *text = cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    if (!text) {
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    http_response_send(request, 200, content_type, text, strlen(text));
    free(text);
}

bool api_meta_serve(struct api_server *server, struct http_request *request)
{
    const char *path = http_request_path(request);
    const struct resource_table *table = store_resources(server->store);
    bool api = strncmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
    bool apis = strncmp(path, "/apis", 5) == 0 && (path[5] == '\0' || path[5] == '/');
    bool openapi = strncmp(path, "/openapi/", 9) == 0;
    if (!api && !apis && !openapi) return false;
    const char *method = http_request_method(request);
    if (!same(method, "GET") && !same(method, "HEAD")) {
        api_fail(request, 405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
        return true;
    }
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path);
    size_t length = strlen(copy);
    while (length > 1 && copy[length - 1] == '/') copy[--length] = '\0';
    const char *accept = http_request_header(request, "Accept");
    if (strcmp(copy, "/api") == 0 || strcmp(copy, "/apis") == 0) {
        bool core = strcmp(copy, "/api") == 0;
        const char *version = discovery_aggregated_version(accept);
        if (version) {
            send_tree(request, discovery_aggregated(table, core, version),
                      discovery_aggregated_content_type(version));
            return true;
        }
        if (core) {
            char address[64];
            snprintf(address, sizeof address, "127.0.0.1:%d", http_server_port(server->http));
            send_tree(request, discovery_core_versions(address), "application/json");
        } else {
            send_tree(request, discovery_group_list(table), "application/json");
        }
        return true;
    }
    if (openapi) {
        if (strcmp(copy, "/openapi/v3") == 0) {
            send_tree(request, openapi_index(table), "application/json");
        } else if (strncmp(copy, "/openapi/v3/api/", 16) == 0 && !strchr(copy + 16, '/')) {
            send_tree(request, openapi_group_version(table, "", copy + 16), "application/json");
        } else if (strncmp(copy, "/openapi/v3/apis/", 17) == 0) {
            char *group = copy + 17;
            char *slash = strchr(group, '/');
            if (!slash || strchr(slash + 1, '/')) {
                api_not_found(request);
                return true;
            }
            *slash = '\0';
            send_tree(request, openapi_group_version(table, group, slash + 1), "application/json");
        } else {
            /* Never /openapi/v2: kubectl asks for protobuf there and fails on JSON. */
            api_not_found(request);
        }
        return true;
    }
    /* /api/<v> and /apis/<g>[/<v>] (deeper paths were taken by api_target_parse). */
    char *segments[4];
    size_t count = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, "/", &save); part && count < 4; part = strtok_r(NULL, "/", &save))
        segments[count++] = part;
    if (api && count == 2)
        send_tree(request, discovery_resource_list(table, "", segments[1]), "application/json");
    else if (apis && count == 2)
        send_tree(request, discovery_group(table, segments[1]), "application/json");
    else if (apis && count == 3)
        send_tree(request, discovery_resource_list(table, segments[1], segments[2]),
                  "application/json");
    else
        api_not_found(request);
    return true;
}
