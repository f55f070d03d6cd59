/*
 * test_build_golden: the objects built for the example clusters stay
 * byte-identical (DESIGN.md: an operator upgrade never restarts a database
 * pod). Each built object's compact JSON is fingerprinted (FNV-1a 64) and
 * compared with the fingerprint recorded when it was last deliberately
 * changed; a change that should not move them (a newly supported field that
 * the examples do not set) must leave every one alone.
 *
 * When a change is deliberate, run the program with `print` to see the new
 * fingerprints (and say why in the commit).
 */
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/build/build.h"
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct golden {
    const char *object;
    const char *fingerprint;
};

/* examples/basic/tidb-cluster.yaml in namespace "default", uid "u-1"; the
 * PD pod as a bootstrapping member of three. */
static const struct golden basic[] = {
    { "pd pod 0", "2bbe1dad7f347b6b" },
    { "pd pod 0 joining", "aa8ca8462155140e" },
    { "pd configmap", "88a7eb411dc27551" },
    { "pd client service", "81bbe592e2c9eb3a" },
    { "pd peer service", "65d0c29c9df14f7a" },
    { "pd claim 0", "6f483a0bf9d4d30f" },
    { "tikv pod 0", "5a5da34d65b3e08a" },
    { "tikv configmap", "c5a06d2ec9ae4d8f" },
    { "tikv peer service", "6120573247f9eff1" },
    { "tikv claim 0", "1401d1b7d9316349" },
    { "tidb pod 1", "d52bafe44829dc83" },
    { "tidb configmap", "4c014b0311f13aa3" },
    { "tidb client service", "1e56ea743b237f1f" },
    { "tidb peer service", "8bc87c41cdeec86c" },
};
#define BASIC_COUNT (sizeof basic / sizeof basic[0])

static bool printing;

static uint64_t fnv1a(const char *text)
{
    uint64_t hash = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        hash ^= *p;
        hash *= UINT64_C(1099511628211);
    }
    return hash;
}

static cJSON *build_one(const struct tidbcluster *tc, size_t index)
{
    static const struct build_pd_start bootstrap = {
        .join = false,
        .initial_cluster = "basic-pd-0=http://basic-pd-0.basic-pd-peer.default.svc:2380,"
                           "basic-pd-1=http://basic-pd-1.basic-pd-peer.default.svc:2380,"
                           "basic-pd-2=http://basic-pd-2.basic-pd-peer.default.svc:2380",
    };
    static const struct build_pd_start joining = { .join = true, .join_urls = "http://basic-pd.default:2379" };
    switch (index) {
    case 0: return build_pod(tc, TC_PD, 0, &bootstrap);
    case 1: return build_pod(tc, TC_PD, 0, &joining);
    case 2: return build_configmap(tc, TC_PD);
    case 3: return build_service_client(tc, TC_PD);
    case 4: return build_service_peer(tc, TC_PD);
    case 5: return build_pvc(tc, TC_PD, 0);
    case 6: return build_pod(tc, TC_TIKV, 0, NULL);
    case 7: return build_configmap(tc, TC_TIKV);
    case 8: return build_service_peer(tc, TC_TIKV);
    case 9: return build_pvc(tc, TC_TIKV, 0);
    case 10: return build_pod(tc, TC_TIDB, 1, NULL);
    case 11: return build_configmap(tc, TC_TIDB);
    case 12: return build_service_client(tc, TC_TIDB);
    case 13: return build_service_peer(tc, TC_TIDB);
    default: return NULL;
    }
}

static void basic_example_objects_are_unchanged(void)
{
    cJSON *object = e2e_repo_yaml_first("examples/basic/tidb-cluster.yaml");
    REQUIRE(object);
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    REQUIRE(metadata);
    cJSON_AddStringToObject(metadata, "namespace", "default");
    cJSON_AddStringToObject(metadata, "uid", "u-1");
    struct tidbcluster tc;
    char *error = NULL;
    bool ok = tidbcluster_decode(object, &tc, &error);
    cJSON_Delete(object);
    free(error);
    REQUIRE(ok);
    REQUIRE(tidbcluster_apply_defaults(&tc));
    for (size_t i = 0; i < BASIC_COUNT; i++) {
        cJSON *built = build_one(&tc, i);
        char *text = built ? cJSON_PrintUnformatted(built) : NULL;
        cJSON_Delete(built);
        if (!text) {
            test_fail(__FILE__, __LINE__, "%s: not built", basic[i].object);
            continue;
        }
        char fingerprint[17];
        snprintf(fingerprint, sizeof fingerprint, "%016" PRIx64, fnv1a(text));
        if (printing)
            printf("    { \"%s\", \"%s\" },\n", basic[i].object, fingerprint);
        else if (strcmp(fingerprint, basic[i].fingerprint) != 0)
            test_fail(__FILE__, __LINE__, "%s changed (%s, recorded %s):\n%s", basic[i].object, fingerprint,
                      basic[i].fingerprint, text);
        free(text);
    }
    tidbcluster_free(&tc);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "print") == 0) {
        printing = true;
        argc = 1;
    }
    static const struct test_case cases[] = {
        TEST_CASE(basic_example_objects_are_unchanged),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
