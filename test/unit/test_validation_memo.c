/*
 * test_validation_memo: a cluster is validated once per generation; a new
 * generation, a new uid (deleted and created again) or a removal makes it
 * validate again; without a generation it validates every time; the
 * planner fed the memo's problems plans as if it had validated itself.
 */
#include "reconcilers/planner/planner.h"
#include "reconcilers/runtime/validation_memo.h"
#include "test/support/planner_world.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct planner_world W;

static const char *cluster_json(const char *uid, int generation, int tikv_replicas)
{
    static char json[512];
    snprintf(json, sizeof json,
                              "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"%s\",\"generation\":%d},"
                              "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
                              "\"tikv\":{\"replicas\":%d,\"requests\":{\"storage\":\"1Gi\"}},\"tidb\":{\"replicas\":1}}}",
                              uid, generation, tikv_replicas);
    return json;
}

static void once_per_generation(void)
{
    REQUIRE(planner_world_init(&W, NULL));
    struct validation_memo *memo = validation_memo_new();
    REQUIRE(memo);
    REQUIRE(planner_world_load(&W, cluster_json("u-1", 1, 3)));
    const struct tc_problems *problems = validation_memo_get(memo, "ns/basic", &W.tc);
    REQUIRE(problems);
    CHECK_INT(problems->errors, 0);
    CHECK(validation_memo_get(memo, "ns/basic", &W.tc) == problems);
    CHECK_INT(validation_memo_runs(memo), 1);
    /* A new generation with an invalid spec (negative TiKV replicas). */
    REQUIRE(planner_world_load(&W, cluster_json("u-1", 2, -1)));
    problems = validation_memo_get(memo, "ns/basic", &W.tc);
    REQUIRE(problems);
    CHECK_INT(problems->errors, 1);
    CHECK_STR(problems->items[0].field, "spec.tikv.replicas");
    validation_memo_get(memo, "ns/basic", &W.tc);
    CHECK_INT(validation_memo_runs(memo), 2);
    /* Same generation, new uid: a different object. */
    REQUIRE(planner_world_load(&W, cluster_json("u-2", 2, 3)));
    problems = validation_memo_get(memo, "ns/basic", &W.tc);
    REQUIRE(problems);
    CHECK_INT(problems->errors, 0);
    CHECK_INT(validation_memo_runs(memo), 3);
    /* Another cluster has its own entry. */
    validation_memo_get(memo, "ns/other", &W.tc);
    validation_memo_get(memo, "ns/basic", &W.tc);
    CHECK_INT(validation_memo_runs(memo), 4);
    validation_memo_remove(memo, "ns/basic");
    validation_memo_get(memo, "ns/basic", &W.tc);
    CHECK_INT(validation_memo_runs(memo), 5);
    validation_memo_free(memo);
    planner_world_done(&W);
}

static void no_generation_validates_every_time(void)
{
    REQUIRE(planner_world_init(&W, NULL));
    struct validation_memo *memo = validation_memo_new();
    REQUIRE(memo);
    REQUIRE(planner_world_load(&W, cluster_json("u-1", 0, -1)));
    for (int i = 0; i < 3; i++) {
        const struct tc_problems *problems = validation_memo_get(memo, "ns/basic", &W.tc);
        REQUIRE(problems);
        CHECK_INT(problems->errors, 1);
    }
    CHECK_INT(validation_memo_runs(memo), 3);
    CHECK(validation_memo_get(memo, NULL, &W.tc) == NULL);
    validation_memo_free(memo);
    planner_world_done(&W);
}

static void planner_uses_the_memo(void)
{
    REQUIRE(planner_world_init(&W, cluster_json("u-1", 4, -1)));
    REQUIRE(planner_world_run(&W));
    char *alone = planner_world_describe(&W.plan);
    struct validation_memo *memo = validation_memo_new();
    REQUIRE(memo && alone);
    W.world.problems = validation_memo_get(memo, "ns/basic", &W.tc);
    REQUIRE(W.world.problems);
    REQUIRE(planner_world_run(&W));
    char *memoised = planner_world_describe(&W.plan);
    CHECK_STR(memoised, alone);
    CHECK_STR(memoised, "event Warning FailedValidation; update-status tidbclusters basic");
    free(alone);
    free(memoised);
    validation_memo_free(memo);
    planner_world_done(&W);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(once_per_generation),
        TEST_CASE(no_generation_validates_every_time),
        TEST_CASE(planner_uses_the_memo),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
