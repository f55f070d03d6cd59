/*
 * expectations: pod deletes not yet seen in the cache (expectations.h).
 */
#include "reconcilers/runtime/expectations.h"

#include "reactor/key_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct expected_pod {
    char *key;               /* "ns/name" in the pod cache */
    char uid[OBJECT_UID_SIZE];
};

struct expectation {
    char *key;               /* the cluster's */
    struct expected_pod *pods;
    size_t count;
    uint64_t deadline_ms;
};

struct expectations {
    struct key_map map;      /* cluster key -> expectation */
};

struct expectations *expectations_new(void)
{
    struct expectations *expectations = calloc(1, sizeof *expectations);
    if (expectations)
        key_map_init(&expectations->map);
    return expectations;
}

static void expectation_free(struct expectation *expectation)
{
    if (!expectation)
        return;
    for (size_t i = 0; i < expectation->count; i++)
        free(expectation->pods[i].key);
    free(expectation->pods);
    free(expectation->key);
    free(expectation);
}

void expectations_free(struct expectations *expectations)
{
    if (!expectations)
        return;
    size_t cursor = 0;
    for (struct expectation *expectation; (expectation = key_map_next(&expectations->map, &cursor));)
        expectation_free(expectation);
    key_map_free(&expectations->map);
    free(expectations);
}

void expectations_forget(struct expectations *expectations, const char *key)
{
    expectation_free(key_map_remove(&expectations->map, key));
}

size_t expectations_count(const struct expectations *expectations)
{
    return key_map_count(&expectations->map);
}

static bool is_pod_delete(const struct action *action)
{
    return action->kind == ACTION_DELETE && action->resource == &kube_resource_pods && action->name;
}

bool expectations_expect(struct expectations *expectations, const char *key, const struct plan *plan,
                         uint64_t deadline_ms)
{
    size_t deletes = 0;
    for (size_t i = 0; i < plan->count; i++)
        deletes += is_pod_delete(&plan->actions[i]);
    if (deletes == 0)
        return true;
    struct expectation *expectation = key_map_get(&expectations->map, key);
    bool created = false;
    if (!expectation) {
        expectation = calloc(1, sizeof *expectation);
        if (!expectation || !(expectation->key = strdup(key))) {
            free(expectation);
            return false;
        }
        created = true;
    }
    struct expected_pod *grown = realloc(expectation->pods, (expectation->count + deletes) * sizeof *grown);
    if (!grown) {
        if (created)
            expectation_free(expectation);
        return false;
    }
    expectation->pods = grown;
    size_t before = expectation->count;
    for (size_t i = 0; i < plan->count; i++) {
        const struct action *action = &plan->actions[i];
        if (!is_pod_delete(action))
            continue;
        struct expected_pod *pod = &expectation->pods[expectation->count];
        if (asprintf(&pod->key, "%s/%s", plan->namespace ? plan->namespace : "", action->name) < 0) {
            while (expectation->count > before)
                free(expectation->pods[--expectation->count].key);
            if (created)
                expectation_free(expectation);
            return false;
        }
        snprintf(pod->uid, sizeof pod->uid, "%s", action->precondition_uid ? action->precondition_uid : "");
        expectation->count++;
    }
    if (deadline_ms > expectation->deadline_ms)
        expectation->deadline_ms = deadline_ms;
    if (created && key_map_put(&expectations->map, expectation->key, expectation) != 0) {
        expectation_free(expectation);
        return false;
    }
    return true;
}

/* The cache shows the delete: the pod gone, another pod of the name, or terminating. */
static bool seen(const struct expected_pod *expected, const struct cache *pods)
{
    const struct kube_pod *pod = (const struct kube_pod *)cache_get(pods, expected->key);
    if (!pod || pod->meta.deletion_ms)
        return true;
    char uid[OBJECT_UID_SIZE];
    return expected->uid[0] && strcmp(object_uid(&pod->meta, uid), expected->uid) != 0;
}

bool expectations_pending(struct expectations *expectations, const char *key, const struct cache *pods,
                          uint64_t now_ms)
{
    struct expectation *expectation = key_map_get(&expectations->map, key);
    if (!expectation)
        return false;
    bool pending = false;
    for (size_t i = 0; i < expectation->count && !pending && now_ms < expectation->deadline_ms; i++)
        pending = !seen(&expectation->pods[i], pods);
    if (!pending)
        expectations_forget(expectations, key);
    return pending;
}
