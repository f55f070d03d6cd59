#include "reactor/json_arena.h"

#include "reactor/json_scan.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void json_arena_init(struct json_arena *arena)
{
    memset(arena, 0, sizeof *arena);
}

static void use_chunk(struct json_arena *arena, struct json_arena_chunk *chunk)
{
    arena->next = (char *)chunk->data;
    arena->end = (char *)chunk->data + chunk->size;
}

void json_arena_reset(struct json_arena *arena)
{
    struct json_arena_chunk *kept = NULL, *chunk = arena->chunks;
    while (chunk != NULL) {
        struct json_arena_chunk *next = chunk->next;
        if (kept == NULL && chunk->size == JSON_ARENA_CHUNK_BYTES) {
            kept = chunk;
            kept->next = NULL;
        } else {
            free(chunk);
        }
        chunk = next;
    }
    arena->chunks = kept;
    if (kept != NULL)
        use_chunk(arena, kept);
    else
        arena->next = arena->end = NULL;
}

void json_arena_free(struct json_arena *arena)
{
    json_arena_reset(arena);
    free(arena->chunks);
    json_arena_init(arena);
}

/* `size` bytes aligned to `align` (a power of two), or NULL. */
static void *allocate(struct json_arena *arena, size_t size, size_t align)
{
    uintptr_t at = ((uintptr_t)arena->next + (align - 1)) & ~(uintptr_t)(align - 1);
    if (arena->next == NULL || at + size > (uintptr_t)arena->end) {
        size_t bytes = size + align > JSON_ARENA_CHUNK_BYTES ? size + align : JSON_ARENA_CHUNK_BYTES;
        struct json_arena_chunk *chunk = malloc(sizeof *chunk + bytes);
        if (chunk == NULL)
            return NULL;
        chunk->size = bytes;
        chunk->next = arena->chunks;
        arena->chunks = chunk;
        use_chunk(arena, chunk);
        at = ((uintptr_t)arena->next + (align - 1)) & ~(uintptr_t)(align - 1);
    }
    arena->next = (char *)(at + size);
    return (void *)at;
}

/* --- the parser --- */

struct parser {
    struct json_arena *arena;
    const char *start;
    const char *p;
    const char *end;
    enum json_arena_status status;
    const char *error_at;
};

static void *fail_at(struct parser *parser, enum json_arena_status status, const char *at)
{
    if (parser->status == JSON_ARENA_OK) {
        parser->status = status;
        parser->error_at = at;
    }
    return NULL;
}

static cJSON *new_node(struct parser *parser, int type)
{
    cJSON *node = allocate(parser->arena, sizeof *node, _Alignof(cJSON));
    if (node == NULL)
        return fail_at(parser, JSON_ARENA_NO_MEMORY, parser->p);
    memset(node, 0, sizeof *node);
    node->type = type;
    return node;
}

static void skip_space(struct parser *parser)
{
    const char *p = parser->p;
    while (p < parser->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    parser->p = p;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (bounds checked by the caller); -1 when not. */
static long hex4(const char *p)
{
    long value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_digit(p[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

static char *put_utf8(char *out, unsigned long code)
{
    if (code < 0x80) {
        *out++ = (char)code;
    } else if (code < 0x800) {
        *out++ = (char)(0xc0 | (code >> 6));
        *out++ = (char)(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
        *out++ = (char)(0xe0 | (code >> 12));
        *out++ = (char)(0x80 | ((code >> 6) & 0x3f));
        *out++ = (char)(0x80 | (code & 0x3f));
    } else {
        *out++ = (char)(0xf0 | (code >> 18));
        *out++ = (char)(0x80 | ((code >> 12) & 0x3f));
        *out++ = (char)(0x80 | ((code >> 6) & 0x3f));
        *out++ = (char)(0x80 | (code & 0x3f));
    }
    return out;
}

/* Decodes the escapes of the raw string bytes [from, to) into `out`, which
 * has room for to - from bytes (an escape never decodes longer than it is
 * written). The end of what was written, or NULL (error recorded). */
static char *unescape(struct parser *parser, const char *from, const char *to, char *out)
{
    const char *p = from;
    while (p < to) {
        if (*p != '\\') {
            *out++ = *p++;
            continue;
        }
        p++; /* the backslash; the scan guaranteed a byte after it */
        switch (*p) {
        case '"': *out++ = '"'; p++; break;
        case '\\': *out++ = '\\'; p++; break;
        case '/': *out++ = '/'; p++; break;
        case 'b': *out++ = '\b'; p++; break;
        case 'f': *out++ = '\f'; p++; break;
        case 'n': *out++ = '\n'; p++; break;
        case 'r': *out++ = '\r'; p++; break;
        case 't': *out++ = '\t'; p++; break;
        case 'u': {
            long code = to - p >= 5 ? hex4(p + 1) : -1;
            if (code < 0)
                return fail_at(parser, JSON_ARENA_SYNTAX, p);
            p += 5;
            if (code >= 0xdc00 && code <= 0xdfff)
                return fail_at(parser, JSON_ARENA_SYNTAX, p - 6); /* a lone low surrogate */
            if (code >= 0xd800 && code <= 0xdbff) {
                long low = to - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
                if (low < 0xdc00 || low > 0xdfff)
                    return fail_at(parser, JSON_ARENA_SYNTAX, p - 6); /* an unpaired high one */
                p += 6;
                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            }
            out = put_utf8(out, (unsigned long)code);
            break;
        }
        default:
            return fail_at(parser, JSON_ARENA_SYNTAX, p - 1);
        }
    }
    return out;
}

/* A string from the opening quote at parser->p: its decoded, NUL-terminated
 * copy in the arena; the parser moves past the closing quote. */
static char *parse_string(struct parser *parser)
{
    const char *from = parser->p + 1, *p = from, *end = parser->end;
    bool escaped = false;
    for (;;) {
        p = json_scan_string_run(p, end);
        if (p == end)
            return fail_at(parser, JSON_ARENA_SYNTAX, p);
        if (*p == '"')
            break;
        if (*p != '\\')
            return fail_at(parser, JSON_ARENA_SYNTAX, p); /* a raw control character */
        escaped = true;
        if (++p == end)
            return fail_at(parser, JSON_ARENA_SYNTAX, p);
        if ((unsigned char)*p < 0x20)
            return fail_at(parser, JSON_ARENA_SYNTAX, p);
        p++;
    }
    size_t raw = (size_t)(p - from);
    char *text = allocate(parser->arena, raw + 1, 1);
    if (text == NULL)
        return fail_at(parser, JSON_ARENA_NO_MEMORY, from);
    char *stop;
    if (!escaped) {
        memcpy(text, from, raw);
        stop = text + raw;
    } else if ((stop = unescape(parser, from, p, text)) == NULL) {
        return NULL;
    }
    *stop = '\0';
    parser->p = p + 1;
    return text;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static cJSON *parse_number(struct parser *parser)
{
    const char *start = parser->p, *p = start, *end = parser->end;
    bool negative = false, integer = true;
    if (p < end && *p == '-') {
        negative = true;
        p++;
    }
    if (p == end || !is_digit(*p))
        return fail_at(parser, JSON_ARENA_SYNTAX, p);
    uint64_t magnitude = 0;
    int digits = 0;
    if (*p == '0') {
        p++;
        digits = 1;
    } else {
        while (p < end && is_digit(*p)) {
            if (digits < 19)
                magnitude = magnitude * 10 + (uint64_t)(*p - '0');
            digits++;
            p++;
        }
    }
    if (p < end && *p == '.') {
        integer = false;
        p++;
        if (p == end || !is_digit(*p))
            return fail_at(parser, JSON_ARENA_SYNTAX, p);
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return fail_at(parser, JSON_ARENA_SYNTAX, p);
        while (p < end && is_digit(*p))
            p++;
    }
    double number;
    if (integer && digits <= 15) {
        /* Exact in a double: no strtod needed. */
        number = negative ? -(double)magnitude : (double)magnitude;
    } else {
        char small[64];
        size_t length = (size_t)(p - start);
        char *copy = length < sizeof small ? small : allocate(parser->arena, length + 1, 1);
        if (copy == NULL)
            return fail_at(parser, JSON_ARENA_NO_MEMORY, start);
        memcpy(copy, start, length);
        copy[length] = '\0';
        number = strtod(copy, NULL);
    }
    cJSON *node = new_node(parser, cJSON_Number);
    if (node == NULL)
        return NULL;
    node->valuedouble = number;
    if (number >= INT_MAX)
        node->valueint = INT_MAX;
    else if (number <= (double)INT_MIN)
        node->valueint = INT_MIN;
    else
        node->valueint = (int)number;
    parser->p = p;
    return node;
}

static cJSON *parse_literal(struct parser *parser, const char *word, size_t length, int type)
{
    if ((size_t)(parser->end - parser->p) < length || memcmp(parser->p, word, length) != 0)
        return fail_at(parser, JSON_ARENA_SYNTAX, parser->p);
    cJSON *node = new_node(parser, type);
    if (node == NULL)
        return NULL;
    if (type == cJSON_True)
        node->valueint = 1;
    parser->p += length;
    return node;
}

static cJSON *parse_value(struct parser *parser, int depth);

/* Appends `item` to the children of `parent` (cJSON's shape: the first
 * child's prev is the last child). */
static void append(cJSON *parent, cJSON **last, cJSON *item)
{
    if (*last == NULL) {
        parent->child = item;
    } else {
        (*last)->next = item;
        item->prev = *last;
    }
    *last = item;
    parent->child->prev = item;
}

/* An array or object from its opening bracket at parser->p. */
static cJSON *parse_container(struct parser *parser, int depth, bool object)
{
    if (depth >= JSON_ARENA_MAX_DEPTH)
        return fail_at(parser, JSON_ARENA_TOO_DEEP, parser->p);
    cJSON *node = new_node(parser, object ? cJSON_Object : cJSON_Array);
    if (node == NULL)
        return NULL;
    char close = object ? '}' : ']';
    parser->p++;
    skip_space(parser);
    if (parser->p < parser->end && *parser->p == close) {
        parser->p++;
        return node;
    }
    cJSON *last = NULL;
    for (;;) {
        char *key = NULL;
        if (object) {
            if (parser->p == parser->end || *parser->p != '"')
                return fail_at(parser, JSON_ARENA_SYNTAX, parser->p);
            if ((key = parse_string(parser)) == NULL)
                return NULL;
            skip_space(parser);
            if (parser->p == parser->end || *parser->p != ':')
                return fail_at(parser, JSON_ARENA_SYNTAX, parser->p);
            parser->p++;
            skip_space(parser);
        }
        cJSON *item = parse_value(parser, depth + 1);
        if (item == NULL)
            return NULL;
        item->string = key;
        append(node, &last, item);
        skip_space(parser);
        if (parser->p == parser->end)
            return fail_at(parser, JSON_ARENA_SYNTAX, parser->p);
        if (*parser->p == close) {
            parser->p++;
            return node;
        }
        if (*parser->p != ',')
            return fail_at(parser, JSON_ARENA_SYNTAX, parser->p);
        parser->p++;
        skip_space(parser);
    }
}

/* A value at parser->p (no whitespace before it). */
static cJSON *parse_value(struct parser *parser, int depth)
{
    if (parser->p == parser->end)
        return fail_at(parser, JSON_ARENA_SYNTAX, parser->p);
    switch (*parser->p) {
    case '{':
        return parse_container(parser, depth, true);
    case '[':
        return parse_container(parser, depth, false);
    case '"': {
        cJSON *node = new_node(parser, cJSON_String);
        if (node == NULL || (node->valuestring = parse_string(parser)) == NULL)
            return NULL;
        return node;
    }
    case 't':
        return parse_literal(parser, "true", 4, cJSON_True);
    case 'f':
        return parse_literal(parser, "false", 5, cJSON_False);
    case 'n':
        return parse_literal(parser, "null", 4, cJSON_NULL);
    default:
        return parse_number(parser);
    }
}

const cJSON *json_arena_parse(struct json_arena *arena, const char *text, size_t length,
                              struct json_arena_result *result)
{
    struct parser parser = {
        .arena = arena, .start = text, .p = text, .end = text + length,
        .status = JSON_ARENA_OK,
    };
    skip_space(&parser);
    cJSON *value = parse_value(&parser, 0);
    if (value != NULL) {
        skip_space(&parser);
        if (parser.p != parser.end)
            value = fail_at(&parser, JSON_ARENA_SYNTAX, parser.p);
    }
    if (result != NULL) {
        result->status = parser.status;
        result->error_offset = value == NULL && parser.error_at != NULL
                                   ? (size_t)(parser.error_at - text) : 0;
    }
    return value;
}

const char *json_arena_status_text(enum json_arena_status status)
{
    switch (status) {
    case JSON_ARENA_OK: return "ok";
    case JSON_ARENA_SYNTAX: return "not valid JSON";
    case JSON_ARENA_TOO_DEEP: return "JSON nested too deeply";
    case JSON_ARENA_NO_MEMORY: return "out of memory";
    }
    return "unknown";
}
