/*
 * test_dst: the deterministic simulation (test/dst) inside the test suite.
 *
 *   dst_fixed_seeds_hold_every_invariant
 *     a fixed set of seeds (DST_TEST_SEEDS, default 30): no invariant
 *     breaks, every schedule converges after its faults, and together they
 *     exercise most fault kinds and make many checks;
 *   dst_same_seed_same_run
 *     one seed run twice gives the same steps, checks, plans and time;
 *   dst_mutation_is_caught
 *     with a safety rule disabled the simulation reports that rule's
 *     invariant within a bounded number of seeds (the simulation can fail);
 *   dst_regressions
 *     seeds that once broke an invariant stay fixed.
 */
#include "reactor/log.h"
#include "reconcilers/planner/safety.h"
#include "test/dst/dst.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

static uint64_t seed_count(void)
{
    const char *text = getenv("DST_TEST_SEEDS");
    long value = text ? strtol(text, NULL, 10) : 0;
    return value > 0 ? (uint64_t)value : 30;
}

static bool run(uint64_t seed, struct dst_result *result)
{
    struct dst_options options = { .seed = seed };
    if (!dst_run(&options, result)) {
        test_fail(__FILE__, __LINE__, "seed %llu could not run: %s", (unsigned long long)seed, result->detail);
        return false;
    }
    if (result->violated)
        test_fail(__FILE__, __LINE__, "seed %llu: %s at step %llu (%.3f s): %s; replay: ./zigw build dst -- --seed %llu --trace",
                  (unsigned long long)seed, dst_invariant_name(result->invariant), (unsigned long long)result->step,
                  (double)result->at_ms / 1000.0, result->detail, (unsigned long long)seed);
    return true;
}

static void dst_fixed_seeds_hold_every_invariant(void)
{
    uint64_t count = seed_count(), converged = 0, checks = 0;
    uint32_t kinds = 0;
    for (uint64_t seed = 1; seed <= count; seed++) {
        struct dst_result result;
        if (!run(seed, &result))
            return;
        converged += result.converged;
        checks += result.checks;
        kinds |= result.fault_kinds;
    }
    CHECK_INT(converged, count);
    int distinct = 0;
    for (int k = 0; k < DST_FAULT_KIND_COUNT; k++)
        distinct += (kinds >> k) & 1;
    CHECK(distinct >= DST_FAULT_KIND_COUNT - 2);
    CHECK(checks > count * 1000);
}

static void dst_same_seed_same_run(void)
{
    struct dst_result a, b;
    if (!run(7, &a) || !run(7, &b))
        return;
    CHECK_INT(a.steps, b.steps);
    CHECK_INT(a.checks, b.checks);
    CHECK_INT(a.plans, b.plans);
    CHECK_INT(a.actions, b.actions);
    CHECK_INT(a.simulated_ms, b.simulated_ms);
    CHECK_INT(a.fault_kinds, b.fault_kinds);
    CHECK(a.steps > 100);
}

static void dst_mutation_is_caught(void)
{
    const char *rule = "up_stores_kept";
    REQUIRE(safety_disable_rule(rule));
    bool caught = false;
    for (uint64_t seed = 1; seed <= 400 && !caught; seed++) {
        struct dst_options options = { .seed = seed };
        struct dst_result result;
        if (!dst_run(&options, &result))
            break;
        caught = result.violated && (int)result.invariant == dst_invariant_of_rule(rule);
    }
    safety_disable_rule(NULL);
    CHECK(caught);
}

static void dst_regressions(void)
{
    static const uint64_t seeds[] = { 0 };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        if (!seeds[i])
            continue;
        struct dst_result result;
        run(seeds[i], &result);
    }
}

int main(int argc, char **argv)
{
    log_set_level(LOG_WARN);
    static const struct test_case cases[] = {
        TEST_CASE(dst_fixed_seeds_hold_every_invariant),
        TEST_CASE(dst_same_seed_same_run),
        TEST_CASE(dst_mutation_is_caught),
        TEST_CASE(dst_regressions),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
