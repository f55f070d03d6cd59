/*
 * test_expectations: the controller's memory of the pod deletes it sent
 * (reconcilers/runtime/expectations.h) against a real pod cache — pending
 * until the cache shows each pod gone, replaced or terminating, or until
 * the deadline; plans without pod deletes remember nothing; forget.
 */
#include "reconcilers/runtime/expectations.h"
#include "test/support/test.h"
#include "watchers/cache.h"
#include "watchers/kube_resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct string_pool pool;
static struct cache pods;

static void put_pod(const char *name, const char *uid, bool terminating)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"%s\",\"resourceVersion\":\"7\"%s,"
             "\"labels\":{\"app.kubernetes.io/instance\":\"basic\"}},\"spec\":{},\"status\":{\"phase\":\"Running\"}}",
             name, uid, terminating ? ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"" : "");
    cJSON *tree = cJSON_Parse(json);
    char error[128];
    struct object_meta *object = object_project(&object_kind_pod, tree, &pool, error, sizeof error);
    cJSON_Delete(tree);
    if (!object) {
        test_fail(__FILE__, __LINE__, "pod does not project: %s", error);
        return;
    }
    struct object_meta *previous = NULL;
    if (cache_put(&pods, object, &previous) != 0)
        test_fail(__FILE__, __LINE__, "cache_put failed");
    if (previous)
        object_free(&object_kind_pod, previous, &pool);
}

static void remove_pod(const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "ns/%s", name);
    struct object_meta *previous = cache_remove(&pods, key);
    if (previous)
        object_free(&object_kind_pod, previous, &pool);
}

static void setup(void)
{
    string_pool_init(&pool);
    cache_init(&pods, &object_kind_pod, &pool);
}

static void teardown(void)
{
    cache_free(&pods);
    string_pool_free(&pool);
}

#define UID_A "0e9d3f7c-1111-4a4a-8b8b-000000000001"
#define UID_B "0e9d3f7c-1111-4a4a-8b8b-000000000002"

static bool plan_deleting(struct plan *plan, const char *pod, const char *uid)
{
    return plan_init(plan, "ns", "basic", "u-1") && plan_delete(plan, &kube_resource_pods, pod, uid, "test") &&
           plan_event(plan, false, "Scaling", "deleting %s", pod);
}

static void pending_until_the_cache_shows_the_delete(void)
{
    setup();
    struct expectations *expectations = expectations_new();
    REQUIRE(expectations);
    put_pod("basic-tikv-3", UID_A, false);
    struct plan plan;
    REQUIRE(plan_deleting(&plan, "basic-tikv-3", UID_A));
    CHECK(expectations_expect(expectations, "ns/basic", &plan, 31000));
    CHECK_INT(expectations_count(expectations), 1);
    /* The cache still shows it running: wait. */
    CHECK(expectations_pending(expectations, "ns/basic", &pods, 1000));
    CHECK(expectations_pending(expectations, "ns/basic", &pods, 30999));
    CHECK(!expectations_pending(expectations, "ns/other", &pods, 1000));
    /* Terminating in the cache: seen, and forgotten. */
    put_pod("basic-tikv-3", UID_A, true);
    CHECK(!expectations_pending(expectations, "ns/basic", &pods, 1000));
    CHECK_INT(expectations_count(expectations), 0);
    /* Gone, or replaced by a pod of another uid: seen too. */
    put_pod("basic-tikv-3", UID_A, false);
    CHECK(expectations_expect(expectations, "ns/basic", &plan, 31000));
    remove_pod("basic-tikv-3");
    CHECK(!expectations_pending(expectations, "ns/basic", &pods, 1000));
    put_pod("basic-tikv-3", UID_A, false);
    CHECK(expectations_expect(expectations, "ns/basic", &plan, 31000));
    put_pod("basic-tikv-3", UID_B, false);
    CHECK(!expectations_pending(expectations, "ns/basic", &pods, 1000));
    plan_free(&plan);
    expectations_free(expectations);
    teardown();
}

static void two_deletes_wait_for_both_and_the_deadline_ends_it(void)
{
    setup();
    struct expectations *expectations = expectations_new();
    REQUIRE(expectations);
    put_pod("basic-pd-3", UID_A, false);
    put_pod("basic-tidb-1", UID_B, false);
    struct plan first, second;
    REQUIRE(plan_deleting(&first, "basic-pd-3", UID_A));
    REQUIRE(plan_deleting(&second, "basic-tidb-1", NULL));
    CHECK(expectations_expect(expectations, "ns/basic", &first, 10000));
    CHECK(expectations_expect(expectations, "ns/basic", &second, 20000));
    remove_pod("basic-pd-3");
    CHECK(expectations_pending(expectations, "ns/basic", &pods, 5000)); /* tidb-1 not yet */
    /* A delete that never shows: the latest deadline ends the wait. */
    CHECK(expectations_pending(expectations, "ns/basic", &pods, 19999));
    CHECK(!expectations_pending(expectations, "ns/basic", &pods, 20000));
    CHECK_INT(expectations_count(expectations), 0);
    plan_free(&first);
    plan_free(&second);
    expectations_free(expectations);
    teardown();
}

static void plans_without_pod_deletes_and_forget(void)
{
    setup();
    struct expectations *expectations = expectations_new();
    REQUIRE(expectations);
    put_pod("basic-tikv-0", UID_A, false);
    struct plan plan;
    REQUIRE(plan_init(&plan, "ns", "basic", "u-1"));
    REQUIRE(plan_delete(&plan, &kube_resource_pvcs, "tikv-basic-tikv-0", NULL, "test"));
    REQUIRE(plan_pd(&plan, ACTION_PD_DELETE_STORE, NULL, 4, "test"));
    CHECK(expectations_expect(expectations, "ns/basic", &plan, 30000));
    CHECK_INT(expectations_count(expectations), 0);
    plan_free(&plan);
    REQUIRE(plan_deleting(&plan, "basic-tikv-0", UID_A));
    CHECK(expectations_expect(expectations, "ns/basic", &plan, 30000));
    CHECK(expectations_pending(expectations, "ns/basic", &pods, 0));
    expectations_forget(expectations, "ns/basic");
    CHECK(!expectations_pending(expectations, "ns/basic", &pods, 0));
    expectations_forget(expectations, "ns/unknown"); /* harmless */
    plan_free(&plan);
    expectations_free(expectations);
    teardown();
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(pending_until_the_cache_shows_the_delete),
        TEST_CASE(two_deletes_wait_for_both_and_the_deadline_ends_it),
        TEST_CASE(plans_without_pod_deletes_and_forget),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
