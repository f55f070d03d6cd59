#include "reconcilers/api/toml_check.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

static const char *valid_documents[] = {
    "",
    "\n\n# only a comment\n",
    "a = 1",
    "a = 1\r\nb = 2\r\n",
    "storage.reserve-space = \"0MB\"\nrocksdb.max-open-files = 256\nraftdb.max-open-files = 256\n",
    "[log]\nlevel = \"info\"\n[log.file]\nmax-backups = 3\n",
    "[storage]\nreserve-space = '0MB'  # literal\n[rocksdb.defaultcf]\nblock-size = \"64KB\"\n",
    "\"quoted key\" = 1\n'literal key' = 2\n\"\" = 3\na.\"b.c\".d = 4\n",
    "a . b = 1\n",
    "int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\nint5 = 1_000\nint6 = 5_349_221\n",
    "hex = 0xDEADBEEF\nhex2 = 0xdead_beef\noct = 0o755\nbin = 0b1101_0110\n",
    "max = 9223372036854775807\nmin = -9223372036854775808\n",
    "f1 = +1.0\nf2 = 3.1415\nf3 = -0.01\nf4 = 5e+22\nf5 = 1e06\nf6 = -2E-2\nf7 = 6.626e-34\nf8 = 224_617.445_991\n",
    "sf1 = inf\nsf2 = +inf\nsf3 = -inf\nsf4 = nan\nsf5 = +nan\nsf6 = -nan\n",
    "t = true\nf = false\n",
    ("odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\nodt3 = 1979-05-27T00:32:00.999999-07:00\n"
    "odt4 = 1979-05-27 07:32:00Z\nldt = 1979-05-27T07:32:00\nld = 1979-05-27\nlt = 07:32:00\nlt2 = 00:32:00.999\n"
    "leap = 2024-02-29\nsec = 23:59:60\n"),
    "s = \"tab\\there \\\"quoted\\\" \\\\ \\u00e9 \\U0001F600\"\n",
    "s = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n",
    "s = \"\"\"\\\n    The quick brown \\\n    fox.\\\n    \"\"\"\n",
    "s = \"\"\"Here are two quotation marks: \"\". Simple.\"\"\"\ns2 = \"\"\"\"This,\" she said.\"\"\"\"\ns3 = \"\"\"a\"\"\"\"\"\n",
    "p = 'C:\\Users\\nodejs\\templates'\nr = '''\nThe first newline is\ntrimmed in raw strings.\n'''\nq = ''''That,' she said'''\n",
    "utf = \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n# commentaire \xc3\xa9\n",
    "a = [1, 2, 3]\nb = [\"x\", 'y']\nc = [[1, 2], [\"a\", 1.5]]\nd = [\n  1,\n  2, # two\n]\ne = []\n",
    "name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = { x = 1, y = 2 }\nanimal = { type.name = \"pug\" }\nempty = {}\n",
    "points = [ { x = 1, y = 2 }, { x = 7, y = 8 } ]\n",
    "[[products]]\nname = \"Hammer\"\n[[products]]\n[[products]]\nname = \"Nail\"\n",
    ("[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.varieties]]\nname = \"red delicious\"\n"
    "[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"\n"),
    "[x.y.z.w]\n[x]\n",
    "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
    "[ a . b ]\nc = 1\n[ 'x' . \"y\" ]\n",
    "a = 1 # trailing comment\n[t] # header comment\n",
    "\t  indented = \"yes\"\n",
};

struct invalid_row {
    const char *text;
    int line;
    int column;
    const char *message;
};

static const struct invalid_row invalid_documents[] = {
    { "a = 1\na = 2\n", 2, 1, "duplicate key \"a\"" },
    { "a.b = 1\na.b = 2\n", 2, 1, "duplicate key \"a.b\"" },
    { "a = 1\na.b = 2\n", 2, 1, "key \"a\" is a value, not a table" },
    { "[a]\n[a]\n", 2, 1, "table \"a\" defined more than once" },
    { "[a]\nb = 1\n[a.b]\n", 3, 1, "table \"a.b\" defined more than once" },
    { "[fruit]\napple.color = \"red\"\n[fruit.apple]\n", 3, 1, "table \"fruit.apple\" is already defined by dotted keys" },
    { "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, 1, "cannot add keys to table \"b\" with dotted keys: it is defined elsewhere" },
    { "a = {b = 1}\na.c = 2\n", 2, 1, "cannot add keys to \"a\": it is closed (inline table or array)" },
    { "a = {b = 1}\n[a.c]\n", 2, 1, "\"a\" is not a table" },
    { "a = [1]\n[[a]]\n", 2, 1, "cannot make \"a\" an array of tables: it is already defined" },
    { "[[a]]\n[a]\n", 2, 1, "table \"a\" is already an array of tables" },
    { "a = \n", 1, 5, "expected a value" },
    { "a 1\n", 1, 3, "expected '=' after a key" },
    { "= 1\n", 1, 1, "expected a key" },
    { "a = 1 b = 2\n", 1, 7, "expected a newline after a value" },
    { "a = \"abc\n", 1, 5, "unterminated string" },
    { "a = \"\\q\"\n", 1, 6, "invalid escape sequence" },
    { "a = \"\\u12\"\n", 1, 6, "\\u needs 4 hexadecimal digits" },
    { "a = \"\\uD800\"\n", 1, 6, "escape is not a Unicode scalar value" },
    { "a = '''abc\n", 1, 5, "unterminated string" },
    { "a = \"\"\"x\"\"\"\"\"\"\n", 1, 9, "too many quotes at the end of a multi-line string" },
    { "a = 01\n", 1, 5, "leading zeros are not allowed" },
    { "a = 1__0\n", 1, 7, "an underscore in a number must be between digits" },
    { "a = 1_\n", 1, 7, "an underscore in a number must be between digits" },
    { "a = 1.\n", 1, 7, "expected a digit in the fraction of a float" },
    { "a = .5\n", 1, 5, "invalid value" },
    { "a = 1e\n", 1, 7, "expected a digit in the exponent of a float" },
    { "a = 9223372036854775808\n", 1, 5, "integer out of range" },
    { "a = -9223372036854775809\n", 1, 5, "integer out of range" },
    { "a = 0x8000000000000000\n", 1, 5, "integer out of range" },
    { "a = -0x1\n", 1, 5, "a hexadecimal, octal or binary integer cannot have a sign" },
    { "a = 0b102\n", 1, 9, "unexpected character after a value" },
    { "a = 1.2.3\n", 1, 8, "unexpected character after a value" },
    { "a = True\n", 1, 5, "invalid value" },
    { "a = truex\n", 1, 9, "unexpected character after a value" },
    { "a = 1979-13-01\n", 1, 5, "date out of range" },
    { "a = 2023-02-29\n", 1, 5, "date out of range" },
    { "a = 1979-05-27T25:00:00\n", 1, 16, "time out of range" },
    { "a = 1979-05-27T07:32Z\n", 1, 16, "invalid time (expected HH:MM:SS)" },
    { "a = 1979-05-27T07:32:00+7\n", 1, 24, "invalid time zone offset" },
    { "a = [1, 2\n", 1, 5, "unterminated array" },
    { "a = [1 2]\n", 1, 8, "expected ',' or ']' in an array" },
    { "a = [,]\n", 1, 6, "invalid value" },
    { "a = {b = 1,}\n", 1, 12, "no trailing comma allowed in an inline table" },
    { "a = {b = 1\n}\n", 1, 11, "an inline table must be on one line" },
    { "a = {b = 1, b = 2}\n", 1, 13, "duplicate key \"b\"" },
    { "[a\n", 1, 3, "expected ']' to end a table header" },
    { "[[a]\n", 1, 4, "expected ']]' to end an array-of-tables header" },
    { "[a] b = 1\n", 1, 5, "expected a newline after a table header" },
    { "[]\n", 1, 2, "expected a key" },
    { "a.\"\"\"b\"\"\" = 1\n", 1, 3, "a multi-line string cannot be a key" },
    { "a = 1\rb = 2\n", 1, 6, "carriage return without a newline" },
    { "# bad \x01 comment\n", 1, 7, "control character in comment" },
    { "a = \"bad \xff\"\n", 1, 10, "invalid UTF-8" },
    { "a = \"\xc3\xa9\xc3\"\n", 1, 7, "invalid UTF-8" },
    { "k\xc3\xa9y = 1\n", 1, 2, "expected '=' after a key" },
    { "\xc3\xa9 = 1\n", 1, 1, "invalid character in key" },
    { "x = 1\n\n  [t]\n  y = @\n", 4, 7, "invalid value" },
};

static void toml_accepts_valid_documents(void)
{
    for (size_t i = 0; i < sizeof valid_documents / sizeof valid_documents[0]; i++) {
        struct toml_error error = { 0, 0, "" };
        const char *text = valid_documents[i];
        if (!toml_check(text, strlen(text), &error))
            test_fail(__FILE__, __LINE__, "document %zu rejected: %d:%d %s", i, error.line, error.column,
                      error.message);
    }
}

static void toml_rejects_invalid_documents(void)
{
    for (size_t i = 0; i < sizeof invalid_documents / sizeof invalid_documents[0]; i++) {
        const struct invalid_row *row = &invalid_documents[i];
        struct toml_error error = { 0, 0, "" };
        if (toml_check(row->text, strlen(row->text), &error)) {
            test_fail(__FILE__, __LINE__, "row %zu accepted: %s", i, row->text);
            continue;
        }
        if (error.line != row->line || error.column != row->column || strcmp(error.message, row->message) != 0)
            test_fail(__FILE__, __LINE__, "row %zu: got %d:%d \"%s\", expected %d:%d \"%s\"", i, error.line,
                      error.column, error.message, row->line, row->column, row->message);
    }
}

static void toml_handles_nul_and_length(void)
{
    /* The length is honoured: the text after it is not read. */
    CHECK(toml_check("a = 1\nthis is not toml", 6, NULL));
    /* A NUL byte inside the text is a control character. */
    static const char with_nul[] = "a = \"x\0y\"\n";
    struct toml_error error;
    CHECK(!toml_check(with_nul, sizeof with_nul - 1, &error));
    CHECK_STR(error.message, "control character in string");
}

static void toml_limits_nesting(void)
{
    char text[600] = "a = ";
    size_t n = strlen(text);
    for (int i = 0; i < 200; i++)
        text[n++] = '[';
    text[n] = '\0';
    struct toml_error error;
    CHECK(!toml_check(text, strlen(text), &error));
    CHECK_STR(error.message, "values nested too deeply");
}

static void toml_never_crashes_on_prefixes(void)
{
    /* Every prefix of every valid document is either valid or an error with a place. */
    for (size_t i = 0; i < sizeof valid_documents / sizeof valid_documents[0]; i++) {
        const char *text = valid_documents[i];
        for (size_t length = 0; length <= strlen(text); length++) {
            struct toml_error error = { 0, 0, "" };
            if (!toml_check(text, length, &error))
                CHECK(error.line >= 1 && error.column >= 1 && error.message[0]);
        }
    }
}

static char *convert(const char *json, char **error)
{
    cJSON *map = cJSON_Parse(json);
    if (!map)
        return NULL;
    char *text = toml_from_json(map, error);
    cJSON_Delete(map);
    return text;
}

static void toml_from_json_writes_sections(void)
{
    char *error = NULL;
    char *text = convert("{\"storage\":{\"reserve-space\":\"0MB\"},\"rocksdb\":{\"max-open-files\":256},"
                         "\"raftdb\":{\"max-open-files\":256}}",
                         &error);
    REQUIRE(text);
    CHECK_STR(text, "[raftdb]\nmax-open-files = 256\n\n[rocksdb]\nmax-open-files = 256\n\n"
                    "[storage]\nreserve-space = \"0MB\"\n");
    CHECK(toml_check(text, strlen(text), NULL));
    free(text);

    text = convert("{}", &error);
    REQUIRE(text);
    CHECK_STR(text, "");
    free(text);

    text = convert("{\"log\":{\"file\":{\"max-backups\":3},\"level\":\"info\"},\"a\":1.5,\"b\":true,"
                   "\"c\":[1,\"x\",{\"k\":null,\"v\":[]}],\"d\":null,\"odd key\":\"q\\\"\\n\\u0001\","
                   "\"servers\":[{\"name\":\"s1\",\"labels\":{\"zone\":\"z1\"}},{\"name\":\"s2\"}],\"big\":1e300,"
                   "\"neg\":-3,\"pi\":0.1}",
                   &error);
    REQUIRE(text);
    CHECK_STR(text, "a = 1.5\nb = true\nbig = 1e+300\nc = [1, \"x\", { v = [] }]\nneg = -3\n"
                    "\"odd key\" = \"q\\\"\\n\\u0001\"\npi = 0.1\n\n"
                    "[log]\nlevel = \"info\"\n\n[log.file]\nmax-backups = 3\n\n"
                    "[[servers]]\nname = \"s1\"\n\n[servers.labels]\nzone = \"z1\"\n\n[[servers]]\nname = \"s2\"\n");
    struct toml_error terror;
    if (!toml_check(text, strlen(text), &terror))
        test_fail(__FILE__, __LINE__, "converted text invalid: %d:%d %s", terror.line, terror.column, terror.message);
    free(text);

    text = convert("{\"a.b\":{\"c d\":1}}", &error);
    REQUIRE(text);
    CHECK_STR(text, "[\"a.b\"]\n\"c d\" = 1\n");
    CHECK(toml_check(text, strlen(text), NULL));
    free(text);
}

static void toml_from_json_reports_null_elements(void)
{
    char *error = NULL;
    char *text = convert("{\"log\":{\"targets\":[\"a\",null]}}", &error);
    CHECK(text == NULL);
    CHECK_STR(error, "log.targets[1]: null has no TOML form");
    free(error);

    cJSON *array = cJSON_CreateArray();
    error = NULL;
    CHECK(toml_from_json(array, &error) == NULL);
    CHECK_STR(error, "config: expected an object");
    free(error);
    cJSON_Delete(array);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(toml_accepts_valid_documents),
        TEST_CASE(toml_rejects_invalid_documents),
        TEST_CASE(toml_handles_nul_and_length),
        TEST_CASE(toml_limits_nesting),
        TEST_CASE(toml_never_crashes_on_prefixes),
        TEST_CASE(toml_from_json_writes_sections),
        TEST_CASE(toml_from_json_reports_null_elements),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
