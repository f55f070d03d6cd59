/*
 * e2e_bounded: bounded plans as a user would meet them. A TidbCluster
 * asking for 100,000 TiKV replicas is applied beside a Ready cluster; the
 * operator creates its members in slow-start batches, so at every observed
 * step at most the window (32) of its TiKV pods are not ready, and a second
 * small cluster applied after it comes up as a cluster alone does (both
 * times printed; the second must be Ready within the bring-up bound of
 * e2e_bringup). The huge cluster's status explains that it is still coming
 * up.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TIMEOUT_MS 120000
#define FAST_BRINGUP_S 30
#define WINDOW 32 /* SAFETY_CREATE_CAP */

struct huge_watch {
    int tikv_pods;         /* last seen */
    int max_unready;       /* the most TiKV pods not ready at once */
    int observations;
    bool violated;
};

/* One look at the huge cluster: its TiKV pods, how many are not ready. */
static void observe_huge(struct harness *h, struct huge_watch *watch)
{
    char path[256];
    snprintf(path, sizeof path,
             "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%%2Finstance%%3Dhuge");
    cJSON *pods = e2e_list(h, path);
    if (!pods)
        return;
    int all = e2e_cluster_count_pods(pods, "tikv", false);
    int ready = e2e_cluster_count_pods(pods, "tikv", true);
    cJSON_Delete(pods);
    watch->tikv_pods = all;
    watch->observations++;
    if (all - ready > watch->max_unready)
        watch->max_unready = all - ready;
    if (all - ready > WINDOW && !watch->violated) {
        watch->violated = true;
        test_fail(__FILE__, __LINE__, "%d of huge's %d TiKV pods are not ready at once (window %d)", all - ready, all,
                  WINDOW);
    }
}

struct second_wait {
    struct huge_watch *huge;
    const struct e2e_cluster_expect *expect;
};

static bool second_ready(struct harness *h, void *data, char *why, size_t why_size)
{
    struct second_wait *wait = data;
    observe_huge(h, wait->huge);
    return e2e_cluster_is_ready(h, wait->expect, why, why_size);
}

static bool huge_grew(struct harness *h, void *data, char *why, size_t why_size)
{
    struct huge_watch *watch = data;
    observe_huge(h, watch);
    snprintf(why, why_size, "huge has %d TiKV pods", watch->tikv_pods);
    return watch->tikv_pods >= 8;
}

/* Creates a copy of examples/basic named `name`, `tikv` TiKV replicas. */
static bool create_cluster(struct harness *h, const char *name, int tikv)
{
    cJSON *tc = e2e_basic_cluster_object();
    if (!tc)
        return false;
    cJSON *replicas = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tc, "spec"), "tikv"), "replicas");
    if (replicas)
        cJSON_SetNumberValue(replicas, tikv);
    char *response = NULL;
    int status = e2e_create_cluster(h, tc, "default", name, &response);
    if (status != 201)
        test_fail(__FILE__, __LINE__, "creating %s: HTTP %d %s", name, status, response ? response : "");
    free(response);
    cJSON_Delete(tc);
    return status == 201;
}

static double bring_up(struct harness *h, const struct e2e_cluster_expect *expect, struct huge_watch *huge)
{
    int64_t start = harness_now_ms();
    if (!create_cluster(h, expect->name, expect->tikv))
        return -1;
    char why[512];
    struct second_wait wait = { huge, expect };
    bool ready = huge ? harness_wait(h, second_ready, &wait, READY_TIMEOUT_MS, 200, why, sizeof why)
                      : harness_wait_ready(h, expect, READY_TIMEOUT_MS, why, sizeof why);
    if (!ready) {
        test_fail(__FILE__, __LINE__, "%s not Ready within %d s: %s", expect->name, READY_TIMEOUT_MS / 1000, why);
        return -1;
    }
    return (harness_now_ms() - start) / 1000.0;
}

static void body(struct harness *h)
{
    REQUIRE(harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL));
    REQUIRE(harness_operator_start(h, NULL) != NULL);
    static const struct e2e_cluster_expect alone = { "default", "alone", 3, 3, 2, false };
    static const struct e2e_cluster_expect second = { "default", "second", 3, 3, 2, false };
    double alone_s = bring_up(h, &alone, NULL);
    REQUIRE(alone_s >= 0);

    struct huge_watch huge = { 0 };
    REQUIRE(create_cluster(h, "huge", 100000));
    char why[512];
    if (!harness_wait(h, huge_grew, &huge, READY_TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "the huge cluster never got TiKV pods: %s", why);
        return;
    }
    int pods_before = huge.tikv_pods;
    double second_s = bring_up(h, &second, &huge);
    REQUIRE(second_s >= 0);
    observe_huge(h, &huge);
    printf("  alone: Ready after %.1f s; beside a 100,000-replica cluster: Ready after %.1f s\n", alone_s, second_s);
    printf("  huge: %d -> %d TiKV pods meanwhile, at most %d not ready at once (window %d), %d observations\n",
           pods_before, huge.tikv_pods, huge.max_unready, WINDOW, huge.observations);
    if (second_s > FAST_BRINGUP_S)
        test_fail(__FILE__, __LINE__, "the second cluster took %.1f s beside the huge one, want < %d s", second_s,
                  FAST_BRINGUP_S);
    /* The huge cluster keeps growing (it is not refused) and says it is
     * still coming up; the first cluster is still Ready. */
    CHECK(huge.tikv_pods > pods_before || huge.tikv_pods >= 100000);
    char where[512];
    CHECK(e2e_tc_mentions(h, "default", "huge", "TiKV", where, sizeof where));
    CHECK(e2e_cluster_is_ready(h, &alone, why, sizeof why));
}

static void huge_cluster_does_not_delay_a_small_one(void) { harness_run(body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(huge_cluster_does_not_delay_a_small_one),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
