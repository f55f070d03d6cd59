/*
 * test_tidbcluster_fields: the compatibility table (tidbcluster_fields.h)
 * against the decoder, validation and README.md.
 *   - every key the decoder reads has a row (a new decoded field without a
 *     classification fails here), and every supported row is decoded;
 *   - every classified field, written with a value that asks for
 *     something, is reported as its row says: refused ones as validation
 *     errors (so nothing is created: the planner's invalid-spec path),
 *     the rest as warnings, supported ones not at all;
 *   - values that ask for nothing and the basic example of PingCAP are
 *     quiet where they should be; unknown keys are warned about;
 *   - README.md's compatibility table is the table.
 */
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/api/tidbcluster_fields.h"
#include "reconcilers/api/tidbcluster_validate.h"
#include "reactor/buffer.h"
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const base_object =
    "{\"metadata\":{\"name\":\"f\"},\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,"
    "\"requests\":{\"storage\":\"1Gi\"}},\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}},"
    "\"tidb\":{\"replicas\":2}}}";

static const char *const component_names[] = { "pd", "tikv", "tidb" };

/* The concrete paths of a row: itself, or one per component of its set. */
static size_t concrete_paths(const struct tc_field_class *row, char out[3][160])
{
    if (strncmp(row->path, "spec.<c>.", 9) != 0) {
        snprintf(out[0], 160, "%s", row->path);
        return 1;
    }
    size_t n = 0;
    for (int c = 0; c < 3; c++)
        if (row->components & (1u << c))
            snprintf(out[n++], 160, "spec.%s.%s", component_names[c], row->path + 9);
    return n;
}

/* ---- the table against the decoder ---- */

struct decoded {
    char paths[400][160];
    bool group[400];
    size_t count;
};

static void collect(const char *path, bool group, void *context)
{
    struct decoded *d = context;
    if (d->count < 400) {
        snprintf(d->paths[d->count], 160, "%s", path);
        d->group[d->count++] = group;
    }
}

static void every_decoded_key_is_classified(void)
{
    static struct decoded d;
    d.count = 0;
    tidbcluster_decoded_fields(collect, &d);
    CHECK(d.count > 100 && d.count < 400);
    for (size_t i = 0; i < d.count; i++) {
        const struct tc_field_class *row = tidbcluster_field_find(d.paths[i]);
        if (!row) {
            test_fail(__FILE__, __LINE__, "%s is decoded but has no row in tidbcluster_fields.c", d.paths[i]);
            continue;
        }
        /* A decoded group is walked into; a decoded leaf is judged whole. */
        if (d.group[i] != (row->trigger == TC_TRIGGER_GROUP))
            test_fail(__FILE__, __LINE__, "%s: decoded as a %s, classified as a %s", d.paths[i],
                      d.group[i] ? "group" : "leaf", row->trigger == TC_TRIGGER_GROUP ? "group" : "leaf");
    }
}

static bool decoded_has(const struct decoded *d, const char *path)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->paths[i], path) == 0)
            return true;
    return false;
}

static void supported_rows_are_decoded(void)
{
    static struct decoded d;
    d.count = 0;
    tidbcluster_decoded_fields(collect, &d);
    size_t count = 0;
    const struct tc_field_class *table = tidbcluster_fields_table(&count);
    for (size_t i = 0; i < count; i++) {
        if (table[i].support != TC_FIELD_SUPPORTED)
            continue;
        char paths[3][160];
        size_t n = concrete_paths(&table[i], paths);
        for (size_t k = 0; k < n; k++)
            if (!decoded_has(&d, paths[k]))
                test_fail(__FILE__, __LINE__, "%s is classified supported but the decoder never reads it", paths[k]);
    }
}

static void rows_are_well_formed(void)
{
    size_t count = 0;
    const struct tc_field_class *table = tidbcluster_fields_table(&count);
    CHECK(count > 100);
    for (size_t i = 0; i < count; i++) {
        const struct tc_field_class *row = &table[i];
        CHECK(row->why && *row->why);
        CHECK(strncmp(row->path, "spec", 4) == 0);
        bool component_row = strncmp(row->path, "spec.<c>.", 9) == 0;
        if (component_row && (row->components == 0 || (row->components & ~TC_FIELD_ALL)))
            test_fail(__FILE__, __LINE__, "%s: a component row needs a component set", row->path);
        if (row->refused && row->support != TC_FIELD_NOT_SUPPORTED)
            test_fail(__FILE__, __LINE__, "%s: only a field not supported can be refused", row->path);
        if (row->trigger == TC_TRIGGER_GROUP && row->support != TC_FIELD_SUPPORTED)
            test_fail(__FILE__, __LINE__, "%s: a group is walked into, its members are classified", row->path);
        /* Each concrete path finds this very row (no row shadows another). */
        char paths[3][160];
        size_t n = concrete_paths(row, paths);
        for (size_t k = 0; k < n; k++)
            if (tidbcluster_field_find(paths[k]) != row)
                test_fail(__FILE__, __LINE__, "%s does not find its own row %s", paths[k], row->path);
    }
}

/* ---- what validation says ---- */

static void set_path(cJSON *root, const char *path, cJSON *value)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    cJSON *node = root;
    char *save = NULL;
    char *part = strtok_r(copy, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            cJSON_DeleteItemFromObjectCaseSensitive(node, part);
            cJSON_AddItemToObject(node, part, value);
            return;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, part);
        if (!child)
            child = cJSON_AddObjectToObject(node, part);
        node = child;
        part = next;
    }
}

/* Decodes base_object with `path` = `value` (JSON), applies defaults and
 * validates; false when it does not decode. */
static bool validate_with(const char *path, const char *value, struct tc_problems *problems)
{
    cJSON *object = cJSON_Parse(base_object);
    if (!object)
        return false;
    if (path)
        set_path(object, path, cJSON_Parse(value));
    struct tidbcluster tc;
    char *error = NULL;
    bool ok = tidbcluster_decode(object, &tc, &error);
    cJSON_Delete(object);
    free(error);
    if (!ok)
        return false;
    if (tidbcluster_apply_defaults(&tc))
        tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, problems);
    tidbcluster_free(&tc);
    return true;
}

/* A value of the field's type that asks for something: the first of a few
 * candidates the decoder accepts. */
static const char *asking_value(const struct tc_field_class *row, const char *path, struct tc_problems *problems)
{
    static const char *const candidates[] = {
        "true", "\"x\"", "2", "[\"x\"]", "{\"x\":\"y\"}", "[{\"name\":\"x\"}]",
    };
    if (row->trigger == TC_TRIGGER_REPLICAS) {
        if (validate_with(path, "{\"replicas\":1}", problems))
            return "{\"replicas\":1}";
        return NULL;
    }
    if (row->trigger == TC_TRIGGER_ABOVE_ONE)
        return validate_with(path, "2", problems) ? "2" : NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        tidbcluster_problems_free(problems);
        if (validate_with(path, candidates[i], problems))
            return candidates[i];
    }
    return NULL;
}

static char *expected_message(const struct tc_field_class *row)
{
    struct buffer text = { 0 };
    if (row->refused || row->support == TC_FIELD_NOT_SUPPORTED)
        buffer_append_format(&text, "not supported yet%s: %s", row->refused ? "" : ", ignored", row->why);
    else
        buffer_append_format(&text, "no effect here: %s", row->why);
    return buffer_take(&text);
}

static void every_classified_field_is_reported(void)
{
    size_t count = 0, refused = 0, warned = 0, quiet = 0;
    const struct tc_field_class *table = tidbcluster_fields_table(&count);
    for (size_t i = 0; i < count; i++) {
        const struct tc_field_class *row = &table[i];
        if (row->trigger == TC_TRIGGER_GROUP)
            continue;
        char paths[3][160];
        size_t n = concrete_paths(row, paths);
        for (size_t k = 0; k < n; k++) {
            struct tc_problems problems = { 0 };
            const char *value = asking_value(row, paths[k], &problems);
            if (!value) {
                test_fail(__FILE__, __LINE__, "%s: no test value decodes", paths[k]);
                tidbcluster_problems_free(&problems);
                continue;
            }
            const struct tc_problem *error = tidbcluster_problems_find(&problems, paths[k], TC_PROBLEM_ERROR);
            const struct tc_problem *warning = tidbcluster_problems_find(&problems, paths[k], TC_PROBLEM_WARNING);
            char *want = expected_message(row);
            if (row->support == TC_FIELD_SUPPORTED) {
                /* Other checks may speak about a supported field's value,
                 * never the compatibility scan. */
                const struct tc_problem *any = error ? error : warning;
                if (any && (strstr(any->message, "not supported") || strstr(any->message, "no effect") ||
                            strstr(any->message, "unknown field")))
                    test_fail(__FILE__, __LINE__, "%s = %s (supported): %s", paths[k], value, any->message);
                quiet++;
            } else if (row->refused) {
                if (!error || strcmp(error->message, want) != 0)
                    test_fail(__FILE__, __LINE__, "%s = %s: want the error \"%s\", got \"%s\"", paths[k], value, want,
                              error ? error->message : "(none)");
                refused++;
            } else {
                /* Not refused: the value's own checks may still speak
                 * ("x" is no duration), never a refusal. */
                bool refusal = error && strncmp(error->message, "not supported", 13) == 0;
                if (!warning || strcmp(warning->message, want) != 0 || refusal)
                    test_fail(__FILE__, __LINE__, "%s = %s: want the warning \"%s\" and no refusal, got \"%s\"%s",
                              paths[k], value, want, warning ? warning->message : "(none)",
                              refusal ? " and a refusal" : "");
                warned++;
            }
            free(want);
            tidbcluster_problems_free(&problems);
        }
    }
    printf("  %zu refused, %zu warned, %zu supported paths checked\n", refused, warned, quiet);
    CHECK(refused >= 10);
    CHECK(warned >= 30);
}

struct quiet_row {
    const char *path;
    const char *value;
};

/* Values that ask for nothing mean the same to both operators. */
static void values_asking_nothing_are_quiet(void)
{
    static const struct quiet_row rows[] = {
        { "spec.tlsCluster", "{\"enabled\":false}" },
        { "spec.tidb.tlsClient", "{\"enabled\":false}" },
        { "spec.hostNetwork", "false" },
        { "spec.tikv.hostNetwork", "false" },
        { "spec.discovery", "{}" },
        { "spec.tiflash", "{\"replicas\":0,\"baseImage\":\"pingcap/tiflash\"}" },
        { "spec.pump", "{\"replicas\":0}" },
        { "spec.acrossK8s", "false" },
        { "spec.pdAddresses", "[]" },
        { "spec.tikv.maxFailoverCount", "0" },
        { "spec.tikv.scalePolicy", "{\"scaleInParallelism\":1}" },
        { "spec.tidb.separateSlowLog", "false" },
        { "spec.helper", "{\"image\":\"\"}" },
        { "spec.tidb.initializer", "{\"createPassword\":false}" },
        { "spec.discovery", "{\"limits\":{}}" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tc_problems problems = { 0 };
        CHECK(validate_with(rows[i].path, rows[i].value, &problems));
        if (problems.count != 0)
            test_fail(__FILE__, __LINE__, "%s = %s: %s: %s", rows[i].path, rows[i].value, problems.items[0].field,
                      problems.items[0].message);
        tidbcluster_problems_free(&problems);
    }
}

static void unknown_keys_are_warned(void)
{
    static const struct quiet_row rows[] = {
        { "spec.tikv.replica", "3" },       /* a typo */
        { "spec.tidbMonitor", "{}" },       /* not a TidbCluster field; even empty */
        { "spec.tidb.service.nodePort", "30000" },
        { "spec.tlsCluster.enable", "true" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tc_problems problems = { 0 };
        CHECK(validate_with(rows[i].path, rows[i].value, &problems));
        const struct tc_problem *warning = tidbcluster_problems_find(&problems, rows[i].path, TC_PROBLEM_WARNING);
        if (!warning || strcmp(warning->message, "unknown field, ignored") != 0 || problems.errors)
            test_fail(__FILE__, __LINE__, "%s: %s", rows[i].path, warning ? warning->message : "(no warning)");
        tidbcluster_problems_free(&problems);
    }
}

/* TLS asked for is refused with the field and "not supported yet", and the
 * summary the planner puts in the condition and event says so. */
static void tls_is_refused(void)
{
    struct tc_problems problems = { 0 };
    REQUIRE(validate_with("spec.tlsCluster", "{\"enabled\":true}", &problems));
    CHECK_INT(problems.errors, 1);
    char *summary = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
    CHECK_STR(summary, "spec.tlsCluster.enabled: not supported yet: TLS between PD, TiKV and TiDB; refused rather "
                       "than run the cluster in plaintext");
    free(summary);
    tidbcluster_problems_free(&problems);
}

/* PingCAP's basic example: what it is told. */
static void basic_example_findings(void)
{
    cJSON *object = e2e_repo_yaml_first("examples/basic/tidb-cluster.yaml");
    REQUIRE(object);
    struct tidbcluster tc;
    char *error = NULL;
    bool decoded = tidbcluster_decode(object, &tc, &error);
    cJSON_Delete(object);
    free(error);
    REQUIRE(decoded);
    CHECK(tidbcluster_apply_defaults(&tc));
    struct tc_problems problems = { 0 };
    tidbcluster_validate(&tc, TC_VALIDATE_CREATE, &problems);
    CHECK_INT(problems.errors, 0);
    char *summary = tidbcluster_problems_summary(&problems, TC_PROBLEM_WARNING);
    CHECK_STR(summary, ""); /* everything the example writes acts here */
    free(summary);
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

/* ---- README.md ---- */

#define README_BEGIN "<!-- compatibility table: generated from reconcilers/api/tidbcluster_fields.c -->\n"
#define README_END "<!-- end of the compatibility table -->\n"

static char *expected_readme_table(void)
{
    size_t count = 0;
    const struct tc_field_class *table = tidbcluster_fields_table(&count);
    struct buffer text = { 0 };
    bool ok = buffer_append_string(&text, "| field | in | here | why |\n|---|---|---|---|\n");
    for (size_t i = 0; ok && i < count; i++) {
        const struct tc_field_class *row = &table[i];
        if (row->trigger == TC_TRIGGER_GROUP)
            continue;
        char in[32] = "";
        if (strncmp(row->path, "spec.<c>.", 9) == 0)
            for (int c = 0; c < 3; c++)
                if (row->components & (1u << c))
                    snprintf(in + strlen(in), sizeof in - strlen(in), "%s%s", in[0] ? ", " : "", component_names[c]);
        const char *support = row->refused ? "**refused**: not supported yet" : tidbcluster_field_support_name(row->support);
        ok = buffer_append_format(&text, "| `%s` | %s | %s | %s |\n", row->path, in, support, row->why);
    }
    return ok ? buffer_take(&text) : NULL;
}

static void readme_table_is_the_table(void)
{
    size_t length = 0;
    char *readme = e2e_repo_file_read("README.md", &length);
    REQUIRE(readme);
    char *want = expected_readme_table();
    REQUIRE(want);
    const char *begin = strstr(readme, README_BEGIN);
    const char *end = begin ? strstr(begin, README_END) : NULL;
    if (!begin || !end) {
        test_fail(__FILE__, __LINE__, "README.md lacks the markers around the compatibility table");
    } else {
        begin += strlen(README_BEGIN);
        size_t have = (size_t)(end - begin);
        if (have != strlen(want) || memcmp(begin, want, have) != 0)
            test_fail(__FILE__, __LINE__, "README.md's compatibility table differs from the code's; it should read:\n%s",
                      want);
    }
    free(want);
    free(readme);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(every_decoded_key_is_classified),
        TEST_CASE(supported_rows_are_decoded),
        TEST_CASE(rows_are_well_formed),
        TEST_CASE(every_classified_field_is_reported),
        TEST_CASE(values_asking_nothing_are_quiet),
        TEST_CASE(unknown_keys_are_warned),
        TEST_CASE(tls_is_refused),
        TEST_CASE(basic_example_findings),
        TEST_CASE(readme_table_is_the_table),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
