/*
 * e2e_pd_faults: PD misbehaves under a Ready cluster. First it answers
 * garbage (200 with truncated JSON: a broken PD, or a proxy in front of it),
 * then errors (500), then it is slow but correct. The operator must:
 *   - say so on the TidbCluster: Ready=False, reason PDNotReady, a message
 *     naming the PD API and what is wrong with its answers;
 *   - act on nothing it cannot see: no pod, claim or volume deleted or
 *     recreated while PD cannot be read;
 *   - come back to Ready with the exact end state once PD answers again,
 *     also when every answer takes a while.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TIMEOUT_MS 120000
#define NOTICE_TIMEOUT_MS 60000

struct awaited {
    const char *needle;
    struct e2e_not_ready seen;
};

/* Ready=False with `needle` in the message. */
static bool not_ready_saying(struct harness *h, void *data, char *why, size_t why_size)
{
    struct awaited *awaited = data;
    return e2e_cluster_not_ready(h, &awaited->seen, why, why_size) &&
           strstr(awaited->seen.message, awaited->needle) != NULL;
}

/* Injects `faults` into default/basic's PD, waits for the cluster to say
 * Ready=False because of PD with `needle` in the message, and checks
 * nothing was touched meanwhile. */
static void expect_reported(struct harness *h, const char *faults, const char *needle,
                            const struct e2e_identities *before)
{
    REQUIRE(harness_admin_post(h, "/pd/default/basic/faults", faults, NULL) == 200);
    int64_t start = harness_now_ms();
    struct awaited awaited = { .needle = needle };
    char why[512];
    if (!harness_wait(h, not_ready_saying, &awaited, NOTICE_TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "PD %s; want Ready=False mentioning \"%s\", the cluster says: %s", faults,
                  needle, why);
        return;
    }
    printf("  PD %s: %.1f s later Ready=False %s: %s\n", faults, (harness_now_ms() - start) / 1000.0,
           awaited.seen.reason, awaited.seen.message);
    CHECK_STR(awaited.seen.reason, "PDNotReady");
    harness_sleep_ms(1500);
    e2e_identities_check_same(h, before, __FILE__, __LINE__);
}

static void pd_faults_body(struct harness *h)
{
    if (!harness_bring_up_basic(h, READY_TIMEOUT_MS)) return;
    struct e2e_identities before = { 0 };
    if (!e2e_identities_read(h, &before)) {
        e2e_identities_free(&before);
        return;
    }
    expect_reported(h, "{\"garbage\":true}", "invalid JSON", &before);
    expect_reported(h, "{\"garbage\":false,\"failing\":true}", "server not started", &before);

    /* Slow but correct (every answer 400 ms, under the operator's call
     * timeout): Ready again, exactly as before. */
    REQUIRE(harness_admin_post(h, "/pd/default/basic/faults", "{\"failing\":false,\"delayMs\":400}", NULL) == 200);
    int64_t start = harness_now_ms();
    char why[512];
    if (!harness_wait_ready(h, &harness_basic_cluster, READY_TIMEOUT_MS, why, sizeof why))
        test_fail(__FILE__, __LINE__, "not Ready again with a slow PD: %s", why);
    else
        printf("  PD answers again (400 ms each): Ready after %.1f s\n", (harness_now_ms() - start) / 1000.0);
    e2e_identities_check_same(h, &before, __FILE__, __LINE__);
    e2e_identities_free(&before);
}

static void bad_pd_is_reported_and_nothing_is_touched(void) { harness_run(pd_faults_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(bad_pd_is_reported_and_nothing_is_touched),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
