/*
 * watch_event: decodes one line of a Kubernetes watch stream,
 * {"type":T,"object":O}, into its type and object.
 *
 * Input is untrusted: anything that is not a JSON object with a known type
 * and an object (with metadata.resourceVersion for every type but ERROR) is
 * refused with a message, never asserted on. An ERROR event carries a Status;
 * its code (410 for an expired resourceVersion), reason and message are
 * lifted out.
 *
 * Ownership: the event's tree lives in the caller's json_arena (parsed
 * there without a malloc per node); every pointer in the event borrows from
 * it and is valid until the caller resets or frees that arena.
 */
#ifndef WATCHERS_WATCH_EVENT_H
#define WATCHERS_WATCH_EVENT_H

#include "reactor/json_arena.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum watch_event_type {
    WATCH_EVENT_ADDED,
    WATCH_EVENT_MODIFIED,
    WATCH_EVENT_DELETED,
    WATCH_EVENT_BOOKMARK,
    WATCH_EVENT_ERROR,
};

struct watch_event {
    enum watch_event_type type;
    const cJSON *root;             /* in the caller's arena */
    const cJSON *object;           /* root's "object" */
    const char *resource_version;  /* object.metadata.resourceVersion; NULL for ERROR */
    int error_code;                /* ERROR: Status.code (0 if absent) */
    const char *error_reason;      /* ERROR: Status.reason or "" */
    const char *error_message;     /* ERROR: Status.message or "" */
};

/* Parses the line into `arena` (adding to what it holds). False on garbage,
 * with a one-line reason in `error` (NUL-terminated, truncated to
 * error_size); `out` is then left empty. */
bool watch_event_decode(struct json_arena *arena, const char *line, size_t length,
                        struct watch_event *out, char *error, size_t error_size);
const char *watch_event_type_name(enum watch_event_type type);

#endif
