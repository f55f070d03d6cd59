/*
 * e2e_restart: kill -9 the operator at points of the bring-up, restart it,
 * and the cluster still ends Ready with exactly the expected pods and PVCs
 * (no duplicates, no orphans): everything the operator knows is in the API
 * and PD, nothing is lost with the process.
 *
 * The kill points are seeded (E2E_SEED, default 20261121; printed) so a
 * failing run can be repeated.
 *   at_milestones: a kill at each milestone of the bring-up (first PD pod,
 *                  all PD pods, first TiKV pod, first TiDB pod) plus a
 *                  random 0-400 ms.
 *   at_random_times: five kills at random times 0.2-2.5 s apart.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TIMEOUT_MS 150000
#define MILESTONE_TIMEOUT_MS 100000

static unsigned seed(void)
{
    const char *text = getenv("E2E_SEED");
    unsigned value = text ? (unsigned)strtoul(text, NULL, 10) : 20261121u;
    return value;
}

static unsigned next_random(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) & 0xffffffu;
}

/* No object of the cluster twice, none that is not expected: checked by
 * e2e_cluster_is_ready (exact names and counts); here also the ConfigMaps:
 * one per component. */
static void check_no_orphans(struct harness *h)
{
    cJSON *maps = e2e_list(h, "/api/v1/namespaces/default/configmaps?labelSelector=app.kubernetes.io%2Finstance%3Dbasic");
    REQUIRE(maps != NULL);
    int per_component[3] = { 0, 0, 0 };
    static const char *const components[] = { "pd", "tikv", "tidb" };
    const cJSON *map;
    cJSON_ArrayForEach(map, maps) {
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(e2e_jpath(map, "metadata.labels"),
                                                              "app.kubernetes.io/component");
        for (int c = 0; c < 3; c++)
            if (cJSON_IsString(label) && strcmp(label->valuestring, components[c]) == 0) per_component[c]++;
    }
    for (int c = 0; c < 3; c++)
        if (per_component[c] != 1)
            test_fail(__FILE__, __LINE__, "%d ConfigMaps for %s, want 1", per_component[c], components[c]);
    cJSON_Delete(maps);
}

static void finish(struct harness *h, int kills)
{
    char why[512];
    int64_t start = harness_now_ms();
    if (!harness_wait_ready(h, &harness_basic_cluster, READY_TIMEOUT_MS, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "not Ready %d s after %d kills: %s", READY_TIMEOUT_MS / 1000, kills, why);
        return;
    }
    printf("  Ready %.1f s after the last restart (%d kills)\n", (harness_now_ms() - start) / 1000.0, kills);
    check_no_orphans(h);
    /* Still exactly that a little later: no late duplicates from a stale plan. */
    harness_sleep_ms(2000);
    if (!e2e_cluster_is_ready(h, &harness_basic_cluster, why, sizeof why))
        test_fail(__FILE__, __LINE__, "no longer exact 2 s later: %s", why);
}

static void milestones_body(struct harness *h)
{
    unsigned state = seed();
    printf("  E2E_SEED=%u\n", state);
    REQUIRE(harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL));
    struct operator_proc *op = harness_operator_start(h, NULL);
    REQUIRE(op != NULL);
    REQUIRE(harness_apply_file(h, "examples/basic/tidb-cluster.yaml", "default"));
    struct e2e_milestone milestones[] = {
        { "first PD pod", "pd", 1 },
        { "all PD pods", "pd", 3 },
        { "first TiKV pod", "tikv", 1 },
        { "first TiDB pod", "tidb", 1 },
    };
    int kills = 0;
    char why[256];
    for (size_t i = 0; i < sizeof milestones / sizeof milestones[0]; i++) {
        if (!harness_wait(h, e2e_milestone_reached, &milestones[i], MILESTONE_TIMEOUT_MS, 100, why, sizeof why)) {
            test_fail(__FILE__, __LINE__, "milestone not reached in %d s: %s", MILESTONE_TIMEOUT_MS / 1000, why);
            return;
        }
        int delay = (int)(next_random(&state) % 400);
        harness_sleep_ms(delay);
        harness_operator_kill(op);
        kills++;
        printf("  kill -9 at %s + %d ms\n", milestones[i].what, delay);
        REQUIRE(harness_operator_restart(h, op));
    }
    finish(h, kills);
}

static void random_body(struct harness *h)
{
    unsigned state = seed() ^ 0x5bd1e995u;
    printf("  E2E_SEED=%u\n", seed());
    REQUIRE(harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL));
    struct operator_proc *op = harness_operator_start(h, NULL);
    REQUIRE(op != NULL);
    REQUIRE(harness_apply_file(h, "examples/basic/tidb-cluster.yaml", "default"));
    int kills = 0;
    for (int i = 0; i < 5; i++) {
        int delay = 200 + (int)(next_random(&state) % 2300);
        harness_sleep_ms(delay);
        harness_operator_kill(op);
        kills++;
        REQUIRE(harness_operator_restart(h, op));
    }
    finish(h, kills);
}

static void at_milestones(void) { harness_run(milestones_body, NULL); }
static void at_random_times(void) { harness_run(random_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(at_milestones),
        TEST_CASE(at_random_times),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
