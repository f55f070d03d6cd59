/*
 * json_arena: parses JSON text into read-only cJSON trees whose nodes and
 * strings live in an arena, for decoders that read a tree once and drop it
 * (list items and watch events: thousands per second).
 *
 * A tree from json_arena_parse has cJSON's exact shape (type, child, next,
 * prev with the first child's prev at the last child, string keys,
 * valuestring, valuedouble, valueint saturated as cJSON does), so every
 * cJSON read function works on it. It is read-only: never cJSON_Delete it,
 * never detach its items or add them to another tree (copy with
 * cJSON_Duplicate instead, which allocates with cJSON's own hooks).
 *
 * The grammar is RFC 8259's, strictly: whitespace is space, tab, CR, LF;
 * no control characters inside strings; \u escapes must pair surrogates;
 * numbers as JSON writes them (no leading zeros, no "1.", no "+1"); nesting
 * deeper than JSON_ARENA_MAX_DEPTH is refused. For valid JSON the tree
 * equals cJSON_ParseWithLength's node for node, which the tests check on
 * random documents; it never accepts what cJSON refuses.
 *
 * Ownership: the caller owns `struct json_arena` (embed it). Every tree
 * parsed in it stays valid until json_arena_reset or json_arena_free; reset
 * keeps one chunk of memory for the next parse, so a steady stream of
 * similar values allocates nothing.
 */
#ifndef REACTOR_JSON_ARENA_H
#define REACTOR_JSON_ARENA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_ARENA_MAX_DEPTH 1000
#define JSON_ARENA_CHUNK_BYTES ((size_t)64 << 10)

struct json_arena_chunk {
    struct json_arena_chunk *next;
    size_t size;
    max_align_t data[];
};

struct json_arena {
    struct json_arena_chunk *chunks;  /* newest first */
    char *next;                       /* free space in the newest chunk */
    char *end;
};

enum json_arena_status {
    JSON_ARENA_OK,
    JSON_ARENA_SYNTAX,     /* not one JSON value (error_offset says where) */
    JSON_ARENA_TOO_DEEP,   /* nested deeper than JSON_ARENA_MAX_DEPTH */
    JSON_ARENA_NO_MEMORY,
};

struct json_arena_result {
    enum json_arena_status status;
    size_t error_offset;   /* byte offset of the first offending byte */
};

void json_arena_init(struct json_arena *arena);
/* Drops every tree parsed so far (their pointers become invalid). */
void json_arena_reset(struct json_arena *arena);
void json_arena_free(struct json_arena *arena);

/* Parses exactly the `length` bytes at `text` (surrounding whitespace
 * allowed) as one JSON value. The tree, or NULL with the reason in
 * *result (which may be NULL when the caller does not need it). The text
 * need not be NUL-terminated and is not referenced after the call. */
const cJSON *json_arena_parse(struct json_arena *arena, const char *text, size_t length,
                              struct json_arena_result *result);

const char *json_arena_status_text(enum json_arena_status status);

#endif
