/*
 * test_build_golden: the objects the builders make for the example clusters,
 * pinned byte for byte (test/golden/<example>.json), and the pod spec
 * hashes with them.
 *
 * Why: an operator upgrade must never restart a database pod. Pods are
 * restarted when their spec hash (build_pod_spec_hash) differs from the
 * spec's, so a change in what the hash covers, or in the objects themselves,
 * must be a decision someone makes in review, not an accident. When a change
 * is intended, regenerate with TEST_GOLDEN_UPDATE=1 and say in the commit
 * why running pods are (or are not) affected: a changed pod body alone
 * restarts nothing (the hash covers the spec's inputs, not the body); a
 * changed hash restarts every member of that component.
 */
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/build/build.h"
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const examples[] = { "basic" };

static bool load_example(const char *example, struct tidbcluster *cluster)
{
    char path[256];
    snprintf(path, sizeof path, "examples/%s/tidb-cluster.yaml", example);
    cJSON *root = e2e_repo_yaml_first(path);
    if (!root)
        return false;
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (metadata && !cJSON_GetObjectItemCaseSensitive(metadata, "namespace"))
        cJSON_AddStringToObject(metadata, "namespace", "default");
    char *error = NULL;
    bool ok = tidbcluster_decode(root, cluster, &error) && tidbcluster_apply_defaults(cluster);
    if (error)
        fprintf(stderr, "  decode %s: %s\n", path, error);
    free(error);
    cJSON_Delete(root);
    return ok;
}

static void add(cJSON *into, const char *key, cJSON *object)
{
    if (object)
        cJSON_AddItemToObject(into, key, object);
    else
        cJSON_AddNullToObject(into, key);
}

/* Every object of member 0 of each component, services, configmaps and the
 * spec hashes, under stable keys. */
static cJSON *build_everything(const struct tidbcluster *cluster)
{
    cJSON *all = cJSON_CreateObject();
    struct build_pd_start bootstrap = {
        .join = false,
        .initial_cluster = "basic-pd-0=http://basic-pd-0.basic-pd-peer.default.svc:2380",
    };
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        enum tc_component component = (enum tc_component)c;
        if (!cluster->spec.component[component].present)
            continue;
        const char *name = tidbcluster_component_name(component);
        char key[64], hash[17];
        cJSON *part = cJSON_AddObjectToObject(all, name);
        add(part, "configmap", build_configmap(cluster, component));
        if (component != TC_TIKV)
            add(part, "service", build_service_client(cluster, component));
        add(part, "peerService", build_service_peer(cluster, component));
        if (component != TC_TIDB)
            add(part, "pvc-0", build_pvc(cluster, component, 0));
        add(part, "pod-0", build_pod(cluster, component, 0, component == TC_PD ? &bootstrap : NULL));
        snprintf(key, sizeof key, "specHash");
        cJSON_AddStringToObject(part, key, build_pod_spec_hash(cluster, component, hash) ? hash : "(none)");
        /* Every version's hash a running pod may carry and stay up to date:
         * a pinned value that changes restarts pods made under it. */
        char accepted[BUILD_SPEC_HASH_VERSIONS][17];
        size_t count = build_pod_spec_hashes_accepted(cluster, component, accepted);
        cJSON *list = cJSON_AddArrayToObject(part, "acceptedSpecHashes");
        for (size_t v = 0; v < count; v++)
            cJSON_AddItemToArray(list, cJSON_CreateString(accepted[v]));
    }
    return all;
}

static void examples_build_what_is_pinned(void)
{
    bool update = getenv("TEST_GOLDEN_UPDATE") && strcmp(getenv("TEST_GOLDEN_UPDATE"), "1") == 0;
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        struct tidbcluster cluster;
        CHECK(load_example(examples[i], &cluster));
        cJSON *all = build_everything(&cluster);
        char *text = cJSON_Print(all);
        cJSON_Delete(all);
        tidbcluster_free(&cluster);
        CHECK(text != NULL);
        if (!text)
            continue;
        char relative[256], path[1024];
        snprintf(relative, sizeof relative, "test/golden/%s.json", examples[i]);
        if (update && e2e_repo_path(relative, path, sizeof path)) {
            FILE *file = fopen(path, "w");
            CHECK(file != NULL);
            if (file) {
                fprintf(file, "%s\n", text);
                fclose(file);
            }
            fprintf(stdout, "  wrote %s\n", path);
        }
        size_t length = 0;
        char *pinned = e2e_repo_file_read(relative, &length);
        if (!pinned)
            test_fail(__FILE__, __LINE__, "%s is missing (TEST_GOLDEN_UPDATE=1 writes it)", relative);
        if (pinned) {
            if (length > 0 && pinned[length - 1] == '\n')
                pinned[length - 1] = '\0';
            bool same = strcmp(pinned, text) == 0;
            if (!same)
                test_fail(__FILE__, __LINE__, "the builders' output for examples/%s differs from %s: a changed specHash restarts "
                            "every member of that component on an operator upgrade (regenerate with "
                            "TEST_GOLDEN_UPDATE=1 only when that is intended)",
                      examples[i], relative);
            if (!same) {
                /* The first differing line, to see what moved. */
                const char *a = pinned, *b = text;
                int line = 1;
                while (*a && *a == *b) {
                    if (*a == '\n')
                        line++;
                    a++, b++;
                }
                fprintf(stdout, "  first difference at line %d: pinned \"%.60s\" built \"%.60s\"\n", line, a, b);
            }
        }
        free(pinned);
        free(text);
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(examples_build_what_is_pinned),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
