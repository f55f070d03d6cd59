#include "watchers/list_framer.h"

#include "reactor/json_scan.h"

#include <cjson/cJSON.h>
#include <string.h>

#define DEFAULT_MAX_VALUE (16u << 20)

enum {
    S_START,         /* before the top-level '{' */
    S_OPEN,          /* after '{': a key or '}' */
    S_KEY_NEXT,      /* after ',': a key */
    S_KEY,           /* inside a key's string */
    S_COLON,         /* after a key */
    S_VALUE,         /* after ':' */
    S_AFTER_MEMBER,  /* ',' or '}' */
    S_ITEMS_FIRST,   /* after "items":[ : an element or ']' */
    S_ITEMS_NEXT,    /* after ',' in items: an element */
    S_AFTER_ITEM,    /* ',' or ']' */
    S_IN_VALUE,      /* inside a member's value or an element */
    S_DONE,          /* the top-level object has closed */
};

enum { V_CONTAINER, V_STRING, V_SCALAR };

/* Bytes that matter outside strings inside a container value. */
static const unsigned char structural[256] = {
    ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1,
};
/* Bytes that end a bare scalar (number, true, false, null). */
static const unsigned char scalar_end[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, [']'] = 1, ['}'] = 1,
    ['{'] = 1, ['['] = 1, ['"'] = 1, [':'] = 1,
};

void list_framer_init(struct list_framer *framer, size_t max_value_bytes)
{
    memset(framer, 0, sizeof *framer);
    framer->max_value_bytes = max_value_bytes ? max_value_bytes : DEFAULT_MAX_VALUE;
    framer->state = S_START;
}

void list_framer_free(struct list_framer *framer)
{
    buffer_free(&framer->key);
    buffer_free(&framer->value);
}

void list_framer_reset(struct list_framer *framer)
{
    size_t max = framer->max_value_bytes;
    struct buffer key = framer->key, value = framer->value;
    buffer_clear(&key);
    buffer_clear(&value);
    memset(framer, 0, sizeof *framer);
    framer->key = key;
    framer->value = value;
    framer->max_value_bytes = max;
    framer->state = S_START;
}

bool list_framer_done(const struct list_framer *framer)
{
    return framer->status == LIST_FRAMER_OK && framer->state == S_DONE;
}

const char *list_framer_status_text(enum list_framer_status status)
{
    switch (status) {
    case LIST_FRAMER_OK: return "ok";
    case LIST_FRAMER_STOPPED: return "stopped";
    case LIST_FRAMER_BAD: return "not a JSON object";
    case LIST_FRAMER_TOO_LARGE: return "value too large";
    case LIST_FRAMER_NO_MEMORY: return "out of memory";
    }
    return "unknown";
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The key is complete: decode it when it had escapes. False on a bad key
 * or no memory (status set). */
static bool finish_key(struct list_framer *framer)
{
    if (!framer->key_escaped)
        return true;
    struct buffer quoted = {0};
    bool ok = buffer_append(&quoted, "\"", 1) &&
              buffer_append(&quoted, framer->key.data, framer->key.length) &&
              buffer_append(&quoted, "\"", 1);
    if (!ok) {
        buffer_free(&quoted);
        framer->status = LIST_FRAMER_NO_MEMORY;
        return false;
    }
    cJSON *decoded = cJSON_ParseWithLength(quoted.data, quoted.length);
    buffer_free(&quoted);
    if (!cJSON_IsString(decoded)) {
        cJSON_Delete(decoded);
        framer->status = LIST_FRAMER_BAD;
        return false;
    }
    buffer_clear(&framer->key);
    ok = buffer_append_string(&framer->key, decoded->valuestring);
    cJSON_Delete(decoded);
    if (!ok)
        framer->status = LIST_FRAMER_NO_MEMORY;
    return ok;
}

/* Starts a value at *p (not whitespace), whose first byte the caller then
 * skips. False on a byte no value starts with. */
static bool begin_value(struct list_framer *framer, const char *p, bool item)
{
    framer->in_items = item;
    framer->in_string = framer->escape = false;
    framer->depth = 0;
    buffer_clear(&framer->value);
    switch (*p) {
    case '{':
    case '[':
        framer->value_kind = V_CONTAINER;
        framer->depth = 1;
        break;
    case '"':
        framer->value_kind = V_STRING;
        break;
    case ',':
    case ':':
    case ']':
    case '}':
        framer->status = LIST_FRAMER_BAD;
        return false;
    default:
        framer->value_kind = V_SCALAR;
        break;
    }
    framer->state = S_IN_VALUE;
    return true;
}

/* Scans on inside a string from `p` (its opening quote is behind; a
 * pending backslash is in framer->escape). Returns one past the closing
 * quote, or NULL when the string goes on past `end` (the escape state is
 * kept for the next bytes). */
static const char *scan_string_rest(struct list_framer *framer, const char *p, const char *end)
{
    for (;;) {
        if (framer->escape) {
            if (p == end)
                return NULL;
            framer->escape = false;
            p++;
        }
        p = json_scan_quote_or_backslash(p, end);
        if (p == end)
            return NULL;
        if (*p == '"')
            return p + 1;
        framer->escape = true;
        p++;
    }
}

/* Scans a value on from `p` (its first byte is behind). Returns where the
 * value ends (one past its last byte), or NULL when it goes on past `end`. */
static const char *scan_value(struct list_framer *framer, const char *p, const char *end)
{
    switch (framer->value_kind) {
    case V_SCALAR:
        while (p < end && !scalar_end[(unsigned char)*p])
            p++;
        return p < end ? p : NULL;
    case V_STRING:
        return scan_string_rest(framer, p, end);
    default:
        for (;;) {
            if (framer->in_string) {
                if ((p = scan_string_rest(framer, p, end)) == NULL)
                    return NULL;
                framer->in_string = false;
                continue;
            }
            while (p < end && !structural[(unsigned char)*p])
                p++;
            if (p == end)
                return NULL;
            switch (*p++) {
            case '"':
                framer->in_string = true;
                break;
            case '{':
            case '[':
                framer->depth++;
                break;
            default: /* '}' or ']' */
                if (--framer->depth == 0)
                    return p;
                break;
            }
        }
    }
}

static bool deliver(struct list_framer *framer, const char *text, size_t length,
                    const struct list_framer_callbacks *cb)
{
    bool go_on;
    if (framer->in_items)
        go_on = cb->on_item == NULL || cb->on_item(cb->data, text, length);
    else
        go_on = cb->on_member == NULL ||
                cb->on_member(cb->data, buffer_string(&framer->key), text, length);
    if (!go_on)
        framer->status = LIST_FRAMER_STOPPED;
    return go_on;
}

/* The value that began at `start` (or in the buffer) ends at `stop`. */
static bool complete_value(struct list_framer *framer, const char *start, const char *stop,
                           const struct list_framer_callbacks *cb)
{
    size_t piece = (size_t)(stop - start);
    framer->state = framer->in_items ? S_AFTER_ITEM : S_AFTER_MEMBER;
    if (framer->value.length + piece > framer->max_value_bytes) {
        framer->status = LIST_FRAMER_TOO_LARGE;
        return false;
    }
    if (framer->value.length == 0)
        return deliver(framer, start, piece, cb);
    if (!buffer_append(&framer->value, start, piece)) {
        framer->status = LIST_FRAMER_NO_MEMORY;
        return false;
    }
    bool go_on = deliver(framer, framer->value.data, framer->value.length, cb);
    /* One huge value must not pin its buffer for the rest of the body. */
    if (framer->value.capacity > (1u << 20))
        buffer_free(&framer->value);
    else
        buffer_clear(&framer->value);
    return go_on;
}

static bool is_items(const struct list_framer *framer)
{
    return framer->key.length == 5 && memcmp(framer->key.data, "items", 5) == 0;
}

enum list_framer_status list_framer_feed(struct list_framer *framer, const char *data,
                                         size_t length, const struct list_framer_callbacks *cb)
{
    if (framer->status != LIST_FRAMER_OK)
        return framer->status;
    const char *p = data, *end = data + length;
    const char *start = p; /* where the value in progress began in this chunk */
    while (p < end) {
        switch (framer->state) {
        case S_DONE:
            return LIST_FRAMER_OK;
        case S_IN_VALUE: {
            const char *stop = scan_value(framer, p, end);
            if (stop == NULL) {
                p = end;
                break;
            }
            if (!complete_value(framer, start, stop, cb))
                return framer->status;
            p = stop;
            break;
        }
        case S_KEY: {
            const char *from = p;
            while (p < end) {
                if (framer->escape) {
                    framer->escape = false;
                } else if (*p == '\\') {
                    framer->escape = framer->key_escaped = true;
                } else if (*p == '"') {
                    break;
                }
                p++;
            }
            if (framer->key.length + (size_t)(p - from) > framer->max_value_bytes) {
                framer->status = LIST_FRAMER_TOO_LARGE;
                return framer->status;
            }
            if (!buffer_append(&framer->key, from, (size_t)(p - from))) {
                framer->status = LIST_FRAMER_NO_MEMORY;
                return framer->status;
            }
            if (p < end) {
                p++; /* the closing quote */
                if (!finish_key(framer))
                    return framer->status;
                framer->state = S_COLON;
            }
            break;
        }
        default: {
            p = skip_space(p, end);
            if (p == end)
                break;
            char c = *p;
            int state = framer->state;
            bool bad = false;
            if (state == S_START) {
                bad = c != '{';
                framer->state = S_OPEN;
                p++;
            } else if (state == S_OPEN || state == S_KEY_NEXT) {
                if (c == '"') {
                    buffer_clear(&framer->key);
                    framer->escape = framer->key_escaped = false;
                    framer->state = S_KEY;
                } else if (c == '}' && state == S_OPEN) {
                    framer->state = S_DONE;
                } else {
                    bad = true;
                }
                p++;
            } else if (state == S_COLON) {
                bad = c != ':';
                framer->state = S_VALUE;
                p++;
            } else if (state == S_VALUE) {
                if (c == '[' && is_items(framer)) {
                    framer->state = S_ITEMS_FIRST;
                    p++;
                } else {
                    bad = !begin_value(framer, p, false);
                    start = p++;
                }
            } else if (state == S_AFTER_MEMBER) {
                if (c == ',')
                    framer->state = S_KEY_NEXT;
                else if (c == '}')
                    framer->state = S_DONE;
                else
                    bad = true;
                p++;
            } else if (state == S_ITEMS_FIRST && c == ']') {
                framer->state = S_AFTER_MEMBER;
                p++;
            } else if (state == S_ITEMS_FIRST || state == S_ITEMS_NEXT) {
                bad = !begin_value(framer, p, true);
                start = p++;
            } else { /* S_AFTER_ITEM */
                if (c == ',')
                    framer->state = S_ITEMS_NEXT;
                else if (c == ']')
                    framer->state = S_AFTER_MEMBER;
                else
                    bad = true;
                p++;
            }
            if (bad) {
                framer->status = LIST_FRAMER_BAD;
                return framer->status;
            }
            break;
        }
        }
    }
    if (framer->state == S_IN_VALUE) {
        /* The value goes on in the next chunk: keep what came of it. */
        size_t piece = (size_t)(end - start);
        if (framer->value.length + piece > framer->max_value_bytes) {
            framer->status = LIST_FRAMER_TOO_LARGE;
            return framer->status;
        }
        if (!buffer_append(&framer->value, start, piece)) {
            framer->status = LIST_FRAMER_NO_MEMORY;
            return framer->status;
        }
    }
    return LIST_FRAMER_OK;
}
