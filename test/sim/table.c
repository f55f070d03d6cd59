#include "test/sim/table.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- media type negotiation ---- */

/* Case-insensitive comparison of `text[0..length)` with the NUL-terminated `word`. */
static bool span_is(const char *text, size_t length, const char *word)
{
    return strlen(word) == length && strncasecmp(text, word, length) == 0;
}

static void trim_span(const char **start, const char **end)
{
    while (*start < *end && isspace((unsigned char)**start)) (*start)++;
    while (*end > *start && isspace((unsigned char)(*end)[-1])) (*end)--;
}

enum media_choice { MEDIA_SKIP, MEDIA_PLAIN, MEDIA_TABLE };

/* Classifies one Accept entry ("type/subtype;k=v;..."), with its q value. */
static enum media_choice media_classify(const char *start, const char *end, double *q)
{
    *q = 1.0;
    const char *semicolon = memchr(start, ';', (size_t)(end - start));
    const char *type_end = semicolon ? semicolon : end;
    const char *type_start = start;
    trim_span(&type_start, &type_end);
    bool json = span_is(type_start, (size_t)(type_end - type_start), "application/json");
    bool any = span_is(type_start, (size_t)(type_end - type_start), "*/*") ||
               span_is(type_start, (size_t)(type_end - type_start), "application/*");
    bool has_as = false, as_table = false, group_meta = false, version_v1 = false;
    const char *cursor = semicolon;
    for (int guard = 0; cursor && cursor < end && guard < 64; guard++) {
        const char *param = cursor + 1;
        const char *next = memchr(param, ';', (size_t)(end - param));
        const char *param_end = next ? next : end;
        const char *equals = memchr(param, '=', (size_t)(param_end - param));
        if (equals) {
            const char *key = param, *key_end = equals;
            const char *value = equals + 1, *value_end = param_end;
            trim_span(&key, &key_end);
            trim_span(&value, &value_end);
            size_t key_length = (size_t)(key_end - key), value_length = (size_t)(value_end - value);
            if (span_is(key, key_length, "q")) {
                char number[32];
                size_t n = value_length < sizeof number - 1 ? value_length : sizeof number - 1;
                memcpy(number, value, n);
                number[n] = '\0';
                *q = strtod(number, NULL);
            } else if (span_is(key, key_length, "as")) {
                has_as = true;
                as_table = span_is(value, value_length, "Table");
            } else if (span_is(key, key_length, "g")) {
                group_meta = span_is(value, value_length, "meta.k8s.io");
            } else if (span_is(key, key_length, "v")) {
                version_v1 = span_is(value, value_length, "v1");
            }
        }
        cursor = next;
    }
    if (*q <= 0) return MEDIA_SKIP;
    if (has_as) {
        /* Only the v1 Table is served (meta.k8s.io/v1beta1 Tables went in 1.22). */
        return (json || any) && as_table && group_meta && version_v1 ? MEDIA_TABLE : MEDIA_SKIP;
    }
    (void)json;
    return MEDIA_PLAIN;
}

bool table_wanted(const char *accept)
{
    if (!accept || !accept[0]) return false;
    enum media_choice best = MEDIA_SKIP;
    double best_q = 0;
    const char *cursor = accept;
    for (int guard = 0; *cursor && guard < 256; guard++) {
        const char *comma = strchr(cursor, ',');
        const char *end = comma ? comma : cursor + strlen(cursor);
        double q = 0;
        enum media_choice choice = media_classify(cursor, end, &q);
        /* Highest q wins; among equals, the first listed (as goautoneg sorts stably). */
        if (choice != MEDIA_SKIP && q > best_q) {
            best = choice;
            best_q = q;
        }
        if (!comma) break;
        cursor = comma + 1;
    }
    return best == MEDIA_TABLE;
}

bool table_parse_include(const char *value, enum table_include *out)
{
    if (!value || !value[0] || strcmp(value, "Metadata") == 0) *out = TABLE_INCLUDE_METADATA;
    else if (strcmp(value, "Object") == 0) *out = TABLE_INCLUDE_OBJECT;
    else if (strcmp(value, "None") == 0) *out = TABLE_INCLUDE_NONE;
    else return false;
    return true;
}

/* ---- time ---- */

void table_format_duration(int64_t elapsed_ms, char *out, size_t size)
{
    /* Go truncates toward zero (int(d.Seconds())); so does C's division. */
    int64_t seconds = elapsed_ms / 1000;
    if (seconds < -1) {
        snprintf(out, size, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(out, size, "0s");
        return;
    }
    if (seconds < 120) {
        snprintf(out, size, "%" PRId64 "s", seconds);
        return;
    }
    int64_t minutes = seconds / 60;
    if (minutes < 10) {
        int64_t s = seconds % 60;
        if (s == 0) snprintf(out, size, "%" PRId64 "m", minutes);
        else snprintf(out, size, "%" PRId64 "m%" PRId64 "s", minutes, s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(out, size, "%" PRId64 "m", minutes);
        return;
    }
    int64_t hours = minutes / 60;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0) snprintf(out, size, "%" PRId64 "h", hours);
        else snprintf(out, size, "%" PRId64 "h%" PRId64 "m", hours, m);
        return;
    }
    if (hours < 48) {
        snprintf(out, size, "%" PRId64 "h", hours);
        return;
    }
    if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0) snprintf(out, size, "%" PRId64 "d", hours / 24);
        else snprintf(out, size, "%" PRId64 "d%" PRId64 "h", hours / 24, h);
        return;
    }
    if (hours < 24 * 365 * 2) {
        snprintf(out, size, "%" PRId64 "d", hours / 24);
        return;
    }
    if (hours < 24 * 365 * 8) {
        int64_t days = (hours / 24) % 365;
        if (days == 0) snprintf(out, size, "%" PRId64 "y", hours / 24 / 365);
        else snprintf(out, size, "%" PRId64 "y%" PRId64 "d", hours / 24 / 365, days);
        return;
    }
    snprintf(out, size, "%" PRId64 "y", hours / 24 / 365);
}

void table_format_age(const char *timestamp, int64_t now_ms, char *out, size_t size)
{
    int64_t at;
    if (!timestamp || !timestamp[0]) {
        snprintf(out, size, "<unknown>");
        return;
    }
    if (!clock_parse_rfc3339(timestamp, &at)) {
        snprintf(out, size, "<invalid>");
        return;
    }
    table_format_duration(now_ms - at, out, size);
}

/* ---- JSONPath subset ---- */

#define JSONPATH_MAX 512

static const cJSON *jsonpath_eval(const cJSON *node, const char *path);

/* Reads a quoted literal at *p (' or "); copies it into out. */
static bool read_quoted(const char **p, char *out, size_t size)
{
    char quote = **p;
    if (quote != '\'' && quote != '"') return false;
    const char *start = *p + 1;
    const char *end = strchr(start, quote);
    if (!end || (size_t)(end - start) >= size) return false;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    *p = end + 1;
    return true;
}

static bool values_equal(const cJSON *left, const char *literal, bool quoted)
{
    if (quoted) return cJSON_IsString(left) && strcmp(left->valuestring, literal) == 0;
    if (strcmp(literal, "true") == 0) return cJSON_IsTrue(left);
    if (strcmp(literal, "false") == 0) return cJSON_IsFalse(left);
    char *end = NULL;
    double number = strtod(literal, &end);
    if (end == literal || *end) return false;
    return cJSON_IsNumber(left) && left->valuedouble == number;
}

static bool number_compare(const cJSON *left, const char *op, const char *literal)
{
    char *end = NULL;
    double right = strtod(literal, &end);
    if (end == literal || *end || !cJSON_IsNumber(left)) return false;
    double value = left->valuedouble;
    if (strcmp(op, "<") == 0) return value < right;
    if (strcmp(op, "<=") == 0) return value <= right;
    if (strcmp(op, ">") == 0) return value > right;
    if (strcmp(op, ">=") == 0) return value >= right;
    return false;
}

/*
 * A filter body "@.a.b OP literal" or "@.a.b"; true when `element` passes.
 * *ok is cleared when the body is not understood.
 */
static bool filter_passes(const cJSON *element, const char *body, bool *ok)
{
    if (body[0] != '@') {
        *ok = false;
        return false;
    }
    const char *op_at = body + 1;
    while (*op_at && !strchr("=!<>", *op_at)) op_at++;
    char left_path[JSONPATH_MAX];
    const char *left_end = op_at;
    while (left_end > body + 1 && isspace((unsigned char)left_end[-1])) left_end--;
    size_t left_length = (size_t)(left_end - (body + 1));
    if (left_length >= sizeof left_path) {
        *ok = false;
        return false;
    }
    memcpy(left_path, body + 1, left_length);
    left_path[left_length] = '\0';
    const cJSON *left = jsonpath_eval(element, left_path);
    if (!*op_at) return left != NULL;  /* existence test */
    char op[3] = { 0 };
    op[0] = op_at[0];
    if (op_at[1] == '=') op[1] = '=';
    const char *p = op_at + strlen(op);
    if (strcmp(op, "=") == 0 || strcmp(op, "!") == 0) {
        *ok = false;
        return false;
    }
    while (isspace((unsigned char)*p)) p++;
    char literal[JSONPATH_MAX];
    bool quoted = *p == '\'' || *p == '"';
    if (quoted) {
        if (!read_quoted(&p, literal, sizeof literal)) {
            *ok = false;
            return false;
        }
    } else {
        size_t n = 0;
        while (p[n] && !isspace((unsigned char)p[n]) && n < sizeof literal - 1) n++;
        memcpy(literal, p, n);
        literal[n] = '\0';
        p += n;
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) {
        *ok = false;
        return false;
    }
    /* A missing left side never passes, whatever the operator (k8s jsonpath). */
    if (!left) return false;
    if (strcmp(op, "==") == 0) return values_equal(left, literal, quoted);
    if (strcmp(op, "!=") == 0) return !values_equal(left, literal, quoted);
    return !quoted && number_compare(left, op, literal);
}

/* Evaluates `rest` on every child of `node` (objects and arrays); the first hit. */
static const cJSON *each_child(const cJSON *node, const char *rest)
{
    if (!cJSON_IsArray(node) && !cJSON_IsObject(node)) return NULL;
    for (const cJSON *child = node->child; child; child = child->next) {
        const cJSON *hit = jsonpath_eval(child, rest);
        if (hit) return hit;
    }
    return NULL;
}

static const cJSON *bracket_step(const cJSON *node, const char *p)
{
    /* p points just after '['. */
    if (p[0] == '*' && p[1] == ']') return each_child(node, p + 2);
    if (p[0] == '\'' || p[0] == '"') {
        char key[JSONPATH_MAX];
        if (!read_quoted(&p, key, sizeof key) || *p != ']') return NULL;
        return cJSON_IsObject(node)
                   ? jsonpath_eval(cJSON_GetObjectItemCaseSensitive(node, key), p + 1)
                   : NULL;
    }
    if (p[0] == '?' && p[1] == '(') {
        const char *close = strstr(p, ")]");
        if (!close || (size_t)(close - (p + 2)) >= JSONPATH_MAX) return NULL;
        char body[JSONPATH_MAX];
        memcpy(body, p + 2, (size_t)(close - (p + 2)));
        body[close - (p + 2)] = '\0';
        if (!cJSON_IsArray(node)) return NULL;
        for (const cJSON *element = node->child; element; element = element->next) {
            bool ok = true;
            bool passes = filter_passes(element, body, &ok);
            if (!ok) return NULL;
            if (!passes) continue;
            const cJSON *hit = jsonpath_eval(element, close + 2);
            if (hit) return hit;
        }
        return NULL;
    }
    char *end = NULL;
    long index = strtol(p, &end, 10);
    if (end == p || *end != ']' || !cJSON_IsArray(node)) return NULL;
    int size = cJSON_GetArraySize(node);
    if (index < 0) index += size;
    if (index < 0 || index >= size) return NULL;
    return jsonpath_eval(cJSON_GetArrayItem(node, (int)index), end + 1);
}

static const cJSON *jsonpath_eval(const cJSON *node, const char *p)
{
    if (!node) return NULL;
    if (!*p) return node;
    if (*p == '[') return bracket_step(node, p + 1);
    if (*p != '.') return NULL;
    p++;
    if (*p == '.') return NULL;  /* recursive descent: not in the subset */
    if (*p == '*') return each_child(node, p + 1);
    size_t length = strcspn(p, ".[");
    if (length == 0) return jsonpath_eval(node, p);
    if (!cJSON_IsObject(node) || length >= JSONPATH_MAX) return NULL;
    char key[JSONPATH_MAX];
    memcpy(key, p, length);
    key[length] = '\0';
    return jsonpath_eval(cJSON_GetObjectItemCaseSensitive(node, key), p + length);
}

const cJSON *table_jsonpath(const cJSON *root, const char *path)
{
    if (!path) return NULL;
    char copy[JSONPATH_MAX];
    size_t length = strlen(path);
    if (length >= sizeof copy) return NULL;
    memcpy(copy, path, length + 1);
    char *start = copy, *end = copy + length;
    while (start < end && isspace((unsigned char)*start)) start++;
    while (end > start && isspace((unsigned char)end[-1])) end--;
    if (start < end && *start == '{' && end[-1] == '}') {
        start++;
        end--;
    }
    *end = '\0';
    if (*start == '$') start++;
    if (!*start) return root;
    return jsonpath_eval(root, start);
}

/* ---- object access ---- */

static const cJSON *field(const cJSON *object, const char *key)
{
    return cJSON_IsObject(object) ? cJSON_GetObjectItemCaseSensitive(object, key) : NULL;
}

/* The string at object.key, or NULL. */
static const char *text_at(const cJSON *object, const char *key)
{
    const cJSON *item = field(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* For cJSON_ArrayForEach, whose macro does not parenthesise its argument. */
static const cJSON *array_or_null(const cJSON *item)
{
    return cJSON_IsArray(item) ? item : NULL;
}

static const cJSON *object_or_null(const cJSON *item)
{
    return cJSON_IsObject(item) ? item : NULL;
}

static const char *text_or(const char *text, const char *fallback)
{
    return text && text[0] ? text : fallback;
}

static double number_at(const cJSON *object, const char *key)
{
    const cJSON *item = field(object, key);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static int count_members(const cJSON *item)
{
    return cJSON_IsObject(item) || cJSON_IsArray(item) ? cJSON_GetArraySize(item) : 0;
}

/* ---- rows ---- */

struct row {
    cJSON *cells;
    bool ok;
    int64_t now_ms;
};

static void cell_add(struct row *row, cJSON *cell)
{
    if (!cell || !cJSON_AddItemToArray(row->cells, cell)) {
        cJSON_Delete(cell);
        row->ok = false;
    }
}

static void cell_text(struct row *row, const char *text)
{
    cell_add(row, cJSON_CreateString(text ? text : ""));
}

static void cell_format(struct row *row, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void cell_format(struct row *row, const char *format, ...)
{
    char *text = NULL;
    va_list args;
    va_start(args, format);
    int length = vasprintf(&text, format, args);
    va_end(args);
    if (length < 0) {
        row->ok = false;
        return;
    }
    cell_text(row, text);
    free(text);
}

static void cell_number(struct row *row, double number)
{
    cell_add(row, cJSON_CreateNumber(number));
}

static void cell_age(struct row *row, const char *timestamp)
{
    char age[32];
    table_format_age(timestamp, row->now_ms, age, sizeof age);
    cell_text(row, age);
}

static void cell_name(struct row *row, const cJSON *object)
{
    cell_text(row, text_at(field(object, "metadata"), "name"));
}

static const char *creation_of(const cJSON *object)
{
    return text_at(field(object, "metadata"), "creationTimestamp");
}

static bool is_deleting(const cJSON *object)
{
    return text_at(field(object, "metadata"), "deletionTimestamp") != NULL;
}

/* ---- column definitions ---- */

struct column {
    const char *name;
    const char *type;
    const char *format;
    const char *description;
    int priority;
};

/* ObjectMeta's swagger docs, which the real server uses for these two columns. */
#define NAME_DOC                                                                                   \
    "Name must be unique within a namespace. Is required when creating resources, although some " \
    "resources may allow a client to request the generation of an appropriate name "              \
    "automatically. Name is primarily intended for creation idempotence and configuration "       \
    "definition. Cannot be updated. More info: "                                                  \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define AGE_DOC                                                                                    \
    "CreationTimestamp is a timestamp representing the server time when this object was "         \
    "created. It is not guaranteed to be set in happens-before order across separate "            \
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "    \
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "                      \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

#define NAME_COLUMN { "Name", "string", "name", NAME_DOC, 0 }
#define AGE_COLUMN { "Age", "string", "", AGE_DOC, 0 }

static const struct column pod_columns[] = {
    NAME_COLUMN,
    { "Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0 },
    { "Status", "string", "", "The aggregate status of the containers in this pod.", 0 },
    { "Restarts", "string", "",
      "The number of times the containers in this pod have been restarted and when the last "
      "container in this pod has restarted.", 0 },
    AGE_COLUMN,
    { "IP", "string", "", "podIP address allocated to the pod. Routable at least within the "
      "cluster. Empty if not yet allocated.", 1 },
    { "Node", "string", "", "NodeName indicates in which node this pod is scheduled.", 1 },
    { "Nominated Node", "string", "", "nominatedNodeName is set only when this pod preempts "
      "other pods on the node, but it cannot be scheduled right away as preemption victims "
      "receive their graceful termination periods.", 1 },
    { "Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated for "
      "pod readiness.", 1 },
};

static const struct column node_columns[] = {
    NAME_COLUMN,
    { "Status", "string", "", "The status of the node", 0 },
    { "Roles", "string", "", "The roles of the node", 0 },
    AGE_COLUMN,
    { "Version", "string", "", "Kubelet Version reported by the node.", 0 },
    { "Internal-IP", "string", "", "List of addresses reachable to the node.", 1 },
    { "External-IP", "string", "", "List of addresses reachable to the node.", 1 },
    { "OS-Image", "string", "", "OS Image reported by the node from /etc/os-release (e.g. "
      "Debian GNU/Linux 7 (wheezy)).", 1 },
    { "Kernel-Version", "string", "", "Kernel Version reported by the node from 'uname -r' "
      "(e.g. 3.16.0-0.bpo.4-amd64).", 1 },
    { "Container-Runtime", "string", "", "ContainerRuntime Version reported by the node through "
      "runtime remote API (e.g. containerd://1.4.2).", 1 },
};

static const struct column pvc_columns[] = {
    NAME_COLUMN,
    { "Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0 },
    { "Volume", "string", "", "volumeName is the binding reference to the PersistentVolume "
      "backing this claim.", 0 },
    { "Capacity", "string", "", "capacity represents the actual resources of the underlying "
      "volume.", 0 },
    { "Access Modes", "string", "", "accessModes contains the desired access modes the volume "
      "should have.", 0 },
    { "StorageClass", "string", "", "storageClassName is the name of the StorageClass required "
      "by the claim.", 0 },
    { "VolumeAttributesClass", "string", "", "volumeAttributesClassName may be used to set the "
      "VolumeAttributesClass used by this claim.", 0 },
    AGE_COLUMN,
    { "VolumeMode", "string", "", "volumeMode defines what type of volume is required by the "
      "claim.", 1 },
};

static const struct column pv_columns[] = {
    NAME_COLUMN,
    { "Capacity", "string", "", "capacity is the description of the persistent volume's "
      "resources and capacity.", 0 },
    { "Access Modes", "string", "", "accessModes contains all ways the volume can be mounted.", 0 },
    { "Reclaim Policy", "string", "", "persistentVolumeReclaimPolicy defines what happens to a "
      "persistent volume when released from its claim.", 0 },
    { "Status", "string", "", "phase indicates if a volume is available, bound to a claim, or "
      "released by a claim.", 0 },
    { "Claim", "string", "", "claimRef is part of a bi-directional binding between "
      "PersistentVolume and PersistentVolumeClaim.", 0 },
    { "StorageClass", "string", "", "storageClassName is the name of StorageClass to which this "
      "persistent volume belongs.", 0 },
    { "VolumeAttributesClass", "string", "", "Name of VolumeAttributesClass to which this "
      "persistent volume belongs.", 0 },
    { "Reason", "string", "", "reason is a brief CamelCase string that describes any failure "
      "and is meant for machine parsing and tidy display in the CLI.", 0 },
    AGE_COLUMN,
    { "VolumeMode", "string", "", "volumeMode defines if a volume is intended to be used with a "
      "formatted filesystem or to remain in raw block state.", 1 },
};

static const struct column service_columns[] = {
    NAME_COLUMN,
    { "Type", "string", "", "type determines how the Service is exposed.", 0 },
    { "Cluster-IP", "string", "", "clusterIP is the IP address of the service and is usually "
      "assigned randomly.", 0 },
    { "External-IP", "string", "", "externalIPs is a list of IP addresses for which nodes in the "
      "cluster will also accept traffic for this service.", 0 },
    { "Port(s)", "string", "", "The list of ports that are exposed by this service.", 0 },
    AGE_COLUMN,
    { "Selector", "string", "", "Route service traffic to pods with label keys and values "
      "matching this selector.", 1 },
};

static const struct column namespace_columns[] = {
    NAME_COLUMN,
    { "Status", "string", "", "The status of the namespace", 0 },
    AGE_COLUMN,
};

static const struct column configmap_columns[] = {
    NAME_COLUMN,
    { "Data", "string", "", "Data contains the configuration data.", 0 },
    AGE_COLUMN,
};

static const struct column secret_columns[] = {
    NAME_COLUMN,
    { "Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0 },
    { "Data", "string", "", "Data contains the secret data.", 0 },
    AGE_COLUMN,
};

static const struct column endpoints_columns[] = {
    NAME_COLUMN,
    { "Endpoints", "string", "", "Endpoints is the list of endpoints of the service.", 0 },
    AGE_COLUMN,
};

static const struct column event_columns[] = {
    { "Last Seen", "string", "", "The time at which the most recent occurrence of this event was "
      "recorded.", 0 },
    { "Type", "string", "", "Type of this event (Normal, Warning), new types could be added in "
      "the future", 0 },
    { "Reason", "string", "", "This should be a short, machine understandable string that gives "
      "the reason for the transition into the object's current status.", 0 },
    { "Object", "string", "", "regarding contains the object this Event is about.", 0 },
    { "Subobject", "string", "", "If referring to a piece of an object instead of an entire "
      "object, this string should contain a valid JSON/Go field access statement.", 1 },
    { "Source", "string", "", "The component reporting this event.", 1 },
    { "Message", "string", "", "A human-readable description of the status of this "
      "operation.", 0 },
    { "First Seen", "string", "", "The time at which the event was first recorded.", 1 },
    { "Count", "string", "", "The number of times this event has occurred.", 1 },
    { "Name", "string", "name", NAME_DOC, 1 },
};

static const struct column lease_columns[] = {
    NAME_COLUMN,
    { "Holder", "string", "", "holderIdentity contains the identity of the holder of a current "
      "lease.", 0 },
    AGE_COLUMN,
};

static const struct column storage_class_columns[] = {
    NAME_COLUMN,
    { "Provisioner", "string", "", "provisioner indicates the type of the provisioner.", 0 },
    { "ReclaimPolicy", "string", "", "reclaimPolicy controls the reclaimPolicy for dynamically "
      "provisioned PersistentVolumes of this storage class.", 0 },
    { "VolumeBindingMode", "string", "", "volumeBindingMode indicates how PersistentVolumeClaims "
      "should be provisioned and bound.", 0 },
    { "AllowVolumeExpansion", "string", "", "allowVolumeExpansion shows whether the storage "
      "class allow volume expand.", 0 },
    AGE_COLUMN,
};

/* rest.DefaultTableConvertor: kinds without a printer (CRDs among them). */
static const struct column default_columns[] = {
    NAME_COLUMN,
    { "Created At", "date", "", AGE_DOC, 0 },
};

/* ---- per-kind cells (kubernetes pkg/printers/internalversion/printers.go) ---- */

static bool condition_true(const cJSON *conditions, const char *type)
{
    const cJSON *condition;
    cJSON_ArrayForEach(condition, array_or_null(conditions)) {
        const char *t = text_at(condition, "type");
        if (t && strcmp(t, type) == 0) {
            const char *status = text_at(condition, "status");
            return status && strcmp(status, "True") == 0;
        }
    }
    return false;
}

/* The init container spec named `name`, when it is a restartable (sidecar) one. */
static bool restartable_init(const cJSON *init_containers, const char *name)
{
    const cJSON *container;
    cJSON_ArrayForEach(container, array_or_null(init_containers)) {
        const char *n = text_at(container, "name");
        if (n && name && strcmp(n, name) == 0) {
            const char *policy = text_at(container, "restartPolicy");
            return policy && strcmp(policy, "Always") == 0;
        }
    }
    return false;
}

/* Keeps the later of *latest and the container's last termination (finishedAt). */
static void note_restart(const cJSON *status, int64_t *latest)
{
    const cJSON *terminated = field(field(status, "lastState"), "terminated");
    int64_t at;
    if (terminated && clock_parse_rfc3339(text_at(terminated, "finishedAt"), &at) && at > *latest)
        *latest = at;
}

static void pod_cells(struct row *row, const cJSON *pod)
{
    const cJSON *spec = field(pod, "spec");
    const cJSON *status = field(pod, "status");
    const cJSON *conditions = field(status, "conditions");
    const cJSON *init_specs = field(spec, "initContainers");
    const char *phase = text_or(text_at(status, "phase"), "");
    char reason[160];
    snprintf(reason, sizeof reason, "%s", text_or(text_at(status, "reason"), phase));
    int restarts = 0, sidecar_restarts = 0;
    int total = count_members(field(spec, "containers"));
    int ready = 0;
    const int64_t never = INT64_MIN;
    int64_t last_restart = never, last_sidecar_restart = never;

    const cJSON *condition;
    cJSON_ArrayForEach(condition, array_or_null(conditions)) {
        const char *type = text_at(condition, "type"), *why = text_at(condition, "reason");
        if (type && why && strcmp(type, "PodScheduled") == 0 && strcmp(why, "SchedulingGated") == 0)
            snprintf(reason, sizeof reason, "SchedulingGated");
    }
    const cJSON *init_spec;
    cJSON_ArrayForEach(init_spec, array_or_null(init_specs)) {
        const char *policy = text_at(init_spec, "restartPolicy");
        if (policy && strcmp(policy, "Always") == 0) total++;
    }

    bool initializing = false;
    int index = 0;
    const cJSON *init;
    cJSON_ArrayForEach(init, field(status, "initContainerStatuses")) {
        int count = (int)number_at(init, "restartCount");
        restarts += count;
        note_restart(init, &last_restart);
        bool sidecar = restartable_init(init_specs, text_at(init, "name"));
        if (sidecar) {
            sidecar_restarts += count;
            note_restart(init, &last_sidecar_restart);
        }
        const cJSON *state = field(init, "state");
        const cJSON *terminated = field(state, "terminated");
        const cJSON *waiting = field(state, "waiting");
        const char *waiting_reason = text_at(waiting, "reason");
        index++;
        if (terminated && number_at(terminated, "exitCode") == 0) continue;
        if (sidecar && cJSON_IsTrue(field(init, "started"))) {
            if (cJSON_IsTrue(field(init, "ready"))) ready++;
            continue;
        }
        if (terminated) {
            const char *why = text_at(terminated, "reason");
            if (why && why[0]) snprintf(reason, sizeof reason, "Init:%s", why);
            else if (number_at(terminated, "signal") != 0)
                snprintf(reason, sizeof reason, "Init:Signal:%d", (int)number_at(terminated, "signal"));
            else
                snprintf(reason, sizeof reason, "Init:ExitCode:%d",
                         (int)number_at(terminated, "exitCode"));
        } else if (waiting_reason && waiting_reason[0] &&
                   strcmp(waiting_reason, "PodInitializing") != 0) {
            snprintf(reason, sizeof reason, "Init:%s", waiting_reason);
        } else {
            snprintf(reason, sizeof reason, "Init:%d/%d", index - 1, count_members(init_specs));
        }
        initializing = true;
        break;
    }

    if (!initializing || condition_true(conditions, "Initialized")) {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        bool has_running = false;
        const cJSON *statuses = field(status, "containerStatuses");
        int n = count_members(statuses);
        /* Backwards, as the real printer: the first container's reason wins. */
        for (int i = n - 1; i >= 0; i--) {
            const cJSON *container = cJSON_GetArrayItem(statuses, i);
            restarts += (int)number_at(container, "restartCount");
            note_restart(container, &last_restart);
            const cJSON *state = field(container, "state");
            const cJSON *waiting = field(state, "waiting");
            const cJSON *terminated = field(state, "terminated");
            const char *waiting_reason = text_at(waiting, "reason");
            const char *terminated_reason = text_at(terminated, "reason");
            if (waiting && waiting_reason && waiting_reason[0]) {
                snprintf(reason, sizeof reason, "%s", waiting_reason);
            } else if (terminated && terminated_reason && terminated_reason[0]) {
                snprintf(reason, sizeof reason, "%s", terminated_reason);
            } else if (terminated) {
                if (number_at(terminated, "signal") != 0)
                    snprintf(reason, sizeof reason, "Signal:%d", (int)number_at(terminated, "signal"));
                else
                    snprintf(reason, sizeof reason, "ExitCode:%d",
                             (int)number_at(terminated, "exitCode"));
            } else if (cJSON_IsTrue(field(container, "ready")) && field(state, "running")) {
                has_running = true;
                ready++;
            }
        }
        if (strcmp(reason, "Completed") == 0 && has_running)
            snprintf(reason, sizeof reason, "%s",
                     condition_true(conditions, "Ready") ? "Running" : "NotReady");
    }

    bool terminal = strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0;
    const char *status_reason = text_at(status, "reason");
    if (is_deleting(pod) && status_reason && strcmp(status_reason, "NodeLost") == 0)
        snprintf(reason, sizeof reason, "Unknown");
    else if (is_deleting(pod) && !terminal)
        snprintf(reason, sizeof reason, "Terminating");

    cell_name(row, pod);
    cell_format(row, "%d/%d", ready, total);
    cell_text(row, reason);
    if (restarts != 0 && last_restart != never) {
        char ago[32];
        table_format_duration(row->now_ms - last_restart, ago, sizeof ago);
        cell_format(row, "%d (%s ago)", restarts, ago);
    } else {
        cell_format(row, "%d", restarts);
    }
    cell_age(row, creation_of(pod));

    const cJSON *ips = field(status, "podIPs");
    const char *ip = text_at(cJSON_IsArray(ips) ? cJSON_GetArrayItem(ips, 0) : NULL, "ip");
    if (!ip) ip = text_at(status, "podIP");
    cell_text(row, text_or(ip, "<none>"));
    cell_text(row, text_or(text_at(spec, "nodeName"), "<none>"));
    cell_text(row, text_or(text_at(status, "nominatedNodeName"), "<none>"));
    const cJSON *gates = field(spec, "readinessGates");
    if (count_members(gates) > 0) {
        int passed = 0;
        const cJSON *gate;
        cJSON_ArrayForEach(gate, gates) {
            const char *type = text_at(gate, "conditionType");
            if (type && condition_true(conditions, type)) passed++;
        }
        cell_format(row, "%d/%d", passed, count_members(gates));
    } else {
        cell_text(row, "<none>");
    }
}

/* Row conditions the real pod printer attaches to finished pods. */
static bool pod_row_conditions(const cJSON *pod, cJSON *row_object)
{
    const char *phase = text_at(field(pod, "status"), "phase");
    const char *message = NULL;
    if (phase && strcmp(phase, "Succeeded") == 0) message = "The pod has completed successfully.";
    else if (phase && strcmp(phase, "Failed") == 0) message = "The pod failed.";
    if (!message) return true;
    cJSON *conditions = cJSON_AddArrayToObject(row_object, "conditions");
    cJSON *condition = cJSON_CreateObject();
    if (!conditions || !condition || !cJSON_AddItemToArray(conditions, condition)) {
        cJSON_Delete(condition);
        return false;
    }
    return cJSON_AddStringToObject(condition, "type", "Completed") &&
           cJSON_AddStringToObject(condition, "status", "True") &&
           cJSON_AddStringToObject(condition, "reason", phase) &&
           cJSON_AddStringToObject(condition, "message", message);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void node_cells(struct row *row, const cJSON *node)
{
    const cJSON *status = field(node, "status");
    const cJSON *info = field(status, "nodeInfo");
    const char *ready = NULL;
    const cJSON *condition;
    cJSON_ArrayForEach(condition, field(status, "conditions")) {
        const char *type = text_at(condition, "type");
        if (type && strcmp(type, "Ready") == 0) {
            const char *s = text_at(condition, "status");
            ready = s && strcmp(s, "True") == 0 ? "Ready" : "NotReady";
        }
    }
    bool unschedulable = cJSON_IsTrue(field(field(node, "spec"), "unschedulable"));
    cell_name(row, node);
    cell_format(row, "%s%s", ready ? ready : "Unknown", unschedulable ? ",SchedulingDisabled" : "");

    /* Roles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values, sorted, unique. */
    enum { MAX_ROLES = 32 };
    const char *roles[MAX_ROLES];
    size_t role_count = 0;
    static const char prefix[] = "node-role.kubernetes.io/";
    const cJSON *label;
    cJSON_ArrayForEach(label, field(field(node, "metadata"), "labels")) {
        const char *role = NULL;
        if (strncmp(label->string, prefix, sizeof prefix - 1) == 0)
            role = label->string + sizeof prefix - 1;
        else if (strcmp(label->string, "kubernetes.io/role") == 0 && cJSON_IsString(label))
            role = label->valuestring;
        if (role && role[0] && role_count < MAX_ROLES) roles[role_count++] = role;
    }
    qsort(roles, role_count, sizeof roles[0], compare_strings);
    char joined[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < role_count; i++) {
        if (i > 0 && strcmp(roles[i], roles[i - 1]) == 0) continue;
        int n = snprintf(joined + used, sizeof joined - used, "%s%s", used ? "," : "", roles[i]);
        if (n < 0 || (size_t)n >= sizeof joined - used) break;
        used += (size_t)n;
    }
    cell_text(row, used ? joined : "<none>");
    cell_age(row, creation_of(node));
    cell_text(row, text_or(text_at(info, "kubeletVersion"), ""));

    const char *internal = NULL, *external = NULL;
    const cJSON *address;
    cJSON_ArrayForEach(address, field(status, "addresses")) {
        const char *type = text_at(address, "type");
        if (!type) continue;
        if (!internal && strcmp(type, "InternalIP") == 0) internal = text_at(address, "address");
        if (!external && strcmp(type, "ExternalIP") == 0) external = text_at(address, "address");
    }
    cell_text(row, text_or(internal, "<none>"));
    cell_text(row, text_or(external, "<none>"));
    cell_text(row, text_or(text_at(info, "osImage"), "<unknown>"));
    cell_text(row, text_or(text_at(info, "kernelVersion"), "<unknown>"));
    cell_text(row, text_or(text_at(info, "containerRuntimeVersion"), "<unknown>"));
}

/* helper.GetAccessModesAsString: a fixed order, duplicates dropped. */
static void access_modes(const cJSON *modes, char *out, size_t size)
{
    static const char *const names[][2] = {
        { "ReadWriteOnce", "RWO" }, { "ReadOnlyMany", "ROX" },
        { "ReadWriteMany", "RWX" }, { "ReadWriteOncePod", "RWOP" },
    };
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool present = false;
        const cJSON *mode;
        cJSON_ArrayForEach(mode, array_or_null(modes)) {
            if (cJSON_IsString(mode) && strcmp(mode->valuestring, names[i][0]) == 0) present = true;
        }
        if (!present) continue;
        int n = snprintf(out + used, size - used, "%s%s", used ? "," : "", names[i][1]);
        if (n < 0 || (size_t)n >= size - used) return;
        used += (size_t)n;
    }
}

/* GetPersistentVolume(Claim)Class: the beta annotation first, then spec.storageClassName. */
static const char *storage_class_of(const cJSON *object)
{
    const char *annotation = text_at(field(field(object, "metadata"), "annotations"),
                                     "volume.beta.kubernetes.io/storage-class");
    if (annotation) return annotation;
    return text_or(text_at(field(object, "spec"), "storageClassName"), "");
}

static const char *attributes_class_of(const cJSON *spec)
{
    return text_or(text_at(spec, "volumeAttributesClassName"), "<unset>");
}

static void pvc_cells(struct row *row, const cJSON *pvc)
{
    const cJSON *spec = field(pvc, "spec");
    const cJSON *status = field(pvc, "status");
    const char *volume = text_or(text_at(spec, "volumeName"), "");
    char modes[64] = "";
    const char *capacity = "";
    if (volume[0]) {
        access_modes(field(status, "accessModes"), modes, sizeof modes);
        capacity = text_or(text_at(field(status, "capacity"), "storage"), "0");
    }
    cell_name(row, pvc);
    cell_text(row, is_deleting(pvc) ? "Terminating" : text_or(text_at(status, "phase"), ""));
    cell_text(row, volume);
    cell_text(row, capacity);
    cell_text(row, modes);
    cell_text(row, storage_class_of(pvc));
    cell_text(row, attributes_class_of(spec));
    cell_age(row, creation_of(pvc));
    cell_text(row, text_or(text_at(spec, "volumeMode"), "<unset>"));
}

static void pv_cells(struct row *row, const cJSON *pv)
{
    const cJSON *spec = field(pv, "spec");
    const cJSON *status = field(pv, "status");
    const cJSON *claim = field(spec, "claimRef");
    char modes[64] = "";
    access_modes(field(spec, "accessModes"), modes, sizeof modes);
    cell_name(row, pv);
    cell_text(row, text_or(text_at(field(spec, "capacity"), "storage"), "0"));
    cell_text(row, modes);
    cell_text(row, text_or(text_at(spec, "persistentVolumeReclaimPolicy"), ""));
    cell_text(row, is_deleting(pv) ? "Terminating" : text_or(text_at(status, "phase"), ""));
    if (claim)
        cell_format(row, "%s/%s", text_or(text_at(claim, "namespace"), ""),
                    text_or(text_at(claim, "name"), ""));
    else
        cell_text(row, "");
    cell_text(row, storage_class_of(pv));
    cell_text(row, attributes_class_of(spec));
    cell_text(row, text_or(text_at(status, "reason"), ""));
    cell_age(row, creation_of(pv));
    cell_text(row, text_or(text_at(spec, "volumeMode"), "<unset>"));
}

/* Appends "a,b,c" of the string array `items` to `out`. */
static bool join_strings(const cJSON *items, char **out)
{
    size_t length = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array_or_null(items)) {
        if (cJSON_IsString(item)) length += strlen(item->valuestring) + 1;
    }
    char *text = calloc(1, length + 1);
    if (!text) return false;
    cJSON_ArrayForEach(item, array_or_null(items)) {
        if (!cJSON_IsString(item)) continue;
        if (text[0]) strcat(text, ",");
        strcat(text, item->valuestring);
    }
    *out = text;
    return true;
}

static void service_external_ip(struct row *row, const cJSON *service)
{
    const cJSON *spec = field(service, "spec");
    const char *type = text_or(text_at(spec, "type"), "ClusterIP");
    char *external = NULL;
    if (!join_strings(field(spec, "externalIPs"), &external)) {
        row->ok = false;
        return;
    }
    if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
        cell_text(row, external[0] ? external : "<none>");
    } else if (strcmp(type, "LoadBalancer") == 0) {
        /* Ingress IPs or hostnames; the real server renders wide, so no truncation. */
        char balancer[1024] = "";
        size_t used = 0;
        const cJSON *ingress;
        cJSON_ArrayForEach(ingress, field(field(field(service, "status"), "loadBalancer"), "ingress")) {
            const char *address = text_at(ingress, "ip");
            if (!address || !address[0]) address = text_at(ingress, "hostname");
            if (!address || !address[0]) continue;
            int n = snprintf(balancer + used, sizeof balancer - used, "%s%s", used ? "," : "",
                             address);
            if (n < 0 || (size_t)n >= sizeof balancer - used) break;
            used += (size_t)n;
        }
        if (external[0])
            cell_format(row, "%s%s%s", balancer, used ? "," : "", external);
        else
            cell_text(row, used ? balancer : "<pending>");
    } else if (strcmp(type, "ExternalName") == 0) {
        cell_text(row, text_or(text_at(spec, "externalName"), ""));
    } else {
        cell_text(row, "<unknown>");
    }
    free(external);
}

/* labels.FormatLabels: sorted "k=v,..." or "<none>". */
static void cell_labels(struct row *row, const cJSON *labels)
{
    enum { MAX_LABELS = 64 };
    const cJSON *sorted[MAX_LABELS];
    size_t count = 0;
    const cJSON *label;
    cJSON_ArrayForEach(label, object_or_null(labels)) {
        if (count < MAX_LABELS && cJSON_IsString(label)) sorted[count++] = label;
    }
    /* Insertion sort by key: a handful of labels. */
    for (size_t i = 1; i < count; i++) {
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1]->string, sorted[j]->string) > 0; j--) {
            const cJSON *swap = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = swap;
        }
    }
    if (count == 0) {
        cell_text(row, "<none>");
        return;
    }
    char text[2048] = "";
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(text + used, sizeof text - used, "%s%s=%s", i ? "," : "",
                         sorted[i]->string, sorted[i]->valuestring);
        if (n < 0 || (size_t)n >= sizeof text - used) break;
        used += (size_t)n;
    }
    cell_text(row, text);
}

static void service_cells(struct row *row, const cJSON *service)
{
    const cJSON *spec = field(service, "spec");
    const cJSON *ips = field(spec, "clusterIPs");
    const char *cluster_ip = cJSON_IsArray(ips) && cJSON_GetArraySize(ips) > 0
                                 ? (cJSON_IsString(cJSON_GetArrayItem(ips, 0))
                                        ? cJSON_GetArrayItem(ips, 0)->valuestring : NULL)
                                 : text_at(spec, "clusterIP");
    cell_name(row, service);
    cell_text(row, text_or(text_at(spec, "type"), ""));
    cell_text(row, text_or(cluster_ip, "<none>"));
    service_external_ip(row, service);

    char ports[1024] = "";
    size_t used = 0;
    const cJSON *port;
    cJSON_ArrayForEach(port, field(spec, "ports")) {
        const char *protocol = text_or(text_at(port, "protocol"), "TCP");
        int number = (int)number_at(port, "port"), node_port = (int)number_at(port, "nodePort");
        int n = node_port > 0
                    ? snprintf(ports + used, sizeof ports - used, "%s%d:%d/%s", used ? "," : "",
                               number, node_port, protocol)
                    : snprintf(ports + used, sizeof ports - used, "%s%d/%s", used ? "," : "",
                               number, protocol);
        if (n < 0 || (size_t)n >= sizeof ports - used) break;
        used += (size_t)n;
    }
    cell_text(row, used ? ports : "<none>");
    cell_age(row, creation_of(service));
    cell_labels(row, field(spec, "selector"));
}

static void namespace_cells(struct row *row, const cJSON *ns)
{
    cell_name(row, ns);
    cell_text(row, text_or(text_at(field(ns, "status"), "phase"), ""));
    cell_age(row, creation_of(ns));
}

static void configmap_cells(struct row *row, const cJSON *cm)
{
    cell_name(row, cm);
    cell_number(row, count_members(field(cm, "data")) + count_members(field(cm, "binaryData")));
    cell_age(row, creation_of(cm));
}

static void secret_cells(struct row *row, const cJSON *secret)
{
    cell_name(row, secret);
    cell_text(row, text_or(text_at(secret, "type"), ""));
    cell_number(row, count_members(field(secret, "data")));
    cell_age(row, creation_of(secret));
}

static void endpoints_cells(struct row *row, const cJSON *endpoints)
{
    cell_name(row, endpoints);
    const cJSON *subsets = field(endpoints, "subsets");
    if (count_members(subsets) == 0) {
        cell_text(row, "<none>");
        cell_age(row, creation_of(endpoints));
        return;
    }
    /* formatEndpoints: at most three, then " + N more...". */
    enum { MAX_SHOWN = 3 };
    char list[512] = "";
    size_t used = 0, shown = 0;
    int count = 0;
    bool more = false;
    const cJSON *subset;
    cJSON_ArrayForEach(subset, subsets) {
        const cJSON *addresses = field(subset, "addresses");
        const cJSON *ports = field(subset, "ports");
        int port_count = count_members(ports);
        for (int p = 0; p < (port_count ? port_count : 1); p++) {
            const cJSON *port = port_count ? cJSON_GetArrayItem(ports, p) : NULL;
            count += count_members(addresses);
            const cJSON *address;
            cJSON_ArrayForEach(address, array_or_null(addresses)) {
                if (shown == MAX_SHOWN) {
                    more = true;
                    break;
                }
                const char *ip = text_or(text_at(address, "ip"), "");
                int n = port ? snprintf(list + used, sizeof list - used,
                                        strchr(ip, ':') ? "%s[%s]:%d" : "%s%s:%d",
                                        used ? "," : "", ip, (int)number_at(port, "port"))
                             : snprintf(list + used, sizeof list - used, "%s%s", used ? "," : "", ip);
                if (n < 0 || (size_t)n >= sizeof list - used) break;
                used += (size_t)n;
                shown++;
            }
        }
    }
    if (more) cell_format(row, "%s + %d more...", list, count - MAX_SHOWN);
    else cell_text(row, list);
    cell_age(row, creation_of(endpoints));
}

static const cJSON *first_field(const cJSON *object, const char *a, const char *b)
{
    const cJSON *item = field(object, a);
    return item ? item : field(object, b);
}

/* Both Event APIs share one printer (core/v1 names first, events.k8s.io/v1 second). */
static void event_cells(struct row *row, const cJSON *event)
{
    char first[32], last[32];
    const char *first_at = text_at(event, "firstTimestamp");
    if (!first_at) first_at = text_at(event, "deprecatedFirstTimestamp");
    if (!first_at || !first_at[0]) first_at = text_at(event, "eventTime");
    table_format_age(first_at, row->now_ms, first, sizeof first);
    const char *last_at = text_at(event, "lastTimestamp");
    if (!last_at) last_at = text_at(event, "deprecatedLastTimestamp");
    if (last_at && last_at[0]) table_format_age(last_at, row->now_ms, last, sizeof last);
    else snprintf(last, sizeof last, "%s", first);
    const cJSON *count_item = first_field(event, "count", "deprecatedCount");
    double count = cJSON_IsNumber(count_item) ? count_item->valuedouble : 0;
    const cJSON *series = field(event, "series");
    if (series) {
        table_format_age(text_at(series, "lastObservedTime"), row->now_ms, last, sizeof last);
        count = number_at(series, "count");
    } else if (count == 0) {
        count = 1;  /* singleton events of the new API have no count */
    }
    const cJSON *involved = first_field(event, "involvedObject", "regarding");
    const char *kind = text_or(text_at(involved, "kind"), "");
    const char *name = text_at(involved, "name");
    char target[320];
    size_t k = 0;
    for (; kind[k] && k < sizeof target - 1; k++) target[k] = (char)tolower((unsigned char)kind[k]);
    target[k] = '\0';
    if (name && name[0]) {
        size_t used = strlen(target);
        snprintf(target + used, sizeof target - used, "/%s", name);
    }
    const cJSON *source = first_field(event, "source", "deprecatedSource");
    const char *component = text_or(text_at(source, "component"),
                                    text_or(text_at(event, "reportingComponent"),
                                            text_at(event, "reportingController")));
    const char *host = text_or(text_at(source, "host"), text_at(event, "reportingInstance"));
    const char *message = text_at(event, "message");
    if (!message) message = text_at(event, "note");
    message = message ? message : "";
    while (isspace((unsigned char)*message)) message++;
    size_t message_length = strlen(message);
    while (message_length > 0 && isspace((unsigned char)message[message_length - 1]))
        message_length--;

    cell_text(row, last);
    cell_text(row, text_or(text_at(event, "type"), ""));
    cell_text(row, text_or(text_at(event, "reason"), ""));
    cell_text(row, target);
    cell_text(row, text_or(text_at(involved, "fieldPath"), ""));
    if (host && host[0]) cell_format(row, "%s, %s", component ? component : "", host);
    else cell_text(row, component ? component : "");
    cell_format(row, "%.*s", (int)message_length, message);
    cell_text(row, first);
    cell_number(row, count);
    cell_name(row, event);
}

static void lease_cells(struct row *row, const cJSON *lease)
{
    cell_name(row, lease);
    cell_text(row, text_or(text_at(field(lease, "spec"), "holderIdentity"), ""));
    cell_age(row, creation_of(lease));
}

static void storage_class_cells(struct row *row, const cJSON *sc)
{
    const cJSON *annotations = field(field(sc, "metadata"), "annotations");
    const char *is_default = text_at(annotations, "storageclass.kubernetes.io/is-default-class");
    if (!is_default) is_default = text_at(annotations, "storageclass.beta.kubernetes.io/is-default-class");
    const char *name = text_or(text_at(field(sc, "metadata"), "name"), "");
    if (is_default && strcmp(is_default, "true") == 0) cell_format(row, "%s (default)", name);
    else cell_text(row, name);
    cell_text(row, text_or(text_at(sc, "provisioner"), ""));
    cell_text(row, text_or(text_at(sc, "reclaimPolicy"), "Delete"));
    cell_text(row, text_or(text_at(sc, "volumeBindingMode"), "Immediate"));
    cell_add(row, cJSON_CreateBool(cJSON_IsTrue(field(sc, "allowVolumeExpansion"))));
    cell_age(row, creation_of(sc));
}

static void default_cells(struct row *row, const cJSON *object)
{
    cell_name(row, object);
    int64_t at;
    char text[CLOCK_RFC3339_SIZE];
    /* Go's time.RFC3339, as a metav1.Time prints; Go's zero time when unset. */
    if (!clock_parse_rfc3339(creation_of(object), &at) ||
        !clock_format_rfc3339(at, CLOCK_RFC3339_SECONDS, text, sizeof text))
        snprintf(text, sizeof text, "0001-01-01T00:00:00Z");
    cell_text(row, text);
}

/* ---- custom resources (apiextensions-apiserver tableconvertor.go) ---- */

/* Go's fmt of a JSON number: integers without a fraction, others in shortest form. */
static void format_number(double value, char *out, size_t size)
{
    if (value == floor(value) && fabs(value) < 9.2e18) {
        snprintf(out, size, "%lld", (long long)value);
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, value);
        if (strtod(out, NULL) == value) return;
    }
}

static void custom_cell(struct row *row, const struct resource_printer_column *column,
                        const cJSON *object)
{
    const cJSON *value = table_jsonpath(object, column->json_path);
    const char *type = column->type ? column->type : "";
    if (!value || cJSON_IsNull(value)) {
        cell_add(row, cJSON_CreateNull());
        return;
    }
    if (strcmp(type, "string") == 0) {
        /* jsonpath's PrintResults: text for scalars, JSON for maps and lists. */
        if (cJSON_IsString(value)) {
            cell_text(row, value->valuestring);
        } else if (cJSON_IsNumber(value)) {
            char number[64];
            format_number(value->valuedouble, number, sizeof number);
            cell_text(row, number);
        } else if (cJSON_IsBool(value)) {
            cell_text(row, cJSON_IsTrue(value) ? "true" : "false");
        } else {
            char *json = cJSON_PrintUnformatted(value);
            if (!json) row->ok = false;
            else cell_text(row, json);
            free(json);
        }
        return;
    }
    if (strcmp(type, "integer") == 0 && cJSON_IsNumber(value)) {
        cell_number(row, trunc(value->valuedouble));
    } else if (strcmp(type, "number") == 0 && cJSON_IsNumber(value)) {
        cell_number(row, value->valuedouble);
    } else if (strcmp(type, "boolean") == 0 && cJSON_IsBool(value)) {
        cell_add(row, cJSON_CreateBool(cJSON_IsTrue(value)));
    } else if (strcmp(type, "date") == 0 && cJSON_IsString(value)) {
        int64_t at;
        char age[32];
        if (!value->valuestring[0]) snprintf(age, sizeof age, "<unknown>");
        else if (!clock_parse_rfc3339(value->valuestring, &at)) snprintf(age, sizeof age, "<invalid>");
        else table_format_duration(row->now_ms - at, age, sizeof age);
        cell_text(row, age);
    } else {
        cell_add(row, cJSON_CreateNull());
    }
}

static const struct resource_printer_column default_custom_age = {
    .name = "Age", .type = "date", .format = "", .description = AGE_DOC,
    .json_path = ".metadata.creationTimestamp", .priority = 0,
};

static void custom_columns(const struct resource *resource,
                           const struct resource_printer_column **columns, size_t *count)
{
    if (resource->printer_column_count > 0) {
        *columns = resource->printer_columns;
        *count = resource->printer_column_count;
    } else {
        *columns = &default_custom_age;
        *count = 1;
    }
}

static void custom_cells(struct row *row, const struct resource *resource, const cJSON *object)
{
    const struct resource_printer_column *columns;
    size_t count;
    custom_columns(resource, &columns, &count);
    cell_name(row, object);
    for (size_t i = 0; i < count; i++) custom_cell(row, &columns[i], object);
}

/* ---- the printer table ---- */

struct printer {
    const char *group;
    const char *plural;
    const struct column *columns;
    size_t column_count;
    void (*cells)(struct row *row, const cJSON *object);
};

#define PRINTER(group, plural, columns, cells) \
    { group, plural, columns, sizeof columns / sizeof columns[0], cells }

static const struct printer printers[] = {
    PRINTER("", "pods", pod_columns, pod_cells),
    PRINTER("", "nodes", node_columns, node_cells),
    PRINTER("", "persistentvolumeclaims", pvc_columns, pvc_cells),
    PRINTER("", "persistentvolumes", pv_columns, pv_cells),
    PRINTER("", "services", service_columns, service_cells),
    PRINTER("", "namespaces", namespace_columns, namespace_cells),
    PRINTER("", "configmaps", configmap_columns, configmap_cells),
    PRINTER("", "secrets", secret_columns, secret_cells),
    PRINTER("", "endpoints", endpoints_columns, endpoints_cells),
    PRINTER("", "events", event_columns, event_cells),
    PRINTER("events.k8s.io", "events", event_columns, event_cells),
    PRINTER("coordination.k8s.io", "leases", lease_columns, lease_cells),
    PRINTER("storage.k8s.io", "storageclasses", storage_class_columns, storage_class_cells),
};

static const struct printer default_printer =
    PRINTER("", "", default_columns, default_cells);

static const struct printer *printer_for(const struct resource *resource)
{
    for (size_t i = 0; i < sizeof printers / sizeof printers[0]; i++) {
        if (strcmp(printers[i].group, resource->group) == 0 &&
            strcmp(printers[i].plural, resource->plural) == 0)
            return &printers[i];
    }
    return &default_printer;
}

/* ---- assembling the Table ---- */

static cJSON *column_json(const char *name, const char *type, const char *format,
                          const char *description, int priority)
{
    cJSON *column = cJSON_CreateObject();
    if (!column) return NULL;
    if (!cJSON_AddStringToObject(column, "name", name ? name : "") ||
        !cJSON_AddStringToObject(column, "type", type ? type : "") ||
        !cJSON_AddStringToObject(column, "format", format ? format : "") ||
        !cJSON_AddStringToObject(column, "description", description ? description : "") ||
        !cJSON_AddNumberToObject(column, "priority", priority)) {
        cJSON_Delete(column);
        return NULL;
    }
    return column;
}

static bool add_column(cJSON *columns, cJSON *column)
{
    if (!column || !cJSON_AddItemToArray(columns, column)) {
        cJSON_Delete(column);
        return false;
    }
    return true;
}

static cJSON *column_definitions(const struct resource *resource, const struct printer *printer)
{
    cJSON *columns = cJSON_CreateArray();
    if (!columns) return NULL;
    bool ok = true;
    if (resource->custom) {
        const struct resource_printer_column *custom;
        size_t count;
        custom_columns(resource, &custom, &count);
        ok = add_column(columns, column_json("Name", "string", "name", NAME_DOC, 0));
        for (size_t i = 0; ok && i < count; i++) {
            char *description = NULL;
            if (!custom[i].description || !custom[i].description[0]) {
                if (asprintf(&description, "Custom resource definition column (in JSONPath "
                                           "format): %s", custom[i].json_path ? custom[i].json_path : "") < 0)
                    description = NULL;
                ok = description != NULL;
            }
            ok = ok && add_column(columns, column_json(custom[i].name, custom[i].type,
                                                       custom[i].format,
                                                       description ? description
                                                                   : custom[i].description,
                                                       custom[i].priority));
            free(description);
        }
    } else {
        for (size_t i = 0; ok && i < printer->column_count; i++) {
            const struct column *c = &printer->columns[i];
            ok = add_column(columns, column_json(c->name, c->type, c->format, c->description,
                                                 c->priority));
        }
    }
    if (!ok) {
        cJSON_Delete(columns);
        return NULL;
    }
    return columns;
}

/* The row's `object`: references into the (const) stored tree, never copies. */
static cJSON *row_object(const cJSON *object, enum table_include include)
{
    if (include == TABLE_INCLUDE_NONE) return cJSON_CreateNull();
    if (include == TABLE_INCLUDE_OBJECT) return cJSON_CreateObjectReference(object->child);
    cJSON *partial = cJSON_CreateObject();
    if (!partial) return NULL;
    const cJSON *metadata = field(object, "metadata");
    if (!cJSON_AddStringToObject(partial, "kind", "PartialObjectMetadata") ||
        !cJSON_AddStringToObject(partial, "apiVersion", "meta.k8s.io/v1")) {
        cJSON_Delete(partial);
        return NULL;
    }
    cJSON *reference = cJSON_CreateObjectReference(metadata ? metadata->child : NULL);
    if (!reference || !cJSON_AddItemToObject(partial, "metadata", reference)) {
        cJSON_Delete(reference);  /* a reference item: its children are not freed */
        cJSON_Delete(partial);
        return NULL;
    }
    return partial;
}

static cJSON *render_row(const struct resource *resource, const struct printer *printer,
                         const cJSON *object, const struct table_options *options)
{
    cJSON *row_json = cJSON_CreateObject();
    struct row row = { .cells = cJSON_CreateArray(), .ok = true, .now_ms = options->now_ms };
    if (!row_json || !row.cells || !cJSON_AddItemToObject(row_json, "cells", row.cells)) {
        cJSON_Delete(row.cells);
        cJSON_Delete(row_json);
        return NULL;
    }
    if (resource->custom) custom_cells(&row, resource, object);
    else printer->cells(&row, object);
    if (row.ok && printer->cells == pod_cells) row.ok = pod_row_conditions(object, row_json);
    cJSON *embedded = row.ok ? row_object(object, options->include) : NULL;
    if (!embedded || !cJSON_AddItemToObject(row_json, "object", embedded)) {
        cJSON_Delete(embedded);
        cJSON_Delete(row_json);
        return NULL;
    }
    return row_json;
}

static bool add_metadata(cJSON *table, const struct table_options *options)
{
    cJSON *metadata = cJSON_AddObjectToObject(table, "metadata");
    if (!metadata) return false;
    if (options->resource_version && options->resource_version[0] &&
        !cJSON_AddStringToObject(metadata, "resourceVersion", options->resource_version))
        return false;
    if (options->continue_token && options->continue_token[0]) {
        if (!cJSON_AddStringToObject(metadata, "continue", options->continue_token)) return false;
        if (options->remaining >= 0 &&
            !cJSON_AddNumberToObject(metadata, "remainingItemCount", (double)options->remaining))
            return false;
    }
    return true;
}

char *table_render(const struct resource *resource, const cJSON *const *objects, size_t count,
                   const struct table_options *options)
{
    const struct printer *printer = printer_for(resource);
    cJSON *table = cJSON_CreateObject();
    if (!table) return NULL;
    bool ok = cJSON_AddStringToObject(table, "kind", "Table") &&
              cJSON_AddStringToObject(table, "apiVersion", "meta.k8s.io/v1") &&
              add_metadata(table, options);
    if (ok) {
        cJSON *columns = options->column_definitions ? column_definitions(resource, printer)
                                                     : cJSON_CreateNull();
        ok = columns && cJSON_AddItemToObject(table, "columnDefinitions", columns);
        if (!ok) cJSON_Delete(columns);
    }
    cJSON *rows = ok ? cJSON_AddArrayToObject(table, "rows") : NULL;
    ok = ok && rows;
    for (size_t i = 0; ok && i < count; i++) {
        cJSON *row = render_row(resource, printer, objects[i], options);
        ok = row && cJSON_AddItemToArray(rows, row);
        if (!ok) cJSON_Delete(row);
    }
    char *text = ok ? cJSON_PrintUnformatted(table) : NULL;
    cJSON_Delete(table);
    return text;
}

/* ---- the api_server hook ---- */

static bool renderer_accepts(void *data, const struct api_render_request *request,
                             const char **content_type)
{
    (void)data;
    if (!table_wanted(request->accept)) return false;
    *content_type = TABLE_CONTENT_TYPE;
    return true;
}

static int64_t renderer_now(void *data)
{
    const struct clock *clock = data ? data : clock_system();
    return clock_wall_ms(clock);
}

static char *render_one(void *data, const struct api_render_request *request,
                        struct store_object *object, bool column_definitions)
{
    struct table_options options = { .column_definitions = column_definitions, .remaining = -1,
                                     .now_ms = renderer_now(data) };
    if (!table_parse_include(request->include_object, &options.include)) return NULL;
    const cJSON *tree = store_object_tree(object);
    options.resource_version = text_at(field(tree, "metadata"), "resourceVersion");
    return table_render(request->resource, &tree, 1, &options);
}

static char *renderer_object(void *data, const struct api_render_request *request,
                             struct store_object *object)
{
    return render_one(data, request, object, true);
}

static char *renderer_watch_object(void *data, const struct api_render_request *request,
                                   struct store_object *object, bool first)
{
    return render_one(data, request, object, first);
}

static char *renderer_list(void *data, const struct api_render_request *request,
                           struct store_list *list)
{
    struct table_options options = { .column_definitions = true,
                                     .continue_token = list->continue_token,
                                     .remaining = list->remaining,
                                     .now_ms = renderer_now(data) };
    if (!table_parse_include(request->include_object, &options.include)) return NULL;
    char version[24];
    snprintf(version, sizeof version, "%" PRIu64, list->resource_version);
    options.resource_version = version;
    const cJSON **trees = calloc(list->count ? list->count : 1, sizeof *trees);
    if (!trees) return NULL;
    for (size_t i = 0; i < list->count; i++) trees[i] = store_object_tree(list->items[i]);
    char *text = table_render(request->resource, trees, list->count, &options);
    free(trees);
    return text;
}

struct api_renderer table_renderer(const struct clock *clock)
{
    struct api_renderer renderer = {
        .accepts = renderer_accepts,
        .list = renderer_list,
        .object = renderer_object,
        .watch_object = renderer_watch_object,
        /* The clock is only read; api_renderer's data is untyped. */
        .data = (void *)clock,
    };
    return renderer;
}
