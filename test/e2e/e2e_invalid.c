/*
 * e2e_invalid: invalid TidbCluster specs are refused with the exact message
 * of reconcilers/api/tidbcluster_validate.h (or of the decoder for wrong JSON
 * types) — in the status condition (reason InvalidSpec) and/or the Warning
 * Event FailedValidation, or by the API with 422 when the CRD schema
 * rejects the type — and NOTHING is created for them (no pod, service,
 * PVC). Fixing a spec resumes: its members get created.
 *
 * Every spec is the basic example with a JSON merge patch applied; all run
 * in one kubesim with one operator, each cluster under its own name.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUSED_TIMEOUT_MS 30000
#define RESUME_TIMEOUT_MS 60000

struct invalid_case {
    const char *patch;     /* JSON merge patch over the basic spec */
    const char *message;   /* expected text ("field: message") */
    bool type_error;       /* a wrong JSON type: the CRD schema may answer 422 */
};

static const struct invalid_case table[] = {
    { "{\"spec\":{\"pvReclaimPolicy\":\"Keep\"}}",
      "spec.pvReclaimPolicy: unsupported value \"Keep\": must be Retain or Delete", false },
    { "{\"spec\":{\"timezone\":\"Asia/Shang hai\"}}",
      "spec.timezone: invalid time zone \"Asia/Shang hai\": expected an IANA name such as UTC or Asia/Shanghai", false },
    { "{\"spec\":{\"pd\":{\"replicas\":-1}}}",
      "spec.pd.replicas: must be greater than or equal to 0, got -1", false },
    { "{\"spec\":{\"tikv\":{\"maxFailoverCount\":-2}}}",
      "spec.tikv.maxFailoverCount: must be greater than or equal to 0, got -2", false },
    { "{\"spec\":{\"version\":\"v8.5.7 beta\"}}",
      "spec.version: invalid version \"v8.5.7 beta\": must be an image tag (letters, digits, '_', '.', '-'; "
      "at most 128 characters; not starting with '.' or '-')", false },
    { "{\"spec\":{\"imagePullPolicy\":\"Sometimes\"}}",
      "spec.imagePullPolicy: unsupported value \"Sometimes\": must be Always, IfNotPresent or Never", false },
    { "{\"spec\":{\"tidb\":{\"configUpdateStrategy\":\"Never\"}}}",
      "spec.tidb.configUpdateStrategy: unsupported value \"Never\": must be InPlace or RollingUpdate", false },
    { "{\"spec\":{\"tikv\":{\"requests\":{\"storage\":\"0\"}}}}",
      "spec.tikv.requests.storage: must be greater than 0", false },
    { "{\"spec\":{\"pd\":{\"requests\":null}}}",
      "spec.pd.requests.storage: required", false },
    { "{\"spec\":{\"tikv\":{\"requests\":{\"cpu\":\"lots\"}}}}",
      "spec.tikv.requests.cpu: invalid quantity \"lots\": ", false },
    { "{\"spec\":{\"tidb\":{\"requests\":{\"memory\":\"2Gi\"},\"limits\":{\"memory\":\"1Gi\"}}}}",
      "spec.tidb.limits.memory: must be greater than or equal to requests.memory (\"1Gi\" < \"2Gi\")", false },
    { "{\"spec\":{\"pd\":{\"config\":\"[server\\nlease = 3\\n\"}}}",
      "spec.pd.config: invalid TOML at line 1, column ", false },
    { "{\"spec\":{\"tikv\":{\"storageClassName\":\"Fast_SSD\"}}}",
      "spec.tikv.storageClassName: invalid name \"Fast_SSD\": must be a lowercase DNS subdomain", false },
    { "{\"spec\":{\"tidb\":{\"service\":{\"type\":\"External\"}}}}",
      "spec.tidb.service.type: unsupported value \"External\": must be ClusterIP, NodePort or LoadBalancer", false },
    { "{\"spec\":{\"tidb\":{\"service\":{\"type\":\"ClusterIP\",\"port\":70000}}}}",
      "spec.tidb.service.port: must be between 1 and 65535, got 70000", false },
    { "{\"spec\":{\"tidb\":{\"service\":{\"type\":\"ClusterIP\",\"mysqlNodePort\":30000}}}}",
      "spec.tidb.service.mysqlNodePort: may only be set when service.type is NodePort or LoadBalancer", false },
    { "{\"spec\":{\"tikv\":{\"evictLeaderTimeout\":\"soon\"}}}",
      "spec.tikv.evictLeaderTimeout: invalid duration \"soon\": expected a Go duration such as 1500m, 400s or 1h30m", false },
    { "{\"spec\":{\"tikv\":{\"scalePolicy\":{\"scaleInParallelism\":0}}}}",
      "spec.tikv.scalePolicy.scaleInParallelism: must be at least 1, got 0", false },
    { "{\"spec\":{\"pd\":{\"startTimeout\":0}}}",
      "spec.pd.startTimeout: must be greater than 0, got 0", false },
    { "{\"spec\":{\"tidb\":{\"terminationGracePeriodSeconds\":-5}}}",
      "spec.tidb.terminationGracePeriodSeconds: must be greater than or equal to 0, got -5", false },
    { "{\"spec\":{\"pd\":null}}",
      "spec.pd: required when tikv or tidb is set (or set spec.pdAddresses)", false },
    { "{\"spec\":{\"pdAddresses\":[\"pd:2379\"]}}",
      "spec.pdAddresses[0]: invalid PD address \"pd:2379\": expected http://host:port or https://host:port", false },
    { "{\"spec\":{\"tikv\":{\"replicas\":\"three\"}}}",
      "spec.tikv.replicas: expected an integer, got string", true },
    { "{\"spec\":{\"pd\":{\"requests\":\"1Gi\"}}}",
      "spec.pd.requests: expected an object, got string", true },
};
#define CASES (sizeof table / sizeof table[0])

/* RFC 7386 JSON merge patch of `patch` into `target`. */
static void merge_patch(cJSON *target, const cJSON *patch)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, patch) {
        if (cJSON_IsNull(item)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, item->string);
            continue;
        }
        cJSON *existing = cJSON_GetObjectItemCaseSensitive(target, item->string);
        if (cJSON_IsObject(item) && cJSON_IsObject(existing)) {
            merge_patch(existing, item);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(target, item->string);
            cJSON_AddItemToObject(target, item->string, cJSON_Duplicate(item, true));
        }
    }
}

struct state {
    bool rejected_by_api[CASES];
    bool refused[CASES];
    char seen[CASES][600];
};

static void name_of(size_t i, char *out, size_t size) { snprintf(out, size, "invalid-%02zu", i); }

static bool all_refused(struct harness *h, void *data, char *why, size_t why_size)
{
    struct state *s = data;
    size_t missing = 0, first = CASES;
    for (size_t i = 0; i < CASES; i++) {
        if (s->rejected_by_api[i] || s->refused[i]) continue;
        char name[32];
        name_of(i, name, sizeof name);
        if (e2e_tc_mentions(h, "default", name, table[i].message, s->seen[i], sizeof s->seen[i]))
            s->refused[i] = true;
        else if (first == CASES) { first = i; missing++; }
        else missing++;
    }
    if (missing)
        snprintf(why, why_size, "%zu not refused yet; first %02zu (want \"%s\"), saw: %s", missing, first,
                 table[first].message, s->seen[first]);
    return missing == 0;
}

static bool pods_exist(struct harness *h, void *data, char *why, size_t why_size)
{
    const char *name = data;
    int pods = e2e_count_instance_objects(h, "default", name, "pods");
    snprintf(why, why_size, "%d pods of %s", pods, name);
    return pods > 0;
}

/* The fixed cluster has pods and no longer says InvalidSpec (the status
 * write and the creates of one plan land in any order). */
static bool resumed(struct harness *h, void *data, char *why, size_t why_size)
{
    const char *name = data;
    if (!pods_exist(h, data, why, why_size))
        return false;
    char path[256];
    snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/%s", name);
    cJSON *tc = e2e_get(h, path, NULL);
    const cJSON *ready = e2e_tc_condition(tc, "Ready");
    const char *reason = e2e_jpath_str(ready, "reason");
    bool ok = reason && strcmp(reason, "InvalidSpec") != 0;
    snprintf(why, why_size, "pods exist; Ready reason %s: %s", reason ? reason : "-",
             e2e_jpath_str(ready, "message") ? e2e_jpath_str(ready, "message") : "");
    cJSON_Delete(tc);
    return ok;
}

static void invalid_body(struct harness *h)
{
    REQUIRE(harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL));
    REQUIRE(harness_operator_start(h, NULL) != NULL);
    struct state *s = calloc(1, sizeof *s);
    REQUIRE(s != NULL);
    size_t rejected = 0;
    for (size_t i = 0; i < CASES; i++) {
        cJSON *tc = e2e_basic_cluster_object();
        cJSON *patch = cJSON_Parse(table[i].patch);
        if (!tc || !patch) {
            test_fail(__FILE__, __LINE__, "case %zu: bad fixture", i);
            cJSON_Delete(tc);
            cJSON_Delete(patch);
            continue;
        }
        merge_patch(tc, patch);
        cJSON_Delete(patch);
        char name[32], *response = NULL;
        name_of(i, name, sizeof name);
        int code = e2e_create_cluster(h, tc, "default", name, &response);
        cJSON_Delete(tc);
        if (code == 422 && table[i].type_error) {
            /* The schema refused it: the answer names the field. */
            char field[128];
            snprintf(field, sizeof field, "%.*s", (int)strcspn(table[i].message, ":"), table[i].message);
            if (!response || !strstr(response, field))
                test_fail(__FILE__, __LINE__, "case %zu: 422 without %s: %s", i, field, response ? response : "");
            s->rejected_by_api[i] = true;
            rejected++;
        } else if (code != 201) {
            test_fail(__FILE__, __LINE__, "case %zu (%s): create answered %d %s", i, table[i].patch, code,
                      response ? response : "");
            s->rejected_by_api[i] = true; /* nothing to wait for */
        }
        free(response);
    }
    printf("  %zu specs, %zu refused by the API (422)\n", CASES, rejected);
    char why[1024];
    if (!harness_wait(h, all_refused, s, REFUSED_TIMEOUT_MS, 300, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "within %d s: %s", REFUSED_TIMEOUT_MS / 1000, why);
        for (size_t i = 0; i < CASES; i++)
            if (!s->refused[i] && !s->rejected_by_api[i])
                printf("  case %02zu %s\n    want: %s\n    saw:  %s\n", i, table[i].patch, table[i].message,
                       s->seen[i]);
    }
    /* Refused the documented way: Ready=False with reason InvalidSpec, and a
     * Warning Event FailedValidation about the cluster with the same text. */
    cJSON *events = e2e_list(h, "/api/v1/namespaces/default/events");
    for (size_t i = 0; i < CASES; i++) {
        if (!s->refused[i]) continue;
        printf("  case %02zu refused: %s\n", i, s->seen[i]);
        char name[32], path[256];
        name_of(i, name, sizeof name);
        snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/%s", name);
        cJSON *tc = e2e_get(h, path, NULL);
        const cJSON *ready = e2e_tc_condition(tc, "Ready");
        const char *status = e2e_jpath_str(ready, "status"), *reason = e2e_jpath_str(ready, "reason");
        if (!status || strcmp(status, "False") != 0 || !reason || strcmp(reason, "InvalidSpec") != 0)
            test_fail(__FILE__, __LINE__, "%s: Ready is %s/%s, want False/InvalidSpec", name,
                      status ? status : "-", reason ? reason : "-");
        cJSON_Delete(tc);
        bool event_found = false;
        const cJSON *event;
        cJSON_ArrayForEach(event, events) {
            const char *object = e2e_jpath_str(event, "involvedObject.name");
            const char *event_reason = e2e_jpath_str(event, "reason");
            const char *type = e2e_jpath_str(event, "type");
            const char *message = e2e_jpath_str(event, "message");
            if (object && strcmp(object, name) == 0 && event_reason && strcmp(event_reason, "FailedValidation") == 0 &&
                type && strcmp(type, "Warning") == 0 && message && strstr(message, table[i].message))
                event_found = true;
        }
        if (!event_found) test_fail(__FILE__, __LINE__, "%s: no Warning FailedValidation event with the message", name);
    }
    cJSON_Delete(events);

    /* Nothing created for any of them, even a moment later. */
    harness_sleep_ms(1500);
    static const char *const plurals[] = { "pods", "services", "persistentvolumeclaims" };
    for (size_t i = 0; i < CASES; i++) {
        char name[32];
        name_of(i, name, sizeof name);
        for (size_t p = 0; p < 3; p++) {
            int count = e2e_count_instance_objects(h, "default", name, plurals[p]);
            if (count != 0) test_fail(__FILE__, __LINE__, "%s (%s): %d %s created", name, table[i].patch, count, plurals[p]);
        }
    }

    /* Fixing the spec resumes: case 0's pvReclaimPolicy back to Retain. */
    char name[32];
    name_of(0, name, sizeof name);
    char path[256];
    snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/%s", name);
    CHECK_INT(e2e_merge_patch(h, path, "{\"spec\":{\"pvReclaimPolicy\":\"Retain\"}}"), 200);
    if (!harness_wait(h, resumed, name, RESUME_TIMEOUT_MS, 300, why, sizeof why))
        test_fail(__FILE__, __LINE__, "the fixed cluster did not resume in %d s: %s", RESUME_TIMEOUT_MS / 1000, why);
    free(s);
}

static void invalid_specs_are_refused(void) { harness_run(invalid_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(invalid_specs_are_refused),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
