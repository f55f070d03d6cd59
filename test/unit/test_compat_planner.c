/*
 * test_compat_planner: what a user sees for each classified TidbCluster
 * field (reconcilers/api/tidbcluster_fields.h), from the planner's plans.
 *   - refused fields: the plan is exactly the invalid-spec one (a Warning
 *     FailedValidation naming the field and "not supported yet", the Ready
 *     condition InvalidSpec) — nothing is created;
 *   - fields not supported or without effect here: the cluster proceeds
 *     (its first members are created) and the condition
 *     UnsupportedFields=True lists the field;
 *   - the warnings (validation's too) are told once per generation, and the
 *     condition goes when the spec has none.
 */
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/api/tidbcluster_fields.h"
#include "reconcilers/planner/planner.h"
#include "test/support/planner_world.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct planner_world F;

static const char *const component_names[] = { "pd", "tikv", "tidb" };

static const struct action *find_kind(enum action_kind kind, const char *reason)
{
    for (size_t i = 0; i < F.plan.count; i++)
        if (F.plan.actions[i].kind == kind && (!reason || strcmp(F.plan.actions[i].reason, reason) == 0))
            return &F.plan.actions[i];
    return NULL;
}

static const cJSON *condition_of_plan(const char *type)
{
    const struct action *update = find_kind(ACTION_UPDATE_STATUS, NULL);
    const cJSON *status = update ? cJSON_GetObjectItemCaseSensitive(update->body, "status") : NULL;
    const cJSON *condition;
    cJSON_ArrayForEach(condition, cJSON_GetObjectItemCaseSensitive(status, "conditions")) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(condition, "type");
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, type) == 0)
            return condition;
    }
    return NULL;
}

static const char *text_of(const cJSON *object, const char *key)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static bool adopt_status(void)
{
    const struct action *update = find_kind(ACTION_UPDATE_STATUS, NULL);
    const cJSON *status = update ? cJSON_GetObjectItemCaseSensitive(update->body, "status") : NULL;
    struct tidbcluster_status next;
    char *error = NULL;
    if (!status || !tidbcluster_status_decode(status, &next, &error)) {
        free(error);
        return false;
    }
    tidbcluster_status_free(&F.tc.status);
    F.tc.status = next;
    return true;
}

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

/* The basic cluster with `path` = `value`, as JSON text, when it decodes
 * (malloc'd), else NULL. */
static char *cluster_with(const char *path, const char *value)
{
    cJSON *object = cJSON_Parse(planner_world_basic_json);
    if (!object)
        return NULL;
    set_path(object, path, cJSON_Parse(value));
    struct tidbcluster tc;
    char *error = NULL;
    bool ok = tidbcluster_decode(object, &tc, &error);
    free(error);
    tidbcluster_free(&tc);
    char *text = ok ? cJSON_PrintUnformatted(object) : NULL;
    cJSON_Delete(object);
    return text;
}

/* A value that asks for something and decodes. */
static char *asking_cluster(const struct tc_field_class *row, const char *path)
{
    static const char *const candidates[] = {
        "true", "\"x\"", "2", "[\"x\"]", "{\"x\":\"y\"}", "[{\"name\":\"x\"}]",
    };
    /* Fields whose value is checked too: a valid one. */
    static const struct { const char *suffix, *value; } valid[] = {
        { ".configUpdateStrategy", "\"RollingUpdate\"" },
        { ".evictLeaderTimeout", "\"10m\"" },
        { ".waitLeaderTransferBackTimeout", "\"1m\"" },
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        size_t n = strlen(path), m = strlen(valid[i].suffix);
        if (n > m && strcmp(path + n - m, valid[i].suffix) == 0)
            return cluster_with(path, valid[i].value);
    }
    if (row->trigger == TC_TRIGGER_REPLICAS)
        return cluster_with(path, "{\"replicas\":1}");
    if (row->trigger == TC_TRIGGER_ABOVE_ONE)
        return cluster_with(path, "2");
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char *text = cluster_with(path, candidates[i]);
        if (text)
            return text;
    }
    return NULL;
}

static void every_classified_field_as_the_user_sees_it(void)
{
    size_t count = 0, refused = 0, warned = 0;
    const struct tc_field_class *table = tidbcluster_fields_table(&count);
    for (size_t i = 0; i < count; i++) {
        const struct tc_field_class *row = &table[i];
        if (row->trigger == TC_TRIGGER_GROUP || row->support == TC_FIELD_SUPPORTED)
            continue;
        for (int c = 0; c < 3; c++) {
            char path[160];
            bool component_row = strncmp(row->path, "spec.<c>.", 9) == 0;
            if (component_row && !(row->components & (1u << c)))
                continue;
            if (!component_row && c > 0)
                break;
            if (component_row)
                snprintf(path, sizeof path, "spec.%s.%s", component_names[c], row->path + 9);
            else
                snprintf(path, sizeof path, "%s", row->path);
            char *json = asking_cluster(row, path);
            if (!json) {
                test_fail(__FILE__, __LINE__, "%s: no value decodes", path);
                continue;
            }
            char mention[200];
            snprintf(mention, sizeof mention, "%s: %s", path,
                     row->refused ? "not supported yet: " : tidbcluster_field_support_name(row->support));
            if (!planner_world_init(&F, json)) {
                free(json);
                continue;
            }
            free(json);
            if (!planner_world_run(&F)) {
                test_fail(__FILE__, __LINE__, "%s: the planner failed", path);
                planner_world_done(&F);
                continue;
            }
            const cJSON *ready = condition_of_plan("Ready");
            if (row->refused) {
                /* Refused: exactly the invalid-spec plan, nothing created. */
                char *plan = planner_world_describe(&F.plan);
                const struct action *event = find_kind(ACTION_EVENT, "FailedValidation");
                if (!plan || strcmp(plan, "event Warning FailedValidation; update-status tidbclusters basic") != 0 ||
                    !event || !strstr(event->message, mention) || !text_of(ready, "reason") ||
                    strcmp(text_of(ready, "reason"), "InvalidSpec") != 0 || !text_of(ready, "message") ||
                    !strstr(text_of(ready, "message"), mention))
                    test_fail(__FILE__, __LINE__, "%s: not refused as an invalid spec: %s (event: %s)", path,
                              plan ? plan : "-", event ? event->message : "none");
                free(plan);
                refused++;
            } else {
                /* Warned: the cluster proceeds and the condition says why. */
                const cJSON *unsupported = condition_of_plan("UnsupportedFields");
                const struct action *event = find_kind(ACTION_EVENT, "UnsupportedFields");
                const char *message = text_of(unsupported, "message");
                if (plan_count(&F.plan, ACTION_CREATE) == 0 || !unsupported ||
                    strcmp(text_of(unsupported, "status"), "True") != 0 ||
                    strcmp(text_of(unsupported, "reason"), "SpecWarnings") != 0 || !message ||
                    !strstr(message, mention) || !event || !event->warning || strcmp(event->message, message) != 0)
                    test_fail(__FILE__, __LINE__, "%s: want creates and UnsupportedFields naming it, got %zu creates, "
                              "condition \"%s\"", path, plan_count(&F.plan, ACTION_CREATE), message ? message : "-");
                warned++;
            }
            planner_world_done(&F);
        }
    }
    printf("  %zu refused, %zu warned\n", refused, warned);
    CHECK(refused >= 10 && warned >= 30);
}

/* Told once per generation; the condition goes with the last warning. */
static void warnings_told_once_per_generation(void)
{
    char *json = cluster_with("spec.tikv.storeLabels", "[\"zone\"]");
    REQUIRE(json);
    cJSON *object = cJSON_Parse(json);
    free(json);
    REQUIRE(object);
    set_path(object, "spec.pd.replicas", cJSON_CreateNumber(2));
    char *text = cJSON_PrintUnformatted(object);
    cJSON_Delete(object);
    REQUIRE(text);
    REQUIRE(planner_world_init(&F, text));
    free(text);
    REQUIRE(planner_world_run(&F));
    const char *want = "spec.pd.replicas: an even number of PD members (2) tolerates no more failures than 1; use an "
                       "odd number; spec.tikv.storeLabels: not supported yet, ignored: PD is not told the stores' "
                       "locations: replicas are not spread by zone";
    const struct action *event = find_kind(ACTION_EVENT, "UnsupportedFields");
    CHECK(event && event->warning);
    CHECK_STR(event ? event->message : NULL, want);
    CHECK_STR(text_of(condition_of_plan("UnsupportedFields"), "message"), want);
    CHECK_STR(text_of(condition_of_plan("UnsupportedFields"), "lastTransitionTime"), PLANNER_WORLD_NOW_TEXT);
    CHECK(plan_count(&F.plan, ACTION_CREATE) > 0); /* the cluster proceeds */
    /* Written: the next pass of the same generation tells nothing. */
    REQUIRE(adopt_status());
    CHECK_INT(F.tc.status.observed_generation, 3);
    REQUIRE(planner_world_run(&F));
    CHECK(find_kind(ACTION_EVENT, "UnsupportedFields") == NULL);
    /* A new generation (any spec edit) is told again; the condition is
     * the same and is not rewritten. */
    F.tc.generation = 4;
    REQUIRE(planner_world_run(&F));
    CHECK(find_kind(ACTION_EVENT, "UnsupportedFields") != NULL);
    REQUIRE(adopt_status());
    REQUIRE(planner_world_run(&F));
    CHECK(find_kind(ACTION_EVENT, "UnsupportedFields") == NULL);
    /* A spec without warnings: the condition goes, nothing is told. */
    struct tidbcluster_status kept = F.tc.status;
    F.tc.status = (struct tidbcluster_status){ 0 };
    tidbcluster_free(&F.tc);
    REQUIRE(planner_world_load(&F, planner_world_basic_json));
    tidbcluster_status_free(&F.tc.status);
    F.tc.status = kept;
    REQUIRE(planner_world_run(&F));
    CHECK(find_kind(ACTION_EVENT, "UnsupportedFields") == NULL);
    CHECK(find_kind(ACTION_UPDATE_STATUS, NULL) != NULL);
    CHECK(condition_of_plan("UnsupportedFields") == NULL);
    CHECK(condition_of_plan("Ready") != NULL);
    planner_world_done(&F);
}

/* A long list is cut in the condition, with a count. */
static void long_lists_are_cut(void)
{
    cJSON *object = cJSON_Parse(planner_world_basic_json);
    REQUIRE(object);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    for (int i = 0; i < 200; i++) {
        char key[64];
        snprintf(key, sizeof key, "unknownField%03d", i);
        cJSON_AddNumberToObject(spec, key, 1);
    }
    char *text = cJSON_PrintUnformatted(object);
    cJSON_Delete(object);
    REQUIRE(text);
    REQUIRE(planner_world_init(&F, text));
    free(text);
    REQUIRE(planner_world_run(&F));
    const char *message = text_of(condition_of_plan("UnsupportedFields"), "message");
    REQUIRE(message);
    CHECK(strlen(message) <= 2048 + 32);
    CHECK(strncmp(message, "spec.unknownField000: unknown field, ignored; spec.unknownField001: ", 68) == 0);
    const char *tail = strstr(message, "; and ");
    CHECK(tail && strstr(tail, " more") && strcmp(tail + strlen(tail) - 5, " more") == 0);
    planner_world_done(&F);
}

/* One warning longer than the limit (an unknown key of 3000 bytes, é at
 * the cut): cut inside it, never inside a character. */
static void one_huge_warning_is_cut_on_a_character(void)
{
    cJSON *object = cJSON_Parse(planner_world_basic_json);
    REQUIRE(object);
    char key[3001];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    /* "spec." is 5 bytes: put a 2-byte character across byte 2048. */
    key[2047 - 5] = (char)0xC3;
    key[2048 - 5] = (char)0xA9;
    cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(object, "spec"), key, 1);
    char *text = cJSON_PrintUnformatted(object);
    cJSON_Delete(object);
    REQUIRE(text);
    REQUIRE(planner_world_init(&F, text));
    free(text);
    REQUIRE(planner_world_run(&F));
    const char *message = text_of(condition_of_plan("UnsupportedFields"), "message");
    REQUIRE(message);
    size_t length = strlen(message);
    const char *tail = strstr(message, " (cut)");
    CHECK(tail != NULL);
    if (tail) {
        size_t kept = (size_t)(tail - message);
        CHECK_INT(kept, 2047); /* before the é, not inside it */
        CHECK(((unsigned char)message[kept - 1] & 0x80) == 0);
    }
    CHECK_INT(length, 2047 + strlen(" (cut)"));
    planner_world_done(&F);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(every_classified_field_as_the_user_sees_it),
        TEST_CASE(warnings_told_once_per_generation),
        TEST_CASE(long_lists_are_cut),
        TEST_CASE(one_huge_warning_is_cut_on_a_character),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
