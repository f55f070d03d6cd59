#include "reconcilers/api/toml_check.h"

#include "reactor/buffer.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the key tree: what has been defined so far, and how ---- */

enum node_kind { NODE_TABLE, NODE_ARRAY_OF_TABLES, NODE_VALUE };

struct node {
    char *name;
    enum node_kind kind;
    bool header;       /* a table defined by its own [header] */
    bool dotted;       /* a table created by a dotted key */
    bool sealed;       /* an inline table or a static array: closed for good */
    bool static_array;
    struct node *children; /* members; for an array of tables its elements, newest first */
    struct node *next;
};

static void node_free(struct node *node)
{
    while (node) {
        struct node *next = node->next;
        node_free(node->children);
        free(node->name);
        free(node);
        node = next;
    }
}

static struct node *node_find(const struct node *table, const char *name)
{
    for (struct node *child = table->children; child; child = child->next)
        if (strcmp(child->name, name) == 0)
            return child;
    return NULL;
}

/* ---- the scanner ---- */

/* Arrays and inline tables nested deeper than this are refused rather than
 * risking the stack on hostile input. */
#define MAX_DEPTH 64
#define MAX_KEY_PARTS 64

struct parser {
    const char *p;
    const char *end;
    int line;
    int column;
    int depth;
    bool failed;
    struct toml_error *error;
};

struct key {
    char *parts[MAX_KEY_PARTS];
    size_t count;
    int line;
    int column;
};

static void key_clear(struct key *key)
{
    for (size_t i = 0; i < key->count; i++)
        free(key->parts[i]);
    key->count = 0;
}

static bool fail_at(struct parser *ps, int line, int column, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail_at(struct parser *ps, int line, int column, const char *format, ...)
{
    if (ps->failed)
        return false;
    ps->failed = true;
    if (ps->error) {
        ps->error->line = line;
        ps->error->column = column;
        va_list args;
        va_start(args, format);
        vsnprintf(ps->error->message, sizeof ps->error->message, format, args);
        va_end(args);
    }
    return false;
}

#define fail(ps, ...) fail_at((ps), (ps)->line, (ps)->column, __VA_ARGS__)

static int peek(const struct parser *ps, size_t offset)
{
    return (size_t)(ps->end - ps->p) > offset ? (unsigned char)ps->p[offset] : -1;
}

static bool at_end(const struct parser *ps) { return ps->p >= ps->end; }

static void advance(struct parser *ps)
{
    unsigned char c = (unsigned char)*ps->p++;
    if (c == '\n') {
        ps->line++;
        ps->column = 1;
    } else if ((c & 0xC0) != 0x80) {
        ps->column++;
    }
}

static void advance_by(struct parser *ps, size_t count)
{
    while (count-- > 0 && !at_end(ps))
        advance(ps);
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_bare(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}
static bool is_control(int c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F; }

static void skip_ws(struct parser *ps)
{
    while (peek(ps, 0) == ' ' || peek(ps, 0) == '\t')
        advance(ps);
}

static bool at_newline(const struct parser *ps)
{
    return peek(ps, 0) == '\n' || (peek(ps, 0) == '\r' && peek(ps, 1) == '\n');
}

static void skip_newline(struct parser *ps)
{
    if (peek(ps, 0) == '\r')
        advance(ps);
    advance(ps);
}

/* One UTF-8 encoded character at the cursor (its first byte is >= 0x80):
 * validates and consumes it, appending it to `out` if given. */
static bool take_utf8(struct parser *ps, struct buffer *out)
{
    int c = peek(ps, 0);
    size_t length;
    uint32_t code;
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
        code = (uint32_t)c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        code = (uint32_t)c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        code = (uint32_t)c & 0x07;
    } else {
        return fail(ps, "invalid UTF-8");
    }
    for (size_t i = 1; i < length; i++) {
        int next = peek(ps, i);
        if (next < 0 || (next & 0xC0) != 0x80)
            return fail(ps, "invalid UTF-8");
        code = (code << 6) | ((uint32_t)next & 0x3F);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (length == 4 && (code < 0x10000 || code > 0x10FFFF)))
        return fail(ps, "invalid UTF-8");
    if (out && !buffer_append(out, ps->p, length))
        return fail(ps, "out of memory");
    advance_by(ps, length);
    return true;
}

/* A comment from '#' to the end of the line (the newline is left). */
static bool skip_comment(struct parser *ps)
{
    if (peek(ps, 0) != '#')
        return true;
    advance(ps);
    while (!at_end(ps) && peek(ps, 0) != '\n') {
        int c = peek(ps, 0);
        if (c == '\r' && peek(ps, 1) == '\n')
            break;
        if (c >= 0x80) {
            if (!take_utf8(ps, NULL))
                return false;
            continue;
        }
        if (is_control(c))
            return fail(ps, "control character in comment");
        advance(ps);
    }
    return true;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static bool skip_ws_comments_newlines(struct parser *ps)
{
    for (;;) {
        skip_ws(ps);
        if (peek(ps, 0) == '#') {
            if (!skip_comment(ps))
                return false;
        } else if (at_newline(ps)) {
            skip_newline(ps);
        } else if (peek(ps, 0) == '\r') {
            return fail(ps, "carriage return without a newline");
        } else {
            return true;
        }
    }
}

/* After a key/value pair or a header: only a comment may follow on the line. */
static bool expect_line_end(struct parser *ps, const char *after)
{
    skip_ws(ps);
    if (!skip_comment(ps))
        return false;
    if (at_end(ps))
        return true;
    if (at_newline(ps)) {
        skip_newline(ps);
        return true;
    }
    if (peek(ps, 0) == '\r')
        return fail(ps, "carriage return without a newline");
    return fail(ps, "expected a newline after %s", after);
}

/* ---- strings ---- */

static bool append_code_point(struct buffer *out, uint32_t code)
{
    char bytes[4];
    size_t length;
    if (code < 0x80) {
        bytes[0] = (char)code;
        length = 1;
    } else if (code < 0x800) {
        bytes[0] = (char)(0xC0 | (code >> 6));
        bytes[1] = (char)(0x80 | (code & 0x3F));
        length = 2;
    } else if (code < 0x10000) {
        bytes[0] = (char)(0xE0 | (code >> 12));
        bytes[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        bytes[2] = (char)(0x80 | (code & 0x3F));
        length = 3;
    } else {
        bytes[0] = (char)(0xF0 | (code >> 18));
        bytes[1] = (char)(0x80 | ((code >> 12) & 0x3F));
        bytes[2] = (char)(0x80 | ((code >> 6) & 0x3F));
        bytes[3] = (char)(0x80 | (code & 0x3F));
        length = 4;
    }
    return buffer_append(out, bytes, length);
}

/* An escape sequence at the cursor ('\\' not yet consumed). */
static bool take_escape(struct parser *ps, struct buffer *out)
{
    int line = ps->line, column = ps->column;
    advance(ps);
    int c = peek(ps, 0);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case 'u':
    case 'U': {
        size_t digits = c == 'u' ? 4 : 8;
        uint32_t code = 0;
        for (size_t i = 1; i <= digits; i++) {
            int h = peek(ps, i);
            if (!is_hex(h))
                return fail_at(ps, line, column, "\\%c needs %zu hexadecimal digits", c, digits);
            code = code * 16 + (uint32_t)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return fail_at(ps, line, column, "escape is not a Unicode scalar value");
        advance_by(ps, digits + 1);
        if (out && !append_code_point(out, code))
            return fail(ps, "out of memory");
        return true;
    }
    default:
        return fail_at(ps, line, column, "invalid escape sequence");
    }
    advance(ps);
    if (out && !buffer_append_string(out, simple))
        return fail(ps, "out of memory");
    return true;
}

/* A string of any of the four kinds; its decoded value goes to `out` if given. */
static bool parse_string(struct parser *ps, struct buffer *out, bool multiline_allowed)
{
    int line = ps->line, column = ps->column;
    char quote = (char)peek(ps, 0);
    bool literal = quote == '\'';
    bool multiline = peek(ps, 1) == quote && peek(ps, 2) == quote;
    if (multiline && !multiline_allowed)
        return fail(ps, "a multi-line string cannot be a key");
    advance_by(ps, multiline ? 3 : 1);
    if (multiline && at_newline(ps))
        skip_newline(ps); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        if (at_end(ps))
            return fail_at(ps, line, column, "unterminated string");
        int c = peek(ps, 0);
        if (c == quote) {
            if (!multiline) {
                advance(ps);
                return true;
            }
            size_t run = 0;
            while (peek(ps, run) == quote)
                run++;
            if (run >= 3) {
                /* Up to two quotes may end the content just before the closing three. */
                if (run > 5)
                    return fail(ps, "too many quotes at the end of a multi-line string");
                if (out && !buffer_append(out, ps->p, run - 3))
                    return fail(ps, "out of memory");
                advance_by(ps, run);
                return true;
            }
            if (out && !buffer_append(out, ps->p, run))
                return fail(ps, "out of memory");
            advance_by(ps, run);
            continue;
        }
        if (c == '\\' && !literal) {
            if (multiline) {
                /* A backslash at the end of a line joins it to the next,
                 * dropping the whitespace in between. */
                size_t i = 1;
                while (peek(ps, i) == ' ' || peek(ps, i) == '\t')
                    i++;
                if (peek(ps, i) == '\n' || (peek(ps, i) == '\r' && peek(ps, i + 1) == '\n')) {
                    advance_by(ps, i);
                    while (peek(ps, 0) == ' ' || peek(ps, 0) == '\t' || at_newline(ps))
                        if (at_newline(ps))
                            skip_newline(ps);
                        else
                            advance(ps);
                    continue;
                }
            }
            if (!take_escape(ps, out))
                return false;
            continue;
        }
        if (c == '\n' || (c == '\r' && peek(ps, 1) == '\n')) {
            if (!multiline)
                return fail_at(ps, line, column, "unterminated string");
            if (out && !buffer_append_string(out, "\n"))
                return fail(ps, "out of memory");
            skip_newline(ps);
            continue;
        }
        if (c >= 0x80) {
            if (!take_utf8(ps, out))
                return false;
            continue;
        }
        if (is_control(c))
            return fail(ps, "control character in string");
        if (out && !buffer_append(out, ps->p, 1))
            return fail(ps, "out of memory");
        advance(ps);
    }
}

/* ---- keys ---- */

static bool parse_key(struct parser *ps, struct key *key)
{
    key->count = 0;
    skip_ws(ps);
    key->line = ps->line;
    key->column = ps->column;
    for (;;) {
        skip_ws(ps);
        if (key->count == MAX_KEY_PARTS)
            return fail(ps, "key has too many parts");
        struct buffer part = { 0 };
        int c = peek(ps, 0);
        if (is_bare(c)) {
            const char *start = ps->p;
            while (is_bare(peek(ps, 0)))
                advance(ps);
            if (!buffer_append(&part, start, (size_t)(ps->p - start))) {
                buffer_free(&part);
                return fail(ps, "out of memory");
            }
        } else if (c == '"' || c == '\'') {
            if (!parse_string(ps, &part, false)) {
                buffer_free(&part);
                return false;
            }
        } else if (c == '=' || c == '.' || c == ']') {
            return fail(ps, "expected a key");
        } else if (c < 0 || c == '\n' || c == '\r') {
            return fail(ps, "expected a key, found the end of the line");
        } else {
            return fail(ps, "invalid character in key");
        }
        char *text = part.data ? buffer_take(&part) : strdup("");
        if (!text)
            return fail(ps, "out of memory");
        key->parts[key->count++] = text;
        skip_ws(ps);
        if (peek(ps, 0) != '.')
            return true;
        advance(ps);
    }
}

/* "a.b.c" for messages. */
static void key_name(const struct key *key, size_t count, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? "." : "", key->parts[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static struct node *node_add(struct node *table, const char *name, enum node_kind kind)
{
    struct node *node = calloc(1, sizeof *node);
    if (!node)
        return NULL;
    node->name = strdup(name);
    if (!node->name) {
        free(node);
        return NULL;
    }
    node->kind = kind;
    /* Newest first: for arrays of tables the head is the current element. */
    node->next = table->children;
    table->children = node;
    return node;
}

/* ---- values ---- */

static bool parse_value(struct parser *ps, struct node *target);
static bool parse_keyval(struct parser *ps, struct node *table);

static bool at_value_end(const struct parser *ps)
{
    int c = peek(ps, 0);
    return c < 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#' || c == ',' ||
           c == ']' || c == '}';
}

static bool expect_value_end(struct parser *ps)
{
    if (at_value_end(ps))
        return true;
    return fail(ps, "unexpected character after a value");
}

/* Digits (of `digit`'s kind) with single underscores only between digits. */
static bool take_digits(struct parser *ps, bool (*digit)(int), const char *what)
{
    if (!digit(peek(ps, 0)))
        return fail(ps, "expected a digit in %s", what);
    for (;;) {
        while (digit(peek(ps, 0)))
            advance(ps);
        if (peek(ps, 0) != '_')
            return true;
        advance(ps);
        if (!digit(peek(ps, 0)))
            return fail(ps, "an underscore in %s must be between digits", what);
    }
}

static bool is_octal(int c) { return c >= '0' && c <= '7'; }
static bool is_binary(int c) { return c == '0' || c == '1'; }

/* The integer value of the digits in [start, end) (underscores skipped),
 * false when it does not fit below `limit`. */
static bool digits_fit(const char *start, const char *end, unsigned base, uint64_t limit)
{
    uint64_t value = 0;
    for (const char *p = start; p < end; p++) {
        if (*p == '_')
            continue;
        unsigned digit = (unsigned)(is_digit(*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
        if (value > (limit - digit) / base)
            return false;
        value = value * base + digit;
    }
    return true;
}

static bool parse_number(struct parser *ps)
{
    int line = ps->line, column = ps->column;
    bool negative = false;
    bool signed_ = false;
    if (peek(ps, 0) == '+' || peek(ps, 0) == '-') {
        negative = peek(ps, 0) == '-';
        signed_ = true;
        advance(ps);
    }
    int next = peek(ps, 0);
    if (next == 'i' || next == 'n') {
        const char *word = next == 'i' ? "inf" : "nan";
        if (ps->end - ps->p < 3 || memcmp(ps->p, word, 3) != 0)
            return fail_at(ps, line, column, "invalid value");
        advance_by(ps, 3);
        return expect_value_end(ps);
    }
    if (next == '0' && (peek(ps, 1) == 'x' || peek(ps, 1) == 'o' || peek(ps, 1) == 'b')) {
        if (signed_)
            return fail_at(ps, line, column, "a hexadecimal, octal or binary integer cannot have a sign");
        int radix = peek(ps, 1);
        advance_by(ps, 2);
        const char *start = ps->p;
        bool ok = radix == 'x' ? take_digits(ps, is_hex, "a hexadecimal integer")
                : radix == 'o' ? take_digits(ps, is_octal, "an octal integer")
                               : take_digits(ps, is_binary, "a binary integer");
        if (!ok)
            return false;
        unsigned base = radix == 'x' ? 16 : radix == 'o' ? 8 : 2;
        if (!digits_fit(start, ps->p, base, INT64_MAX))
            return fail_at(ps, line, column, "integer out of range");
        return expect_value_end(ps);
    }
    if (!is_digit(next))
        return fail_at(ps, line, column, "invalid value");
    const char *start = ps->p;
    if (next == '0' && (is_digit(peek(ps, 1)) || peek(ps, 1) == '_'))
        return fail_at(ps, line, column, "leading zeros are not allowed");
    if (!take_digits(ps, is_digit, "a number"))
        return false;
    const char *int_end = ps->p;
    bool is_float = false;
    if (peek(ps, 0) == '.') {
        advance(ps);
        if (!take_digits(ps, is_digit, "the fraction of a float"))
            return false;
        is_float = true;
    }
    if (peek(ps, 0) == 'e' || peek(ps, 0) == 'E') {
        advance(ps);
        if (peek(ps, 0) == '+' || peek(ps, 0) == '-')
            advance(ps);
        if (!take_digits(ps, is_digit, "the exponent of a float"))
            return false;
        is_float = true;
    }
    if (!is_float &&
        !digits_fit(start, int_end, 10, negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return fail_at(ps, line, column, "integer out of range");
    return expect_value_end(ps);
}

/* Exactly `count` digits as a number, or -1. */
static int take_fixed(struct parser *ps, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        int c = peek(ps, 0);
        if (!is_digit(c))
            return -1;
        value = value * 10 + (c - '0');
        advance(ps);
    }
    return value;
}

static bool parse_time(struct parser *ps)
{
    int line = ps->line, column = ps->column;
    int hour = take_fixed(ps, 2);
    if (hour < 0 || peek(ps, 0) != ':')
        return fail_at(ps, line, column, "invalid time (expected HH:MM:SS)");
    advance(ps);
    int minute = take_fixed(ps, 2);
    if (minute < 0 || peek(ps, 0) != ':')
        return fail_at(ps, line, column, "invalid time (expected HH:MM:SS)");
    advance(ps);
    int second = take_fixed(ps, 2);
    if (second < 0)
        return fail_at(ps, line, column, "invalid time (expected HH:MM:SS)");
    if (hour > 23 || minute > 59 || second > 60)
        return fail_at(ps, line, column, "time out of range");
    if (peek(ps, 0) == '.') {
        advance(ps);
        if (!is_digit(peek(ps, 0)))
            return fail(ps, "expected a digit in the fraction of a second");
        while (is_digit(peek(ps, 0)))
            advance(ps);
    }
    return true;
}

static bool parse_datetime(struct parser *ps)
{
    int line = ps->line, column = ps->column;
    if (peek(ps, 2) == ':') {
        if (!parse_time(ps))
            return false;
        return expect_value_end(ps);
    }
    int year = take_fixed(ps, 4);
    bool dash1 = peek(ps, 0) == '-';
    if (dash1)
        advance(ps);
    int month = dash1 ? take_fixed(ps, 2) : -1;
    bool dash2 = month >= 0 && peek(ps, 0) == '-';
    if (dash2)
        advance(ps);
    int day = dash2 ? take_fixed(ps, 2) : -1;
    if (year < 0 || day < 0)
        return fail_at(ps, line, column, "invalid date (expected YYYY-MM-DD)");
    static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1] ||
        (month == 2 && day == 29 && !leap))
        return fail_at(ps, line, column, "date out of range");
    int c = peek(ps, 0);
    if (c == 'T' || c == 't' || (c == ' ' && is_digit(peek(ps, 1)))) {
        advance(ps);
        if (!parse_time(ps))
            return false;
        c = peek(ps, 0);
        if (c == 'Z' || c == 'z') {
            advance(ps);
        } else if (c == '+' || c == '-') {
            int offset_line = ps->line, offset_column = ps->column;
            advance(ps);
            int hours = take_fixed(ps, 2);
            bool colon = hours >= 0 && peek(ps, 0) == ':';
            if (colon)
                advance(ps);
            int minutes = colon ? take_fixed(ps, 2) : -1;
            if (minutes < 0 || hours > 23 || minutes > 59)
                return fail_at(ps, offset_line, offset_column, "invalid time zone offset");
        }
    }
    return expect_value_end(ps);
}

static bool parse_array(struct parser *ps, struct node *target)
{
    int line = ps->line, column = ps->column;
    target->static_array = true;
    target->sealed = true;
    advance(ps);
    for (;;) {
        if (!skip_ws_comments_newlines(ps))
            return false;
        if (at_end(ps))
            return fail_at(ps, line, column, "unterminated array");
        if (peek(ps, 0) == ']') {
            advance(ps);
            return true;
        }
        /* Each element is checked on its own (an inline table in an array
         * has its own keys), then forgotten. */
        struct node element = { 0 };
        bool ok = parse_value(ps, &element);
        node_free(element.children);
        if (!ok)
            return false;
        if (!skip_ws_comments_newlines(ps))
            return false;
        if (peek(ps, 0) == ',') {
            advance(ps);
            continue;
        }
        if (peek(ps, 0) == ']') {
            advance(ps);
            return true;
        }
        if (at_end(ps))
            return fail_at(ps, line, column, "unterminated array");
        return fail(ps, "expected ',' or ']' in an array");
    }
}

static bool parse_inline_table(struct parser *ps, struct node *target)
{
    target->kind = NODE_TABLE;
    advance(ps);
    skip_ws(ps);
    if (peek(ps, 0) == '}') {
        advance(ps);
        target->sealed = true;
        return true;
    }
    for (;;) {
        if (at_newline(ps) || at_end(ps))
            return fail(ps, "an inline table must be on one line");
        if (!parse_keyval(ps, target))
            return false;
        skip_ws(ps);
        int c = peek(ps, 0);
        if (c == ',') {
            advance(ps);
            skip_ws(ps);
            if (peek(ps, 0) == '}')
                return fail(ps, "no trailing comma allowed in an inline table");
            continue;
        }
        if (c == '}') {
            advance(ps);
            target->sealed = true;
            return true;
        }
        if (c < 0 || c == '\n' || c == '\r')
            return fail(ps, "an inline table must be on one line");
        return fail(ps, "expected ',' or '}' in an inline table");
    }
}

static bool parse_value(struct parser *ps, struct node *target)
{
    int c = peek(ps, 0);
    if (c < 0 || c == '\n' || c == '\r' || c == '#')
        return fail(ps, "expected a value");
    if (ps->depth >= MAX_DEPTH)
        return fail(ps, "values nested too deeply");
    ps->depth++;
    bool ok;
    if (c == '"' || c == '\'') {
        ok = parse_string(ps, NULL, true) && expect_value_end(ps);
    } else if (c == '[') {
        ok = parse_array(ps, target) && expect_value_end(ps);
    } else if (c == '{') {
        ok = parse_inline_table(ps, target) && expect_value_end(ps);
    } else if (c == 't' || c == 'f') {
        const char *word = c == 't' ? "true" : "false";
        size_t length = strlen(word);
        if ((size_t)(ps->end - ps->p) >= length && memcmp(ps->p, word, length) == 0) {
            advance_by(ps, length);
            ok = expect_value_end(ps);
        } else {
            ok = fail(ps, "invalid value");
        }
    } else if (is_digit(c) && ((is_digit(peek(ps, 1)) && is_digit(peek(ps, 2)) &&
                                is_digit(peek(ps, 3)) && peek(ps, 4) == '-') ||
                               (is_digit(peek(ps, 1)) && peek(ps, 2) == ':'))) {
        ok = parse_datetime(ps);
    } else if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n') {
        ok = parse_number(ps);
    } else {
        ok = fail(ps, "invalid value");
    }
    ps->depth--;
    return ok;
}

/* key = value, in `table`: dotted keys create (or continue) tables made by
 * dotted keys, never tables made any other way. */
static bool parse_keyval(struct parser *ps, struct node *table)
{
    struct key key = { 0 };
    bool ok = parse_key(ps, &key);
    if (ok && peek(ps, 0) != '=')
        ok = fail(ps, "expected '=' after a key");
    struct node *leaf = NULL;
    char name[128];
    for (size_t i = 0; ok && i + 1 < key.count; i++) {
        struct node *child = node_find(table, key.parts[i]);
        if (!child) {
            child = node_add(table, key.parts[i], NODE_TABLE);
            if (!child) {
                ok = fail(ps, "out of memory");
                break;
            }
            child->dotted = true;
        } else if (child->kind != NODE_TABLE || !child->dotted || child->sealed) {
            key_name(&key, i + 1, name, sizeof name);
            ok = fail_at(ps, key.line, key.column,
                         child->kind == NODE_VALUE && !child->sealed ? "key \"%s\" is a value, not a table"
                         : child->sealed ? "cannot add keys to \"%s\": it is closed (inline table or array)"
                                         : "cannot add keys to table \"%s\" with dotted keys: it is defined elsewhere",
                         name);
            break;
        }
        table = child;
    }
    if (ok) {
        if (node_find(table, key.parts[key.count - 1])) {
            key_name(&key, key.count, name, sizeof name);
            ok = fail_at(ps, key.line, key.column, "duplicate key \"%s\"", name);
        } else if (!(leaf = node_add(table, key.parts[key.count - 1], NODE_VALUE))) {
            ok = fail(ps, "out of memory");
        }
    }
    key_clear(&key);
    if (!ok)
        return false;
    advance(ps); /* '=' */
    skip_ws(ps);
    return parse_value(ps, leaf);
}

/* [a.b] or [[a.b]]: returns the table that following keys go into. */
static struct node *parse_header(struct parser *ps, struct node *root)
{
    int line = ps->line, column = ps->column;
    bool array = peek(ps, 1) == '[';
    advance_by(ps, array ? 2 : 1);
    struct key key = { 0 };
    if (!parse_key(ps, &key)) {
        key_clear(&key);
        return NULL;
    }
    bool ok = true;
    if (peek(ps, 0) != ']' || (array && peek(ps, 1) != ']'))
        ok = fail(ps, array ? "expected ']]' to end an array-of-tables header" : "expected ']' to end a table header");
    char name[128];
    struct node *table = root;
    for (size_t i = 0; ok && i + 1 < key.count; i++) {
        struct node *child = node_find(table, key.parts[i]);
        if (!child) {
            if (!(child = node_add(table, key.parts[i], NODE_TABLE)))
                ok = fail(ps, "out of memory");
        } else if (child->kind == NODE_ARRAY_OF_TABLES) {
            child = child->children; /* the newest element */
        } else if (child->kind != NODE_TABLE || child->sealed) {
            key_name(&key, i + 1, name, sizeof name);
            ok = fail_at(ps, line, column, "\"%s\" is not a table", name);
        }
        table = child;
    }
    struct node *result = NULL;
    if (ok) {
        const char *last = key.parts[key.count - 1];
        struct node *node = node_find(table, last);
        key_name(&key, key.count, name, sizeof name);
        if (array) {
            if (node && node->kind != NODE_ARRAY_OF_TABLES) {
                fail_at(ps, line, column, "cannot make \"%s\" an array of tables: it is already defined", name);
            } else if (!node && !(node = node_add(table, last, NODE_ARRAY_OF_TABLES))) {
                fail(ps, "out of memory");
            } else if (!(result = node_add(node, "", NODE_TABLE))) {
                fail(ps, "out of memory");
            } else {
                result->header = true;
            }
        } else if (!node) {
            if ((result = node_add(table, last, NODE_TABLE)))
                result->header = true;
            else
                fail(ps, "out of memory");
        } else if (node->kind == NODE_TABLE && !node->header && !node->dotted && !node->sealed) {
            node->header = true; /* an implicitly created table, defined now */
            result = node;
        } else if (node->kind == NODE_ARRAY_OF_TABLES) {
            fail_at(ps, line, column, "table \"%s\" is already an array of tables", name);
        } else if (node->dotted) {
            fail_at(ps, line, column, "table \"%s\" is already defined by dotted keys", name);
        } else {
            fail_at(ps, line, column, "table \"%s\" defined more than once", name);
        }
    }
    key_clear(&key);
    if (!result)
        return NULL;
    advance_by(ps, array ? 2 : 1);
    if (!expect_line_end(ps, "a table header"))
        return NULL;
    return result;
}

/* Parses the whole document into `root` (the caller frees its children). */
static bool parse_document(const char *text, size_t length, struct toml_error *error, struct node *root)
{
    struct parser ps = { .p = text, .end = text + length, .line = 1, .column = 1, .error = error };
    struct node *current = root;
    while (!at_end(&ps) && !ps.failed) {
        skip_ws(&ps);
        int c = peek(&ps, 0);
        if (c < 0)
            break;
        if (c == '#' || at_newline(&ps) || c == '\r') {
            expect_line_end(&ps, "a comment");
        } else if (c == '[') {
            current = parse_header(&ps, root);
        } else if (parse_keyval(&ps, current)) {
            expect_line_end(&ps, "a value");
        }
    }
    return !ps.failed;
}

bool toml_check(const char *text, size_t length, struct toml_error *error)
{
    struct node root = { 0 };
    bool ok = parse_document(text, length, error, &root);
    node_free(root.children);
    return ok;
}

int toml_defines(const char *text, size_t length, const char *path)
{
    struct node root = { 0 };
    int result = -1;
    char *copy = strdup(path);
    if (copy && parse_document(text, length, NULL, &root)) {
        const struct node *node = &root;
        char *save = NULL;
        for (char *part = strtok_r(copy, ".", &save); node && part; part = strtok_r(NULL, ".", &save))
            node = node->kind == NODE_TABLE ? node_find(node, part) : NULL;
        result = node != NULL;
    }
    free(copy);
    node_free(root.children);
    return result;
}

/* ---- JSON map → TOML text ---- */

struct writer {
    struct buffer out;
    char *error;
    bool failed;
};

static bool write_fail(struct writer *w, const char *path, const char *what)
{
    if (!w->failed) {
        w->failed = true;
        size_t size = strlen(path) + strlen(what) + 3;
        w->error = malloc(size);
        if (w->error)
            snprintf(w->error, size, "%s: %s", path, what);
    }
    return false;
}

static bool write_oom(struct writer *w)
{
    w->failed = true;
    return false;
}

static bool write_string(struct writer *w, const char *text)
{
    if (!buffer_append_string(&w->out, "\""))
        return write_oom(w);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool ok;
        switch (*p) {
        case '"': ok = buffer_append_string(&w->out, "\\\""); break;
        case '\\': ok = buffer_append_string(&w->out, "\\\\"); break;
        case '\b': ok = buffer_append_string(&w->out, "\\b"); break;
        case '\t': ok = buffer_append_string(&w->out, "\\t"); break;
        case '\n': ok = buffer_append_string(&w->out, "\\n"); break;
        case '\f': ok = buffer_append_string(&w->out, "\\f"); break;
        case '\r': ok = buffer_append_string(&w->out, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7F)
                ok = buffer_append_format(&w->out, "\\u%04X", *p);
            else
                ok = buffer_append(&w->out, p, 1);
        }
        if (!ok)
            return write_oom(w);
    }
    return buffer_append_string(&w->out, "\"") || write_oom(w);
}

static bool write_key(struct writer *w, const char *key)
{
    bool bare = *key != '\0';
    for (const char *p = key; *p; p++)
        if (!is_bare((unsigned char)*p))
            bare = false;
    if (!bare)
        return write_string(w, key);
    return buffer_append_string(&w->out, key) || write_oom(w);
}

static bool write_number(struct writer *w, double value)
{
    /* Integral values within 64 bits are integers (a YAML "3" must stay an
     * integer for TiKV); others take the shortest text that reads back. */
    if (value == floor(value) && fabs(value) < 9.2e18)
        return buffer_append_format(&w->out, "%lld", (long long)value) || write_oom(w);
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    return buffer_append_string(&w->out, text) || write_oom(w);
}

static bool path_push(struct buffer *path, const char *key)
{
    return buffer_append_format(path, "%s%s", path->length ? "." : "", key);
}

static bool write_inline(struct writer *w, const cJSON *value, struct buffer *path, int depth);

static bool write_inline_table(struct writer *w, const cJSON *object, struct buffer *path, int depth)
{
    if (!buffer_append_string(&w->out, "{"))
        return write_oom(w);
    bool first = true;
    for (const cJSON *member = object->child; member; member = member->next) {
        if (cJSON_IsNull(member) || !member->string)
            continue;
        size_t mark = path->length;
        if (!path_push(path, member->string))
            return write_oom(w);
        bool ok = buffer_append_string(&w->out, first ? " " : ", ") && write_key(w, member->string) &&
                  buffer_append_string(&w->out, " = ") && write_inline(w, member, path, depth + 1);
        path->length = mark;
        path->data[mark] = '\0';
        if (!ok)
            return w->failed ? false : write_oom(w);
        first = false;
    }
    return buffer_append_string(&w->out, first ? "}" : " }") || write_oom(w);
}

static bool write_inline(struct writer *w, const cJSON *value, struct buffer *path, int depth)
{
    if (depth > MAX_DEPTH)
        return write_fail(w, buffer_string(path), "nested too deeply");
    if (cJSON_IsString(value))
        return write_string(w, value->valuestring);
    if (cJSON_IsBool(value))
        return buffer_append_string(&w->out, cJSON_IsTrue(value) ? "true" : "false") || write_oom(w);
    if (cJSON_IsNumber(value))
        return write_number(w, value->valuedouble);
    if (cJSON_IsObject(value))
        return write_inline_table(w, value, path, depth);
    if (cJSON_IsArray(value)) {
        if (!buffer_append_string(&w->out, "["))
            return write_oom(w);
        int index = 0;
        for (const cJSON *item = value->child; item; item = item->next, index++) {
            size_t mark = path->length;
            if (!buffer_append_format(path, "[%d]", index))
                return write_oom(w);
            bool ok;
            if (cJSON_IsNull(item))
                ok = write_fail(w, buffer_string(path), "null has no TOML form");
            else
                ok = (index == 0 || buffer_append_string(&w->out, ", ")) && write_inline(w, item, path, depth + 1);
            path->length = mark;
            path->data[mark] = '\0';
            if (!ok)
                return w->failed ? false : write_oom(w);
        }
        return buffer_append_string(&w->out, "]") || write_oom(w);
    }
    return write_fail(w, buffer_string(path), "null has no TOML form");
}

static int compare_members(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* An array written as [[path]] sections: non-empty, objects only. */
static bool is_table_array(const cJSON *value)
{
    if (!cJSON_IsArray(value) || !value->child)
        return false;
    for (const cJSON *item = value->child; item; item = item->next)
        if (!cJSON_IsObject(item))
            return false;
    return true;
}

/* The header path for sections: keys quoted where needed. */
static bool header_push(struct buffer *header, const char *key)
{
    if (header->length && !buffer_append_string(header, "."))
        return false;
    bool bare = *key != '\0';
    for (const char *p = key; *p; p++)
        if (!is_bare((unsigned char)*p))
            bare = false;
    if (bare)
        return buffer_append_string(header, key);
    struct writer quoted = { { 0 }, NULL, false };
    bool ok = write_string(&quoted, key) && buffer_append_string(header, buffer_string(&quoted.out));
    buffer_free(&quoted.out);
    return ok;
}

static bool write_table(struct writer *w, const cJSON *object, struct buffer *path, struct buffer *header,
                        int depth)
{
    if (depth > MAX_DEPTH)
        return write_fail(w, buffer_string(path), "nested too deeply");
    size_t count = 0;
    for (const cJSON *member = object->child; member; member = member->next)
        count++;
    const cJSON **members = calloc(count ? count : 1, sizeof *members);
    if (!members)
        return write_oom(w);
    count = 0;
    for (const cJSON *member = object->child; member; member = member->next)
        if (member->string)
            members[count++] = member;
    qsort(members, count, sizeof *members, compare_members);
    bool ok = true;
    /* Plain keys first: after a [section] header they would belong to it. */
    for (size_t i = 0; ok && i < count; i++) {
        const cJSON *member = members[i];
        if (cJSON_IsNull(member) || cJSON_IsObject(member) || is_table_array(member))
            continue;
        size_t mark = path->length;
        ok = path_push(path, member->string) || write_oom(w);
        ok = ok && write_key(w, member->string) && (buffer_append_string(&w->out, " = ") || write_oom(w)) &&
             write_inline(w, member, path, depth + 1) && (buffer_append_string(&w->out, "\n") || write_oom(w));
        path->length = mark;
        if (path->data)
            path->data[mark] = '\0';
    }
    for (size_t i = 0; ok && i < count; i++) {
        const cJSON *member = members[i];
        bool table = cJSON_IsObject(member);
        if (!table && !is_table_array(member))
            continue;
        size_t path_mark = path->length, header_mark = header->length;
        ok = (path_push(path, member->string) && header_push(header, member->string)) || write_oom(w);
        if (table) {
            ok = ok && (buffer_append_format(&w->out, "%s[%s]\n", w->out.length ? "\n" : "", header->data) ||
                        write_oom(w));
            ok = ok && write_table(w, member, path, header, depth + 1);
        } else {
            int index = 0;
            for (const cJSON *item = member->child; ok && item; item = item->next, index++) {
                size_t mark = path->length;
                ok = (buffer_append_format(path, "[%d]", index) &&
                      buffer_append_format(&w->out, "%s[[%s]]\n", w->out.length ? "\n" : "", header->data)) ||
                     write_oom(w);
                ok = ok && write_table(w, item, path, header, depth + 1);
                path->length = mark;
                path->data[mark] = '\0';
            }
        }
        path->length = path_mark;
        if (path->data)
            path->data[path_mark] = '\0';
        header->length = header_mark;
        if (header->data)
            header->data[header_mark] = '\0';
    }
    free(members);
    return ok;
}

char *toml_from_json(const cJSON *map, char **error)
{
    *error = NULL;
    struct writer w = { { 0 }, NULL, false };
    struct buffer path = { 0 }, header = { 0 };
    if (!cJSON_IsObject(map)) {
        write_fail(&w, "config", "expected an object");
    } else if (write_table(&w, map, &path, &header, 0)) {
        if (!w.out.data && !buffer_append_string(&w.out, ""))
            w.failed = true;
    }
    buffer_free(&path);
    buffer_free(&header);
    if (w.failed) {
        buffer_free(&w.out);
        *error = w.error;
        return NULL;
    }
    return buffer_take(&w.out);
}
