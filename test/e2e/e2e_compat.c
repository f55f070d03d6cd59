/*
 * e2e_compat: what a PingCAP user sees (reconcilers/api/tidbcluster_fields.h).
 *   - a manifest asking for TLS (tlsCluster.enabled, tidb.tlsClient.enabled)
 *     is refused, never run in plaintext: Ready=False InvalidSpec and a
 *     Warning FailedValidation naming both fields and "not supported yet",
 *     and no pod, service, claim or configmap; turning TLS off resumes it;
 *   - the basic example (PingCAP's, reference §1.8) comes up Ready with no
 *     UnsupportedFields (everything it writes acts here); given a field that
 *     does nothing here (statefulSetUpdateStrategy: no StatefulSets), it is
 *     listed in UnsupportedFields=True and one Warning event
 *     UnsupportedFields, and the cluster stays Ready.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUSED_TIMEOUT_MS 30000
#define READY_TIMEOUT_MS 180000
#define RESUME_TIMEOUT_MS 60000

#define TC_PATH "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/"

/* The basic example with TLS asked for, as PingCAP's TLS guide writes it. */
static const char *const tls_manifest =
    "apiVersion: pingcap.com/v1alpha1\n"
    "kind: TidbCluster\n"
    "metadata:\n"
    "  name: tls\n"
    "spec:\n"
    "  version: v8.5.7\n"
    "  timezone: UTC\n"
    "  pvReclaimPolicy: Retain\n"
    "  tlsCluster:\n"
    "    enabled: true\n"
    "  pd:\n"
    "    baseImage: pingcap/pd\n"
    "    maxFailoverCount: 0\n"
    "    replicas: 1\n"
    "    requests:\n"
    "      storage: \"1Gi\"\n"
    "    config: {}\n"
    "  tikv:\n"
    "    baseImage: pingcap/tikv\n"
    "    maxFailoverCount: 0\n"
    "    replicas: 1\n"
    "    requests:\n"
    "      storage: \"1Gi\"\n"
    "    config: {}\n"
    "  tidb:\n"
    "    baseImage: pingcap/tidb\n"
    "    maxFailoverCount: 0\n"
    "    replicas: 1\n"
    "    service:\n"
    "      type: ClusterIP\n"
    "    config: {}\n"
    "    tlsClient:\n"
    "      enabled: true\n";

#define TLS_REFUSAL                                                                                  \
    "spec.tlsCluster.enabled: not supported yet: TLS between PD, TiKV and TiDB; refused rather than " \
    "run the cluster in plaintext; spec.tidb.tlsClient.enabled: not supported yet: TLS for MySQL "   \
    "clients; refused rather than serve clients in plaintext"

#define BASIC_WARNINGS                                                                               \
    "spec.statefulSetUpdateStrategy: no effect here: no StatefulSets here: the operator manages pods itself"

struct seen {
    char text[1200];
};

static bool tls_refused(struct harness *h, void *data, char *why, size_t why_size)
{
    struct seen *seen = data;
    if (e2e_tc_mentions(h, "default", "tls", TLS_REFUSAL, seen->text, sizeof seen->text))
        return true;
    snprintf(why, why_size, "tls not refused yet; saw: %s", seen->text);
    return false;
}

static bool pods_exist(struct harness *h, void *data, char *why, size_t why_size)
{
    const char *name = data;
    int pods = e2e_count_instance_objects(h, "default", name, "pods");
    snprintf(why, why_size, "%d pods of %s", pods, name);
    return pods > 0;
}

/* Events about `name` with `reason`; the last one's type and message. */
static int count_events(struct harness *h, const char *name, const char *reason, char *type, char *message,
                        size_t size)
{
    cJSON *events = e2e_list(h, "/api/v1/namespaces/default/events");
    int count = 0;
    const cJSON *event;
    cJSON_ArrayForEach(event, events) {
        const char *object = e2e_jpath_str(event, "involvedObject.name");
        const char *event_reason = e2e_jpath_str(event, "reason");
        if (!object || strcmp(object, name) != 0 || !event_reason || strcmp(event_reason, reason) != 0)
            continue;
        count++;
        snprintf(type, size, "%s", e2e_jpath_str(event, "type") ? e2e_jpath_str(event, "type") : "");
        snprintf(message, size, "%s", e2e_jpath_str(event, "message") ? e2e_jpath_str(event, "message") : "");
    }
    cJSON_Delete(events);
    return count;
}

struct condition_seen {
    const char *type, *status;
};

static bool condition_is(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct condition_seen *want = data;
    cJSON *tc = e2e_get(h, TC_PATH "basic", NULL);
    const char *status = e2e_jpath_str(e2e_tc_condition(tc, want->type), "status");
    bool ok = status && strcmp(status, want->status) == 0;
    snprintf(why, why_size, "%s is %s", want->type, status ? status : "absent");
    cJSON_Delete(tc);
    return ok;
}

static void compat_body(struct harness *h)
{
    REQUIRE(harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL));
    REQUIRE(harness_operator_start(h, NULL) != NULL);
    REQUIRE(harness_apply_yaml(h, tls_manifest, "default"));
    REQUIRE(harness_apply_file(h, "examples/basic/tidb-cluster.yaml", "default"));

    /* TLS asked for: refused, told, nothing created. */
    struct seen seen = { "" };
    char why[1400];
    if (!harness_wait(h, tls_refused, &seen, REFUSED_TIMEOUT_MS, 300, why, sizeof why))
        test_fail(__FILE__, __LINE__, "within %d s: %s", REFUSED_TIMEOUT_MS / 1000, why);
    cJSON *tc = e2e_get(h, TC_PATH "tls", NULL);
    const cJSON *ready = e2e_tc_condition(tc, "Ready");
    printf("  tls: Ready=%s reason=%s\n    message: %s\n", e2e_jpath_str(ready, "status"),
           e2e_jpath_str(ready, "reason"), e2e_jpath_str(ready, "message"));
    CHECK_STR(e2e_jpath_str(ready, "status"), "False");
    CHECK_STR(e2e_jpath_str(ready, "reason"), "InvalidSpec");
    CHECK_STR(e2e_jpath_str(ready, "message"), TLS_REFUSAL);
    cJSON_Delete(tc);
    char type[1200], message[1200];
    CHECK(count_events(h, "tls", "FailedValidation", type, message, sizeof message) >= 1);
    printf("  tls: event %s FailedValidation: %s\n", type, message);
    CHECK_STR(type, "Warning");
    CHECK_STR(message, TLS_REFUSAL);

    /* The basic example comes up with nothing to report. */
    if (!harness_wait_ready(h, &harness_basic_cluster, READY_TIMEOUT_MS, why, sizeof why))
        test_fail(__FILE__, __LINE__, "basic not Ready in %d s: %s", READY_TIMEOUT_MS / 1000, why);
    tc = e2e_get(h, TC_PATH "basic", NULL);
    CHECK(e2e_tc_condition(tc, "UnsupportedFields") == NULL);
    CHECK_INT(count_events(h, "basic", "UnsupportedFields", type, message, sizeof message), 0);
    cJSON_Delete(tc);
    /* A field with no effect here: listed, told once, the cluster goes on. */
    REQUIRE(e2e_merge_patch(h, TC_PATH "basic", "{\"spec\":{\"statefulSetUpdateStrategy\":\"OnDelete\"}}") == 200);
    struct condition_seen listed = { "UnsupportedFields", "True" };
    if (!harness_wait(h, condition_is, &listed, READY_TIMEOUT_MS, 200, why, sizeof why))
        test_fail(__FILE__, __LINE__, "%s", why);
    tc = e2e_get(h, TC_PATH "basic", NULL);
    const cJSON *unsupported = e2e_tc_condition(tc, "UnsupportedFields");
    printf("  basic: UnsupportedFields=%s reason=%s\n    message: %s\n", e2e_jpath_str(unsupported, "status"),
           e2e_jpath_str(unsupported, "reason"), e2e_jpath_str(unsupported, "message"));
    CHECK_STR(e2e_jpath_str(unsupported, "status"), "True");
    CHECK_STR(e2e_jpath_str(unsupported, "reason"), "SpecWarnings");
    CHECK_STR(e2e_jpath_str(unsupported, "message"), BASIC_WARNINGS);
    CHECK_STR(e2e_jpath_str(e2e_tc_condition(tc, "Ready"), "status"), "True");
    cJSON_Delete(tc);
    /* Told once, over the whole bring-up (many passes, one generation). */
    CHECK_INT(count_events(h, "basic", "UnsupportedFields", type, message, sizeof message), 1);
    printf("  basic: event %s UnsupportedFields: %s\n", type, message);
    CHECK_STR(type, "Warning");
    CHECK_STR(message, BASIC_WARNINGS);

    /* Still nothing for tls, long after. */
    static const char *const plurals[] = { "pods", "services", "persistentvolumeclaims", "configmaps" };
    for (size_t p = 0; p < sizeof plurals / sizeof plurals[0]; p++)
        CHECK_INT(e2e_count_instance_objects(h, "default", "tls", plurals[p]), 0);

    /* Without TLS it resumes (and a supported field acts: the slowlog
     * sidecar of separateSlowLog). */
    CHECK_INT(e2e_merge_patch(h, TC_PATH "tls",
                              "{\"spec\":{\"tlsCluster\":{\"enabled\":false},\"tidb\":{\"tlsClient\":{\"enabled\":false},"
                              "\"separateSlowLog\":true}}}"),
              200);
    if (!harness_wait(h, pods_exist, "tls", RESUME_TIMEOUT_MS, 300, why, sizeof why))
        test_fail(__FILE__, __LINE__, "tls without TLS did not resume in %d s: %s", RESUME_TIMEOUT_MS / 1000, why);
    static const struct e2e_cluster_expect tls_expect = { .name = "tls", .pd = 1, .tikv = 1, .tidb = 1 };
    if (!harness_wait_ready(h, &tls_expect, READY_TIMEOUT_MS, why, sizeof why))
        test_fail(__FILE__, __LINE__, "tls without TLS not Ready in %d s: %s", READY_TIMEOUT_MS / 1000, why);
    cJSON *pod = e2e_get(h, "/api/v1/namespaces/default/pods/tls-tidb-0", NULL);
    CHECK_STR(e2e_jpath_str(cJSON_GetArrayItem(e2e_jpath(pod, "spec.containers"), 1), "name"), "slowlog");
    CHECK_STR(e2e_jpath_str(cJSON_GetArrayItem(e2e_jpath(pod, "spec.containers"), 1), "image"), "busybox:1.26.2");
    cJSON_Delete(pod);
    tc = e2e_get(h, TC_PATH "tls", NULL);
    /* Left to tell: only validation's warning about one TiKV store. */
    CHECK_STR(e2e_jpath_str(e2e_tc_condition(tc, "UnsupportedFields"), "message"),
              "spec.tikv.replicas: fewer than 3 TiKV stores cannot hold the default 3 replicas of each region");
    cJSON_Delete(tc);
}

static void pingcap_manifests_as_users_see_them(void) { harness_run(compat_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(pingcap_manifests_as_users_see_them),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
