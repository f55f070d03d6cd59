/*
 * test_json_arena: the arena JSON parser gives cJSON's trees for valid JSON
 * (tables, then thousands of random documents compared node by node with cJSON's own parse),
 * refuses what is not JSON with the offset of the first bad byte, never
 * accepts a mutated document that cJSON refuses, and reuses its memory.
 */
#include "reactor/json_arena.h"
#include "reactor/json_scan.h"
#include "test/support/test.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every container's first child has prev at its last child; next chains
 * end in NULL; keys exactly on object members. */
static bool shape_is_cjson(const cJSON *node)
{
    if (node->child != NULL) {
        const cJSON *last = node->child;
        while (last->next != NULL) {
            if (last->next->prev != last) return false;
            last = last->next;
        }
        if (node->child->prev != last) return false;
        for (const cJSON *child = node->child; child != NULL; child = child->next) {
            if (cJSON_IsObject(node) != (child->string != NULL)) return false;
            if (!shape_is_cjson(child)) return false;
        }
    }
    return true;
}

/* Same types, keys in the same order, strings and numbers bit for bit
 * (cJSON_Compare cannot tell duplicate keys apart nor infinities equal). */
static bool same_as_cjson(const cJSON *ours, const cJSON *theirs)
{
    if (ours->type != theirs->type) return false;
    if ((ours->string == NULL) != (theirs->string == NULL)) return false;
    if (ours->string && strcmp(ours->string, theirs->string) != 0) return false;
    if (cJSON_IsNumber(ours) && (ours->valueint != theirs->valueint ||
                                 memcmp(&ours->valuedouble, &theirs->valuedouble, sizeof(double)) != 0))
        return false;
    if (cJSON_IsString(ours) && strcmp(ours->valuestring, theirs->valuestring) != 0) return false;
    const cJSON *a = ours->child, *b = theirs->child;
    for (; a && b; a = a->next, b = b->next)
        if (!same_as_cjson(a, b)) return false;
    return a == NULL && b == NULL;
}

static void check_valid(struct json_arena *arena, const char *text, size_t length, int line)
{
    struct json_arena_result result;
    const cJSON *ours = json_arena_parse(arena, text, length, &result);
    cJSON *theirs = cJSON_ParseWithLength(text, length);
    if (ours == NULL || result.status != JSON_ARENA_OK) {
        test_fail(__FILE__, line, "refused valid %.*s (%s at %zu)", (int)(length > 80 ? 80 : length), text,
                  json_arena_status_text(result.status), result.error_offset);
    } else if (theirs == NULL) {
        test_fail(__FILE__, line, "cJSON refuses %.*s", (int)length, text);
    } else {
        if (!same_as_cjson(ours, theirs))
            test_fail(__FILE__, line, "differs from cJSON: %.*s", (int)(length > 80 ? 80 : length), text);
        if (!shape_is_cjson(ours))
            test_fail(__FILE__, line, "not cJSON's shape: %.*s", (int)(length > 80 ? 80 : length), text);
    }
    cJSON_Delete(theirs);
}

static void valid_documents_equal_cjson(void)
{
    static const char *const documents[] = {
        "{}", "[]", "0", "-0", "1", "-1", "12345", "123456789012345", "1234567890123456789",
        "99999999999999999999999", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "1.5", "-0.25", "1e3", "1E-3", "2.5e+10", "0.1", "3.141592653589793", "1e308", "4.9e-324",
        "true", "false", "null", "\"\"", "\"abc\"",
        "\"quote \\\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t\"",
        "\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "\"raw utf-8: \xc3\xa9 \xe2\x82\xac\"",
        " \t\r\n{ \"a\" : [ 1 , 2 , { } , [ ] ] , \"b\" : null } \n",
        "{\"a\":1,\"a\":2}", "{\"\":\"empty key\"}", "[[[[[[[[[[]]]]]]]]]]",
        "{\"metadata\":{\"name\":\"pd-0\",\"labels\":{\"app.kubernetes.io/instance\":\"basic\"},"
        "\"resourceVersion\":\"42\"},\"status\":{\"phase\":\"Running\",\"conditions\":"
        "[{\"type\":\"Ready\",\"status\":\"True\"}],\"restartCount\":3}}",
    };
    struct json_arena arena;
    json_arena_init(&arena);
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++)
        check_valid(&arena, documents[i], strlen(documents[i]), __LINE__);
    /* The text need not end in NUL: only `length` bytes are read. */
    const char *prefix = "[1,2]garbage";
    const cJSON *array = json_arena_parse(&arena, prefix, 5, NULL);
    REQUIRE(array != NULL);
    CHECK_INT(cJSON_GetArraySize(array), 2);
    CHECK_INT(cJSON_GetArrayItem(array, 1)->valueint, 2);
    /* \u0000 ends the C string, as in cJSON. */
    check_valid(&arena, "\"a\\u0000b\"", 10, __LINE__);
    json_arena_free(&arena);
}

struct invalid {
    const char *text;
    enum json_arena_status status;
    size_t offset;
};

static void invalid_documents_are_refused_with_offset(void)
{
    static const struct invalid cases[] = {
        { "", JSON_ARENA_SYNTAX, 0 },
        { "   ", JSON_ARENA_SYNTAX, 3 },
        { "{", JSON_ARENA_SYNTAX, 1 },
        { "{\"a\"}", JSON_ARENA_SYNTAX, 4 },
        { "{\"a\":}", JSON_ARENA_SYNTAX, 5 },
        { "{\"a\":1,}", JSON_ARENA_SYNTAX, 7 },
        { "{a:1}", JSON_ARENA_SYNTAX, 1 },
        { "[1,]", JSON_ARENA_SYNTAX, 3 },
        { "[1 2]", JSON_ARENA_SYNTAX, 3 },
        { "[1]]", JSON_ARENA_SYNTAX, 3 },
        { "01", JSON_ARENA_SYNTAX, 1 },
        { "1.", JSON_ARENA_SYNTAX, 2 },
        { ".5", JSON_ARENA_SYNTAX, 0 },
        { "+1", JSON_ARENA_SYNTAX, 0 },
        { "-", JSON_ARENA_SYNTAX, 1 },
        { "1e", JSON_ARENA_SYNTAX, 2 },
        { "1e+", JSON_ARENA_SYNTAX, 3 },
        { "tru", JSON_ARENA_SYNTAX, 0 },
        { "nul", JSON_ARENA_SYNTAX, 0 },
        { "True", JSON_ARENA_SYNTAX, 0 },
        { "\"open", JSON_ARENA_SYNTAX, 5 },
        { "\"bad \\x escape\"", JSON_ARENA_SYNTAX, 5 },
        { "\"\\u12\"", JSON_ARENA_SYNTAX, 2 },
        { "\"\\uZZZZ\"", JSON_ARENA_SYNTAX, 2 },
        { "\"\\udc00\"", JSON_ARENA_SYNTAX, 1 },
        { "\"\\ud800\"", JSON_ARENA_SYNTAX, 1 },
        { "\"\\ud800\\u0041\"", JSON_ARENA_SYNTAX, 1 },
        { "\"tab\there\"", JSON_ARENA_SYNTAX, 4 },
        { "\"ends in backslash\\", JSON_ARENA_SYNTAX, 19 },
        { "{} {}", JSON_ARENA_SYNTAX, 3 },
        { "\v1", JSON_ARENA_SYNTAX, 0 },
    };
    struct json_arena arena;
    json_arena_init(&arena);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct json_arena_result result = { JSON_ARENA_OK, 99 };
        const cJSON *value = json_arena_parse(&arena, cases[i].text, strlen(cases[i].text), &result);
        if (value != NULL || result.status != cases[i].status || result.error_offset != cases[i].offset)
            test_fail(__FILE__, __LINE__, "'%s': %s at %zu, expected %s at %zu", cases[i].text,
                      value ? "accepted" : json_arena_status_text(result.status), result.error_offset,
                      json_arena_status_text(cases[i].status), cases[i].offset);
    }
    json_arena_free(&arena);
}

static void nesting_is_limited_like_cjson(void)
{
    size_t depth = JSON_ARENA_MAX_DEPTH;
    char *text = malloc(2 * (depth + 1) + 1);
    REQUIRE(text != NULL);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    struct json_arena arena;
    json_arena_init(&arena);
    check_valid(&arena, text, 2 * depth, __LINE__);
    memset(text, '[', depth + 1);
    memset(text + depth + 1, ']', depth + 1);
    struct json_arena_result result;
    CHECK(json_arena_parse(&arena, text, 2 * (depth + 1), &result) == NULL);
    CHECK_INT(result.status, JSON_ARENA_TOO_DEEP);
    CHECK_INT(result.error_offset, depth);
    cJSON *theirs = cJSON_ParseWithLength(text, 2 * (depth + 1));
    CHECK(theirs == NULL);
    cJSON_Delete(theirs);
    json_arena_free(&arena);
    free(text);
}

/* --- random documents --- */

static unsigned long random_state = 20261121;

static unsigned random_below(unsigned bound)
{
    random_state = random_state * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(random_state >> 33) % bound;
}

static cJSON *random_string_item(bool as_key, char *out, size_t size)
{
    static const char *const pieces[] = { "a", "pd", "-", "\"", "\\", "/", "\n", "\t", "\x01",
                                          "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "0" };
    size_t length = 0;
    unsigned count = random_below(8);
    out[0] = '\0';
    for (unsigned i = 0; i < count; i++) {
        const char *piece = pieces[random_below(sizeof pieces / sizeof pieces[0])];
        if (length + strlen(piece) + 1 >= size) break;
        strcpy(out + length, piece);
        length += strlen(piece);
    }
    return as_key ? NULL : cJSON_CreateString(out);
}

static cJSON *random_number(void)
{
    switch (random_below(6)) {
    case 0: return cJSON_CreateNumber((double)random_below(1000));
    case 1: return cJSON_CreateNumber(-(double)random_below(100000000));
    case 2: return cJSON_CreateNumber((double)random_below(1000000) / 1024.0);
    case 3: return cJSON_CreateNumber(ldexp((double)random_below(1u << 30), (int)random_below(200) - 100));
    case 4: return cJSON_CreateNumber(9007199254740993.0 * (random_below(2) ? 1 : -1));
    default: return cJSON_CreateNumber((double)INT_MAX + random_below(3) - 1);
    }
}

static cJSON *random_value(int depth)
{
    unsigned kind = random_below(depth > 5 ? 5 : 7);
    char text[64];
    switch (kind) {
    case 0: return cJSON_CreateNull();
    case 1: return cJSON_CreateBool(random_below(2));
    case 2: return random_number();
    case 3:
    case 4: return random_string_item(false, text, sizeof text);
    case 5: {
        cJSON *array = cJSON_CreateArray();
        for (unsigned i = random_below(5); i > 0; i--) cJSON_AddItemToArray(array, random_value(depth + 1));
        return array;
    }
    default: {
        cJSON *object = cJSON_CreateObject();
        for (unsigned i = random_below(6); i > 0; i--) {
            random_string_item(true, text, sizeof text);
            cJSON_AddItemToObject(object, text, random_value(depth + 1));
        }
        return object;
    }
    }
}

static void random_documents_equal_cjson(void)
{
    struct json_arena arena;
    json_arena_init(&arena);
    for (int round = 0; round < 3000; round++) {
        cJSON *document = random_value(0);
        char *text = round % 2 ? cJSON_Print(document) : cJSON_PrintUnformatted(document);
        REQUIRE(text != NULL);
        check_valid(&arena, text, strlen(text), __LINE__);
        if (round % 100 == 0) json_arena_reset(&arena);
        free(text);
        cJSON_Delete(document);
        if (test_failed()) break;
    }
    json_arena_free(&arena);
}

/* A random byte changed, dropped or doubled: whatever we accept, cJSON
 * accepts too and reads the same. */
static void mutated_documents_never_accepted_beyond_cjson(void)
{
    static const char alphabet[] = "{}[]\":,\\u0123456789abcdefABCDEF.eE+- \t\n\x01\x7f\xff";
    struct json_arena arena;
    json_arena_init(&arena);
    int accepted = 0, refused = 0;
    for (int round = 0; round < 5000; round++) {
        cJSON *document = random_value(0);
        char *text = cJSON_PrintUnformatted(document);
        cJSON_Delete(document);
        REQUIRE(text != NULL);
        size_t length = strlen(text);
        char *mutated = malloc(length + 2);
        REQUIRE(mutated != NULL);
        size_t at = random_below((unsigned)length);
        size_t out = 0;
        unsigned how = random_below(3);
        for (size_t i = 0; i < length; i++) {
            if (i == at && how == 0) mutated[out++] = alphabet[random_below(sizeof alphabet - 1)];
            else if (i == at && how == 1) continue;
            else if (i == at) { mutated[out++] = text[i]; mutated[out++] = text[i]; }
            else mutated[out++] = text[i];
        }
        const cJSON *ours = json_arena_parse(&arena, mutated, out, NULL);
        if (ours != NULL) {
            accepted++;
            cJSON *theirs = cJSON_ParseWithLength(mutated, out);
            if (theirs == NULL || !same_as_cjson(ours, theirs))
                test_fail(__FILE__, __LINE__, "accepted what cJSON %s: %.*s",
                          theirs ? "reads otherwise" : "refuses", (int)out, mutated);
            cJSON_Delete(theirs);
        } else {
            refused++;
        }
        json_arena_reset(&arena);
        free(mutated);
        free(text);
        if (test_failed()) break;
    }
    /* Both outcomes must have happened for the property to mean anything. */
    CHECK(accepted > 100);
    CHECK(refused > 100);
    json_arena_free(&arena);
}

static void memory_is_reused_after_reset(void)
{
    struct json_arena arena;
    json_arena_init(&arena);
    const char *text = "{\"metadata\":{\"name\":\"pd-0\",\"namespace\":\"default\"},\"spec\":[1,2,3]}";
    REQUIRE(json_arena_parse(&arena, text, strlen(text), NULL) != NULL);
    struct json_arena_chunk *chunk = arena.chunks;
    for (int i = 0; i < 10000; i++) {
        json_arena_reset(&arena);
        const cJSON *value = json_arena_parse(&arena, text, strlen(text), NULL);
        if (value == NULL) { test_fail(__FILE__, __LINE__, "parse %d failed", i); break; }
    }
    CHECK(arena.chunks == chunk);
    CHECK(arena.chunks->next == NULL);
    /* A string bigger than a chunk gets its own, dropped at reset. */
    size_t big = JSON_ARENA_CHUNK_BYTES * 2;
    char *long_text = malloc(big + 3);
    REQUIRE(long_text != NULL);
    long_text[0] = '"';
    memset(long_text + 1, 'x', big);
    long_text[big + 1] = '"';
    const cJSON *value = json_arena_parse(&arena, long_text, big + 2, NULL);
    REQUIRE(value != NULL);
    CHECK_INT(strlen(value->valuestring), big);
    json_arena_reset(&arena);
    CHECK(arena.chunks != NULL && arena.chunks->next == NULL);
    json_arena_free(&arena);
    CHECK(arena.chunks == NULL);
    free(long_text);
}

/* The word-at-a-time scanners stop exactly where a byte loop stops, for
 * every stop byte at every position and alignment, among bytes that are
 * near misses (0x1f/0x20/0x21, 0x22±1, 0x5c±1, 0x7f, 0x80, 0xff). */
static void scanners_match_byte_loops(void)
{
    static const unsigned char fillers[] = { 'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff };
    static const unsigned char stops[] = { '"', '\\', 0x00, 0x01, 0x1f };
    unsigned char buffer[64];
    for (size_t offset = 0; offset < 8; offset++)
        for (size_t length = 0; length + offset <= 40; length++)
            for (size_t at = 0; at <= length; at++)
                for (size_t s = 0; s < sizeof stops; s++) {
                    for (size_t i = 0; i < sizeof buffer; i++)
                        buffer[i] = fillers[(i * 7 + offset + length) % sizeof fillers];
                    if (at < length) buffer[offset + at] = stops[s];
                    const char *p = (const char *)buffer + offset, *end = p + length;
                    const char *quote = p, *run = p;
                    while (quote < end && *quote != '"' && *quote != '\\') quote++;
                    while (run < end && *run != '"' && *run != '\\' && (unsigned char)*run >= 0x20) run++;
                    if (json_scan_quote_or_backslash(p, end) != quote || json_scan_string_run(p, end) != run) {
                        test_fail(__FILE__, __LINE__, "offset %zu length %zu stop 0x%02x at %zu", offset, length,
                                  stops[s], at);
                        return;
                    }
                }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(valid_documents_equal_cjson),
        TEST_CASE(invalid_documents_are_refused_with_offset),
        TEST_CASE(nesting_is_limited_like_cjson),
        TEST_CASE(random_documents_equal_cjson),
        TEST_CASE(mutated_documents_never_accepted_beyond_cjson),
        TEST_CASE(memory_is_reused_after_reset),
        TEST_CASE(scanners_match_byte_loops),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
