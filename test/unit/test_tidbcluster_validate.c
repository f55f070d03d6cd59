#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/api/tidbcluster_validate.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

/* A valid cluster; each row changes one field. */
static const char *const base_object =
    "{\"metadata\":{\"name\":\"v\"},\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,"
    "\"requests\":{\"storage\":\"1Gi\"}},\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}},"
    "\"tidb\":{\"replicas\":2}}}";

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
            if (!value)
                cJSON_DeleteItemFromObject(node, part);
            else if (cJSON_GetObjectItem(node, part))
                cJSON_ReplaceItemInObject(node, part, value);
            else
                cJSON_AddItemToObject(node, part, value);
            return;
        }
        cJSON *child = cJSON_GetObjectItem(node, part);
        if (!child)
            child = cJSON_AddObjectToObject(node, part);
        node = child;
        part = next;
    }
}

/* Decodes base_object with `path` set to `value` (JSON; NULL deletes it),
 * applies defaults and validates. */
static bool run(const char *path, const char *value, enum tc_validate_mode mode, struct tc_problems *problems)
{
    cJSON *object = cJSON_Parse(base_object);
    if (!object)
        return false;
    if (path)
        set_path(object, path, value ? cJSON_Parse(value) : NULL);
    struct tidbcluster tc;
    char *error = NULL;
    bool ok = tidbcluster_decode(object, &tc, &error);
    cJSON_Delete(object);
    if (!ok) {
        test_fail(__FILE__, __LINE__, "%s: decode failed: %s", path, error);
        free(error);
        return false;
    }
    ok = tidbcluster_apply_defaults(&tc);
    if (ok)
        tidbcluster_validate(&tc, mode, problems);
    tidbcluster_free(&tc);
    return ok;
}

static void base_is_valid(void)
{
    struct tc_problems problems = { 0 };
    REQUIRE(run(NULL, NULL, TC_VALIDATE_CREATE, &problems));
    char *text = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
    CHECK_STR(text, "");
    free(text);
    text = tidbcluster_problems_summary(&problems, TC_PROBLEM_WARNING);
    CHECK_STR(text, "");
    free(text);
    CHECK_INT(problems.count, 0);
    tidbcluster_problems_free(&problems);
}

struct row {
    const char *path;
    const char *value;
    const char *field;
    const char *message;
};

static const struct row error_rows[] = {
    { "spec.tikv.replicas", "-1", "spec.tikv.replicas", "must be greater than or equal to 0, got -1" },
    { "spec.tidb.replicas", NULL, "spec.tidb.replicas", "required" },
    { "spec.tikv.maxFailoverCount", "-2", "spec.tikv.maxFailoverCount", "must be greater than or equal to 0, got -2" },
    { "spec.tikv.requests", "{}", "spec.tikv.requests.storage", "required" },
    { "spec.pd.requests.storage", NULL, "spec.pd.requests.storage", "required" },
    { "spec.tikv.requests.storage", "\"0\"", "spec.tikv.requests.storage", "must be greater than 0" },
    { "spec.tikv.requests.storage", "\"10XB\"", "spec.tikv.requests.storage",
      "invalid quantity \"10XB\": unknown suffix (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent such as e3)" },
    { "spec.tidb.requests.cpu", "\"lots\"", "spec.tidb.requests.cpu", "invalid quantity \"lots\": not a number" },
    { "spec.tidb.requests.memory", "\"-1Gi\"", "spec.tidb.requests.memory", "must not be negative, got \"-1Gi\"" },
    { "spec.tidb.limits.cpu", "\"500m\"", NULL, NULL }, /* no request: fine (checked below) */
    { "spec.tidb.config", "\"[log\\nlevel = 1\"", "spec.tidb.config",
      "invalid TOML at line 1, column 5: expected ']' to end a table header" },
    { "spec.tikv.config", "\"storage.reserve-space = \\\"0MB\\\"\\nstorage.reserve-space = \\\"1GB\\\"\\n\"", "spec.tikv.config",
      "invalid TOML at line 2, column 1: duplicate key \"storage.reserve-space\"" },
    { "spec.tidb.service", "{\"type\":\"External\"}", "spec.tidb.service.type",
      "unsupported value \"External\": must be ClusterIP, NodePort or LoadBalancer" },
    { "spec.pd.service", "{\"type\":\"nodeport\"}", "spec.pd.service.type",
      "unsupported value \"nodeport\": must be ClusterIP, NodePort or LoadBalancer" },
    { "spec.tidb.service", "{\"port\":70000}", "spec.tidb.service.port", "must be between 1 and 65535, got 70000" },
    { "spec.tidb.service", "{\"type\":\"ClusterIP\",\"mysqlNodePort\":30001}", "spec.tidb.service.mysqlNodePort",
      "may only be set when service.type is NodePort or LoadBalancer" },
    { "spec.tidb.service", "{\"statusNodePort\":-5}", "spec.tidb.service.statusNodePort", "must be between 0 and 65535, got -5" },
    { "spec.tidb.service", "{\"externalTrafficPolicy\":\"Nearest\"}", "spec.tidb.service.externalTrafficPolicy",
      "unsupported value \"Nearest\": must be Cluster or Local" },
    { "spec.version", "\"v8.5 .0\"", "spec.version",
      "invalid version \"v8.5 .0\": must be an image tag (letters, digits, '_', '.', '-'; at most 128 characters; not starting with '.' or '-')" },
    { "spec.tikv.version", "\"-rc\"", "spec.tikv.version",
      "invalid version \"-rc\": must be an image tag (letters, digits, '_', '.', '-'; at most 128 characters; not starting with '.' or '-')" },
    { "spec.timezone", "\"UTC; rm -rf /\"", "spec.timezone",
      "invalid time zone \"UTC; rm -rf /\": expected an IANA name such as UTC or Asia/Shanghai" },
    { "spec.pvReclaimPolicy", "\"Recycle\"", "spec.pvReclaimPolicy", "unsupported value \"Recycle\": must be Retain or Delete" },
    { "spec.imagePullPolicy", "\"Sometimes\"", "spec.imagePullPolicy",
      "unsupported value \"Sometimes\": must be Always, IfNotPresent or Never" },
    { "spec.tikv.imagePullPolicy", "\"always\"", "spec.tikv.imagePullPolicy",
      "unsupported value \"always\": must be Always, IfNotPresent or Never" },
    { "spec.configUpdateStrategy", "\"Restart\"", "spec.configUpdateStrategy",
      "unsupported value \"Restart\": must be InPlace or RollingUpdate" },
    { "spec.pd.configUpdateStrategy", "\"rolling\"", "spec.pd.configUpdateStrategy",
      "unsupported value \"rolling\": must be InPlace or RollingUpdate" },
    { "spec.tikv.evictLeaderTimeout", "\"ten minutes\"", "spec.tikv.evictLeaderTimeout",
      "invalid duration \"ten minutes\": expected a Go duration such as 1500m, 400s or 1h30m" },
    { "spec.tikv.waitLeaderTransferBackTimeout", "\"400\"", "spec.tikv.waitLeaderTransferBackTimeout",
      "invalid duration \"400\": expected a Go duration such as 1500m, 400s or 1h30m" },
    { "spec.tikv.scalePolicy", "{\"scaleInParallelism\":0}", "spec.tikv.scalePolicy.scaleInParallelism", "must be at least 1, got 0" },
    { "spec.tidb.scalePolicy", "{\"scaleOutParallelism\":-1}", "spec.tidb.scalePolicy.scaleOutParallelism", "must be at least 1, got -1" },
    { "spec.pd.startTimeout", "0", "spec.pd.startTimeout", "must be greater than 0, got 0" },
    { "spec.tikv.storageClassName", "\"Local_SSD\"", "spec.tikv.storageClassName",
      "invalid name \"Local_SSD\": must be a lowercase DNS subdomain" },
    { "spec.tidb.terminationGracePeriodSeconds", "-1", "spec.tidb.terminationGracePeriodSeconds",
      "must be greater than or equal to 0, got -1" },
    { "spec.pdAddresses", "[\"http://pd:2379\",\"pd:2379\"]", "spec.pdAddresses[1]",
      "invalid PD address \"pd:2379\": expected http://host:port or https://host:port" },
    { "spec.pdAddresses", "[\"https://pd.example:99999\"]", "spec.pdAddresses[0]",
      "invalid PD address \"https://pd.example:99999\": expected http://host:port or https://host:port" },
    { "spec.pd", NULL, "spec.pd", "required when tikv or tidb is set (or set spec.pdAddresses)" },
    { "spec.version", NULL, "spec.tikv.baseImage",
      "required: no image can be resolved (set spec.version, spec.tikv.version or spec.tikv.baseImage)" },
    { "metadata.name", NULL, "metadata.name", "required" },
    { "spec", NULL, "spec", "required" },
};

static void validate_errors_table(void)
{
    for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++) {
        const struct row *row = &error_rows[i];
        struct tc_problems problems = { 0 };
        if (!run(row->path, row->value, TC_VALIDATE_UPDATE, &problems)) {
            test_fail(__FILE__, __LINE__, "row %zu: run failed", i);
            continue;
        }
        if (!row->field) {
            CHECK_INT(problems.errors, 0);
        } else {
            const struct tc_problem *problem = tidbcluster_problems_find(&problems, row->field, TC_PROBLEM_ERROR);
            char *all = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
            if (!problem || strcmp(problem->message, row->message) != 0)
                test_fail(__FILE__, __LINE__, "row %zu (%s): got \"%s\"", i, row->field, all);
            free(all);
        }
        tidbcluster_problems_free(&problems);
    }
}

static const struct row warning_rows[] = {
    { "spec.pd.replicas", "4", "spec.pd.replicas",
      "an even number of PD members (4) tolerates no more failures than 3; use an odd number" },
    { "spec.pd.replicas", "0", "spec.pd.replicas", "0 PD members: the cluster cannot serve until PD is scaled up" },
    { "spec.tikv.replicas", "1", "spec.tikv.replicas",
      "fewer than 3 TiKV stores cannot hold the default 3 replicas of each region" },
    { "spec.tikv.image", "\"pingcap/tikv:v3.0.0\"", "spec.tikv.image", "deprecated field: use baseImage and version instead" },
    { "spec.pvReclaimPolicy", "\"Delete\"", "spec.pvReclaimPolicy",
      "Delete: a volume is deleted with its claim, so data of removed members is lost" },
};

static void validate_warnings_table(void)
{
    for (size_t i = 0; i < sizeof warning_rows / sizeof warning_rows[0]; i++) {
        const struct row *row = &warning_rows[i];
        struct tc_problems problems = { 0 };
        if (!run(row->path, row->value, TC_VALIDATE_UPDATE, &problems))
            continue;
        CHECK_INT(problems.errors, 0);
        const struct tc_problem *problem = tidbcluster_problems_find(&problems, row->field, TC_PROBLEM_WARNING);
        if (!problem || strcmp(problem->message, row->message) != 0) {
            char *all = tidbcluster_problems_summary(&problems, TC_PROBLEM_WARNING);
            test_fail(__FILE__, __LINE__, "row %zu (%s): got \"%s\"", i, row->field, all);
            free(all);
        }
        tidbcluster_problems_free(&problems);
    }
}

static void validate_create_only_rules(void)
{
    /* The deprecated image is an error on create, a warning afterwards. */
    struct tc_problems problems = { 0 };
    REQUIRE(run("spec.tidb.image", "\"pingcap/tidb:v3\"", TC_VALIDATE_CREATE, &problems));
    const struct tc_problem *problem = tidbcluster_problems_find(&problems, "spec.tidb.image", TC_PROBLEM_ERROR);
    REQUIRE(problem);
    CHECK_STR(problem->message, "deprecated field: use baseImage and version instead");
    tidbcluster_problems_free(&problems);

    /* spec.version is required on create only (components with their own version). */
    cJSON *object = cJSON_Parse("{\"metadata\":{\"name\":\"c\"},\"spec\":{\"pd\":{\"replicas\":1,\"version\":\"v8.5.0\","
                                "\"requests\":{\"storage\":\"1Gi\"}}}}");
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(tidbcluster_decode(object, &tc, &error));
    cJSON_Delete(object);
    REQUIRE(tidbcluster_apply_defaults(&tc));
    tidbcluster_validate(&tc, TC_VALIDATE_CREATE, &problems);
    problem = tidbcluster_problems_find(&problems, "spec.version", TC_PROBLEM_ERROR);
    REQUIRE(problem);
    CHECK_STR(problem->message, "required");
    tidbcluster_problems_free(&problems);
    tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, &problems);
    CHECK_INT(problems.errors, 0);
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

static void validate_limits_against_requests(void)
{
    struct tc_problems problems = { 0 };
    REQUIRE(run("spec.tidb.limits", "{\"cpu\":\"500m\",\"memory\":\"1Gi\"}", TC_VALIDATE_UPDATE, &problems));
    CHECK_INT(problems.errors, 0);
    tidbcluster_problems_free(&problems);

    cJSON *object = cJSON_Parse(base_object);
    set_path(object, "spec.tidb.requests", cJSON_Parse("{\"cpu\":1,\"memory\":\"2Gi\"}"));
    set_path(object, "spec.tidb.limits", cJSON_Parse("{\"cpu\":\"500m\",\"memory\":\"2048Mi\"}"));
    set_path(object, "spec.tikv.limits", cJSON_Parse("{\"storage\":\"1Gi\"}")); /* capacity: not compared */
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(tidbcluster_decode(object, &tc, &error));
    cJSON_Delete(object);
    REQUIRE(tidbcluster_apply_defaults(&tc));
    tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, &problems);
    char *all = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
    CHECK_STR(all, "spec.tidb.limits.cpu: must be greater than or equal to requests.cpu (\"500m\" < \"1\")");
    free(all);
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

static void validate_reports_several_at_once(void)
{
    cJSON *object = cJSON_Parse(base_object);
    set_path(object, "spec.pvReclaimPolicy", cJSON_Parse("\"Keep\""));
    set_path(object, "spec.tikv.replicas", cJSON_Parse("-3"));
    set_path(object, "spec.tidb.service", cJSON_Parse("{\"type\":\"Ingress\"}"));
    set_path(object, "spec.pd.replicas", cJSON_Parse("2"));
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(tidbcluster_decode(object, &tc, &error));
    cJSON_Delete(object);
    REQUIRE(tidbcluster_apply_defaults(&tc));
    struct tc_problems problems = { 0 };
    tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, &problems);
    CHECK_INT(problems.errors, 3);
    CHECK_INT(problems.warnings, 1);
    char *all = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
    CHECK_STR(all, "spec.pvReclaimPolicy: unsupported value \"Keep\": must be Retain or Delete; "
                   "spec.tikv.replicas: must be greater than or equal to 0, got -3; "
                   "spec.tidb.service.type: unsupported value \"Ingress\": must be ClusterIP, NodePort or LoadBalancer");
    free(all);
    all = tidbcluster_problems_summary(&problems, TC_PROBLEM_WARNING);
    CHECK_STR(all, "spec.pd.replicas: an even number of PD members (2) tolerates no more failures than 1; use an odd number");
    free(all);
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

static void validate_warns_about_untagged_images(void)
{
    cJSON *object = cJSON_Parse("{\"metadata\":{\"name\":\"u\"},\"spec\":{\"pd\":{\"replicas\":1,\"baseImage\":\"my/pd\","
                                "\"requests\":{\"storage\":\"1Gi\"}},\"tidb\":{\"replicas\":0,\"baseImage\":\"my/tidb\"}}}");
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(tidbcluster_decode(object, &tc, &error));
    cJSON_Delete(object);
    REQUIRE(tidbcluster_apply_defaults(&tc));
    struct tc_problems problems = { 0 };
    tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, &problems);
    CHECK_INT(problems.errors, 0);
    const struct tc_problem *problem = tidbcluster_problems_find(&problems, "spec.pd.version", TC_PROBLEM_WARNING);
    REQUIRE(problem);
    CHECK_STR(problem->message, "no version: the image \"my/pd\" has no tag, so the registry's latest is used");
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);

    /* No component at all: a warning only. */
    object = cJSON_Parse("{\"metadata\":{\"name\":\"e\"},\"spec\":{}}");
    REQUIRE(tidbcluster_decode(object, &tc, &error));
    cJSON_Delete(object);
    REQUIRE(tidbcluster_apply_defaults(&tc));
    tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, &problems);
    CHECK_INT(problems.errors, 0);
    problem = tidbcluster_problems_find(&problems, "spec", TC_PROBLEM_WARNING);
    REQUIRE(problem);
    CHECK_STR(problem->message, "no pd, tikv or tidb: nothing to manage");
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(base_is_valid),
        TEST_CASE(validate_errors_table),
        TEST_CASE(validate_warnings_table),
        TEST_CASE(validate_create_only_rules),
        TEST_CASE(validate_limits_against_requests),
        TEST_CASE(validate_reports_several_at_once),
        TEST_CASE(validate_warns_about_untagged_images),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
