/*
 * e2e_apiserver_faults: the API server misbehaves during the bring-up and
 * the cluster still converges to Ready.
 *   watches_and_history: all watches closed and history compacted (the
 *       operator's resourceVersions become 410 Gone) at each milestone;
 *       connections dropped.
 *   error_bursts: bursts of 500 and 429 (Retry-After) on the writes and
 *       watches the operator makes.
 *   listener_down: the API listener stops accepting for 3 s (twice) and
 *       resumes; every connection dropped meanwhile.
 * Faults use the admin listener (test/sim/api_server.h).
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TIMEOUT_MS 180000
#define MILESTONE_TIMEOUT_MS 100000

static bool admin(struct harness *h, const char *path, const char *body)
{
    char *response = NULL;
    int code = harness_admin_post(h, path, body, &response);
    printf("  admin %s %s -> %d %s\n", path, body ? body : "", code, response ? response : "");
    free(response);
    if (code != 200) test_fail(__FILE__, __LINE__, "admin %s answered %d", path, code);
    return code == 200;
}

static bool start(struct harness *h)
{
    if (!harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL)) return false;
    if (!harness_operator_start(h, NULL)) return false;
    return harness_apply_file(h, "examples/basic/tidb-cluster.yaml", "default");
}

static bool reach(struct harness *h, const char *component, int pods)
{
    struct e2e_milestone m = { .what = "milestone", .component = component, .pods = pods };
    char why[256];
    if (harness_wait(h, e2e_milestone_reached, &m, MILESTONE_TIMEOUT_MS, 100, why, sizeof why)) return true;
    test_fail(__FILE__, __LINE__, "milestone not reached in %d s: %s", MILESTONE_TIMEOUT_MS / 1000, why);
    return false;
}

static void finish(struct harness *h)
{
    char why[512];
    int64_t start_ms = harness_now_ms();
    if (!harness_wait_ready(h, &harness_basic_cluster, READY_TIMEOUT_MS, why, sizeof why))
        test_fail(__FILE__, __LINE__, "not Ready within %d s after the faults: %s", READY_TIMEOUT_MS / 1000, why);
    else
        printf("  Ready %.1f s after the last fault\n", (harness_now_ms() - start_ms) / 1000.0);
}

static void watches_body(struct harness *h)
{
    REQUIRE(start(h));
    REQUIRE(reach(h, "pd", 1));
    admin(h, "/watches/close", NULL);
    admin(h, "/history/compact", NULL);
    REQUIRE(reach(h, "pd", 3));
    admin(h, "/history/compact", NULL);
    admin(h, "/watches/close", NULL);
    REQUIRE(reach(h, "tikv", 1));
    admin(h, "/connections/drop", NULL);
    admin(h, "/history/compact", NULL);
    REQUIRE(reach(h, "tidb", 1));
    admin(h, "/watches/close", NULL);
    admin(h, "/history/compact", NULL);
    finish(h);
}

static void bursts_body(struct harness *h)
{
    REQUIRE(start(h));
    REQUIRE(reach(h, "pd", 1));
    admin(h, "/faults", "{\"verb\":\"create\",\"count\":6,\"code\":500}");
    admin(h, "/faults", "{\"verb\":\"watch\",\"count\":6,\"code\":500}");
    admin(h, "/watches/close", NULL);
    REQUIRE(reach(h, "pd", 3));
    admin(h, "/faults", "{\"verb\":\"patch\",\"count\":8,\"code\":429,\"retryAfterSeconds\":1}");
    admin(h, "/faults", "{\"verb\":\"update\",\"count\":8,\"code\":429,\"retryAfterSeconds\":1}");
    admin(h, "/faults", "{\"verb\":\"create\",\"count\":8,\"code\":429,\"retryAfterSeconds\":1}");
    REQUIRE(reach(h, "tikv", 1));
    admin(h, "/faults", "{\"verb\":\"create\",\"resource\":\"pods\",\"count\":5,\"code\":503}");
    admin(h, "/faults", "{\"verb\":\"\",\"resource\":\"tidbclusters\",\"count\":4,\"code\":500,\"delayMs\":300}");
    finish(h);
}

static void listener_body(struct harness *h)
{
    REQUIRE(start(h));
    REQUIRE(reach(h, "pd", 1));
    admin(h, "/listener/stop", NULL);
    admin(h, "/connections/drop", NULL);
    harness_sleep_ms(3000);
    admin(h, "/listener/resume", NULL);
    REQUIRE(reach(h, "tikv", 1));
    admin(h, "/listener/stop", NULL);
    admin(h, "/connections/drop", NULL);
    harness_sleep_ms(3000);
    admin(h, "/listener/resume", NULL);
    finish(h);
}

static void watches_and_history(void) { harness_run(watches_body, NULL); }
static void error_bursts(void) { harness_run(bursts_body, NULL); }
static void listener_down(void) { harness_run(listener_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(watches_and_history),
        TEST_CASE(error_bursts),
        TEST_CASE(listener_down),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
