#include "test/sim/schema.h"

#include "reactor/buffer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct walk {
    schema_report_fn report;
    void *data;
    size_t count;
    struct buffer path;   /* "spec.tikv.replicas", "spec.pdAddresses[0]" */
};

static const cJSON *member(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

static bool flag(const cJSON *schema, const char *name)
{
    return cJSON_IsTrue(member(schema, name));
}

/* The JSON type name the API server prints for a value. */
static const char *json_type(const cJSON *value)
{
    if (cJSON_IsObject(value)) return "object";
    if (cJSON_IsArray(value)) return "array";
    if (cJSON_IsString(value)) return "string";
    if (cJSON_IsBool(value)) return "boolean";
    if (cJSON_IsNumber(value)) return value->valuedouble == floor(value->valuedouble) ? "integer" : "number";
    return "null";
}

static void report(struct walk *walk, const char *reason, const char *message)
{
    walk->count++;
    walk->report(walk->data, walk->path.length ? buffer_string(&walk->path) : "<root>", reason, message);
}

static bool type_matches(const char *type, const cJSON *value)
{
    if (strcmp(type, "object") == 0) return cJSON_IsObject(value);
    if (strcmp(type, "array") == 0) return cJSON_IsArray(value);
    if (strcmp(type, "string") == 0) return cJSON_IsString(value);
    if (strcmp(type, "boolean") == 0) return cJSON_IsBool(value);
    if (strcmp(type, "number") == 0) return cJSON_IsNumber(value);
    if (strcmp(type, "integer") == 0)
        return cJSON_IsNumber(value) && value->valuedouble == floor(value->valuedouble);
    return true; /* a type this subset does not know: not judged */
}

/* `"a", "b"` of an enum, for the message. */
static void enum_text(const cJSON *choices, struct buffer *out)
{
    const cJSON *choice;
    bool first = true;
    cJSON_ArrayForEach(choice, choices) {
        char *text = cJSON_PrintUnformatted(choice);
        if (text) buffer_append_format(out, "%s%s", first ? "" : ", ", text);
        free(text);
        first = false;
    }
}

static void check(struct walk *walk, const cJSON *schema, const cJSON *value, int depth);

static void check_child(struct walk *walk, const cJSON *schema, const cJSON *value, const char *key, int index,
                        int depth)
{
    size_t mark = walk->path.length;
    if (key) buffer_append_format(&walk->path, "%s%s", mark ? "." : "", key);
    else buffer_append_format(&walk->path, "[%d]", index);
    check(walk, schema, value, depth + 1);
    walk->path.length = mark;
    if (walk->path.data) walk->path.data[mark] = '\0';
}

static void check(struct walk *walk, const cJSON *schema, const cJSON *value, int depth)
{
    if (!cJSON_IsObject(schema) || depth > MAX_DEPTH) return;
    if (cJSON_IsNull(value)) return; /* pruned by the API server unless nullable: fine either way */
    const char *type = cJSON_IsString(member(schema, "type")) ? member(schema, "type")->valuestring : NULL;
    if (flag(schema, "x-kubernetes-int-or-string")) {
        if (!cJSON_IsString(value) && !type_matches("integer", value)) {
            char message[512];
            snprintf(message, sizeof message,
                     "Invalid value: \"%s\": %s in body must be of type integer,string: \"%s\"", json_type(value),
                     buffer_string(&walk->path), json_type(value));
            report(walk, "FieldValueTypeInvalid", message);
        }
        return;
    }
    if (type && !type_matches(type, value)) {
        char message[512];
        snprintf(message, sizeof message, "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
                 json_type(value), buffer_string(&walk->path), type, json_type(value));
        report(walk, "FieldValueTypeInvalid", message);
        return;
    }
    const cJSON *choices = member(schema, "enum");
    if (cJSON_IsArray(choices) && cJSON_GetArraySize(choices) > 0) {
        bool allowed = false;
        const cJSON *choice;
        cJSON_ArrayForEach(choice, choices) allowed = allowed || cJSON_Compare(choice, value, true);
        if (!allowed) {
            struct buffer message = { 0 };
            char *shown = cJSON_PrintUnformatted(value);
            buffer_append_format(&message, "Unsupported value: %s: supported values: ", shown ? shown : "?");
            free(shown);
            enum_text(choices, &message);
            report(walk, "FieldValueNotSupported", buffer_string(&message));
            buffer_free(&message);
        }
    }
    if (cJSON_IsObject(value)) {
        const cJSON *required;
        cJSON_ArrayForEach(required, member(schema, "required")) {
            if (!cJSON_IsString(required) || member(value, required->valuestring)) continue;
            size_t mark = walk->path.length;
            buffer_append_format(&walk->path, "%s%s", mark ? "." : "", required->valuestring);
            report(walk, "FieldValueRequired", "Required value");
            walk->path.length = mark;
            if (walk->path.data) walk->path.data[mark] = '\0';
        }
        const cJSON *properties = member(schema, "properties");
        const cJSON *additional = member(schema, "additionalProperties");
        const cJSON *field;
        cJSON_ArrayForEach(field, value) {
            if (depth == 0 && (strcmp(field->string, "metadata") == 0 || strcmp(field->string, "status") == 0 ||
                               strcmp(field->string, "apiVersion") == 0 || strcmp(field->string, "kind") == 0))
                continue;
            const cJSON *sub = member(properties, field->string);
            if (!sub && cJSON_IsObject(additional)) sub = additional;
            if (sub) check_child(walk, sub, field, field->string, 0, depth);
        }
    } else if (cJSON_IsArray(value)) {
        const cJSON *items = member(schema, "items");
        int index = 0;
        const cJSON *item;
        cJSON_ArrayForEach(item, value) check_child(walk, items, item, NULL, index++, depth);
    }
}

size_t schema_validate_object(const cJSON *schema, const cJSON *value, schema_report_fn report_fn, void *data)
{
    struct walk walk = { .report = report_fn, .data = data };
    check(&walk, schema, value, 0);
    buffer_free(&walk.path);
    return walk.count;
}
