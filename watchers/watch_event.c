#include "watchers/watch_event.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

const char *watch_event_type_name(enum watch_event_type type)
{
    if ((unsigned)type < sizeof type_names / sizeof type_names[0])
        return type_names[type];
    return "UNKNOWN";
}

static const char *string_member(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool fail(struct watch_event *out, char *error, size_t error_size, const char *why)
{
    if (error_size > 0)
        snprintf(error, error_size, "%s", why);
    memset(out, 0, sizeof *out);
    return false;
}

bool watch_event_decode(struct json_arena *arena, const char *line, size_t length,
                        struct watch_event *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    struct json_arena_result result;
    out->root = json_arena_parse(arena, line, length, &result);
    if (out->root == NULL) {
        char why[96];
        if (result.status == JSON_ARENA_SYNTAX)
            snprintf(why, sizeof why, "event is not valid JSON (at byte %zu)", result.error_offset);
        else
            snprintf(why, sizeof why, "event cannot be decoded: %s", json_arena_status_text(result.status));
        return fail(out, error, error_size, why);
    }
    if (!cJSON_IsObject(out->root))
        return fail(out, error, error_size, "event is not a JSON object");
    const char *type = string_member(out->root, "type");
    if (type == NULL)
        return fail(out, error, error_size, "event has no type");
    size_t t = 0;
    while (t < sizeof type_names / sizeof type_names[0] && strcmp(type, type_names[t]) != 0)
        t++;
    if (t == sizeof type_names / sizeof type_names[0])
        return fail(out, error, error_size, "event has an unknown type");
    out->type = (enum watch_event_type)t;
    out->object = cJSON_GetObjectItemCaseSensitive(out->root, "object");
    if (!cJSON_IsObject(out->object))
        return fail(out, error, error_size, "event has no object");
    if (out->type == WATCH_EVENT_ERROR) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(out->object, "code");
        out->error_code = cJSON_IsNumber(code) && code->valuedouble >= 0 &&
                                  code->valuedouble < 1000 ? (int)code->valuedouble : 0;
        const char *reason = string_member(out->object, "reason");
        const char *message = string_member(out->object, "message");
        out->error_reason = reason ? reason : "";
        out->error_message = message ? message : "";
        return true;
    }
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(out->object, "metadata");
    out->resource_version = cJSON_IsObject(metadata) ? string_member(metadata, "resourceVersion")
                                                     : NULL;
    if (out->resource_version == NULL || out->resource_version[0] == '\0')
        return fail(out, error, error_size, "event object has no metadata.resourceVersion");
    return true;
}
