/*
 * The real kubectl (1.32) against the kubesim program: what a user types,
 * what kubectl prints, and what the server holds afterwards.
 *
 * Every case starts its own kubesim (HTTPS, random token, admin listener)
 * in the case's temp dir and gives kubectl that dir's kubeconfig (through
 * KUBECONFIG) and a discovery cache dir of its own, so that no state leaks
 * between cases or from the user's ~/.kube. Cases skip, with the reason,
 * when kubectl or KUBESIM_BIN is missing.
 *
 * Tables are compared after normalising each line: cells are split on
 * kubectl's column gaps (2+ spaces) and joined with '|', and ages ("0s",
 * "3m2s") become "AGE" because they depend on the clock.
 */
#include "test/support/process.h"
#include "test/support/test.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KUBECTL_TIMEOUT_MS 30000
#define START_TIMEOUT_MS 10000
#define MAX_ARGS 48

/* ---- the kubesim program ---- */

struct sim {
    struct child child;
    char kubeconfig[600];
    char cache[600];
    int admin_port;
};

static char kubectl_path[600];

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* $KUBECTL, else the first kubectl on $PATH. */
static bool find_kubectl(void)
{
    const char *forced = getenv("KUBECTL");
    if (forced && access(forced, X_OK) == 0) {
        snprintf(kubectl_path, sizeof kubectl_path, "%s", forced);
        return true;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(kubectl_path, sizeof kubectl_path, "%s/kubectl", dir);
        if (access(kubectl_path, X_OK) == 0) return true;
    }
    kubectl_path[0] = '\0';
    return false;
}

/* Starts kubesim and waits for its ready line; skips the case when it cannot. */
static bool sim_start(struct sim *sim)
{
    memset(sim, 0, sizeof *sim);
    const char *binary = binary_under_test("KUBESIM_BIN");
    if (!binary || access(binary, X_OK) != 0) {
        test_skip("KUBESIM_BIN is not set or not executable (run through zig build test)");
        return false;
    }
    if (!find_kubectl()) {
        test_skip("kubectl is not installed (not on PATH, KUBECTL unset)");
        return false;
    }
    const char *dir = test_temp_dir();
    snprintf(sim->kubeconfig, sizeof sim->kubeconfig, "%s/kubeconfig", dir);
    snprintf(sim->cache, sizeof sim->cache, "%s/kubectl-cache", dir);
    /* The API server alone: no simulated machines changing pods under kubectl. */
    char *argv[] = { (char *)binary, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                     "--kubeconfig-out", sim->kubeconfig, "--log-level", "warn", "--world=none",
                     "--proxy-listen=", NULL };
    if (!child_start(&sim->child, argv, NULL)) {
        test_fail(__FILE__, __LINE__, "cannot start %s", binary);
        return false;
    }
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
        char *output = child_output(&sim->child);
        const char *admin = output ? strstr(output, " admin=http://127.0.0.1:") : NULL;
        if (admin && strstr(output, " kubeconfig=") && access(sim->kubeconfig, R_OK) == 0) {
            sim->admin_port = atoi(admin + strlen(" admin=http://127.0.0.1:"));
            free(output);
            setenv("KUBECONFIG", sim->kubeconfig, 1);
            return true;
        }
        free(output);
        int code;
        if (child_wait(&sim->child, 0, &code)) {
            char *log = child_output(&sim->child);
            test_fail(__FILE__, __LINE__, "kubesim exited with %d: %s", code, log);
            free(log);
            return false;
        }
        sleep_ms(20);
    }
    test_fail(__FILE__, __LINE__, "kubesim printed no ready line within %d ms", START_TIMEOUT_MS);
    child_kill(&sim->child);
    return false;
}

static void sim_stop(struct sim *sim)
{
    child_kill(&sim->child);
    unsetenv("KUBECONFIG");
}

/* POST to the admin listener; the HTTP status or -1. */
static int admin_post(const struct sim *sim, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval timeout = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)sim->admin_port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    char request[512];
    int length = snprintf(request, sizeof request,
                          "POST %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", path);
    int status = -1;
    if (write(fd, request, (size_t)length) == length) {
        char reply[512];
        ssize_t n = read(fd, reply, sizeof reply - 1);
        if (n > 0) {
            reply[n] = '\0';
            if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1) status = -1;
        }
    }
    close(fd);
    return status;
}

/* ---- running kubectl ---- */

/* Fills argv with kubectl, --cache-dir and the NULL-terminated `args`. */
static size_t kubectl_argv(const struct sim *sim, char **argv, va_list args)
{
    size_t count = 0;
    argv[count++] = kubectl_path;
    argv[count++] = "--cache-dir";
    argv[count++] = (char *)sim->cache;
    for (const char *arg = va_arg(args, const char *); arg && count < MAX_ARGS - 1;
         arg = va_arg(args, const char *))
        argv[count++] = (char *)arg;
    argv[count] = NULL;
    return count;
}

/* Runs kubectl with the arguments (NULL-terminated); its exit code and output (stdout+stderr). */
static int kubectl_run(const struct sim *sim, char **output, ...)
{
    char *argv[MAX_ARGS];
    va_list args;
    va_start(args, output);
    kubectl_argv(sim, argv, args);
    va_end(args);
    char *ignored = NULL;
    int code = command_run(argv, KUBECTL_TIMEOUT_MS, output ? output : &ignored);
    free(ignored);
    if (output && !*output) *output = strdup("");
    return code;
}
#define KUBECTL(sim, output, ...) kubectl_run(sim, output, __VA_ARGS__, (const char *)NULL)

/* Starts kubectl in the background (get -w, wait). */
static bool kubectl_start(const struct sim *sim, struct child *child, ...)
{
    char *argv[MAX_ARGS];
    va_list args;
    va_start(args, child);
    kubectl_argv(sim, argv, args);
    va_end(args);
    return child_start(child, argv, NULL);
}
#define KUBECTL_START(sim, child, ...) kubectl_start(sim, child, __VA_ARGS__, (const char *)NULL)

/* `kubectl get ... -o json`, parsed; NULL (and a failure) when it did not work. */
static cJSON *get_json(const struct sim *sim, const char *resource, const char *name,
                       const char *namespace)
{
    char *output = NULL;
    int code = name ? KUBECTL(sim, &output, "get", resource, name, "-n", namespace, "-o", "json")
                    : KUBECTL(sim, &output, "get", resource, "-n", namespace, "-o", "json");
    cJSON *tree = code == 0 ? cJSON_Parse(output) : NULL;
    if (!tree)
        test_fail(__FILE__, __LINE__, "kubectl get %s %s -o json: %d %s", resource,
                  name ? name : "", code, output);
    free(output);
    return tree;
}

/* The item at a dotted path ("spec.containers.1.image"); NULL when absent. */
static const cJSON *at(const cJSON *tree, const char *dotted)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", dotted);
    char *save = NULL;
    const cJSON *node = tree;
    for (char *key = strtok_r(copy, ".", &save); key && node; key = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(node) && isdigit((unsigned char)key[0]))
            node = cJSON_GetArrayItem(node, atoi(key));
        else
            node = cJSON_GetObjectItemCaseSensitive(node, key);
    }
    return node;
}

static const char *text_at(const cJSON *tree, const char *dotted)
{
    const cJSON *item = at(tree, dotted);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static double number_at(const cJSON *tree, const char *dotted)
{
    const cJSON *item = at(tree, dotted);
    return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

/* Writes `content` to <temp>/<name>; the path goes into `path`. */
static void write_file(const char *name, const char *content, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", test_temp_dir(), name);
    FILE *file = fopen(path, "w");
    if (!file) {
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
        return;
    }
    fputs(content, file);
    fclose(file);
}

/* ---- table normalisation ---- */

/* "0s", "59s", "3m2s", "5h", "2d3h", "1y": what an age cell looks like. */
static bool looks_like_age(const char *cell, size_t length)
{
    size_t i = 0;
    int parts = 0;
    while (i < length && parts < 3) {
        size_t digits = 0;
        while (i < length && isdigit((unsigned char)cell[i])) i++, digits++;
        if (digits == 0 || i >= length || !strchr("smhdy", cell[i])) return false;
        i++;
        parts++;
    }
    return parts > 0 && i == length;
}

/* Cells split on 2+ spaces, joined by '|'; ages become AGE; one line per row. */
static char *normalise(const char *text)
{
    size_t size = strlen(text) * 2 + 16;
    char *out = calloc(1, size);
    if (!out) return NULL;
    size_t used = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        const char *cell = line;
        bool first = true;
        while (cell < end) {
            while (cell < end && *cell == ' ') cell++;
            if (cell >= end) break;
            const char *cell_end = cell;
            while (cell_end < end && !(cell_end[0] == ' ' && cell_end + 1 < end && cell_end[1] == ' '))
                cell_end++;
            size_t length = (size_t)(cell_end - cell);
            while (length > 0 && cell[length - 1] == ' ') length--;
            if (!first) out[used++] = '|';
            if (looks_like_age(cell, length)) {
                memcpy(out + used, "AGE", 3);
                used += 3;
            } else {
                memcpy(out + used, cell, length);
                used += length;
            }
            first = false;
            cell = cell_end;
        }
        out[used++] = '\n';
        line = *end ? end + 1 : end;
    }
    out[used] = '\0';
    return out;
}

#define CHECK_TABLE(output, expected)           \
    do {                                        \
        char *normal_ = normalise(output);      \
        CHECK_STR(normal_, expected);           \
        free(normal_);                          \
    } while (0)

/* ---- manifests ---- */

/*
 * A TidbCluster CRD with what the cases need: the short name, a status
 * subresource (for patch --subresource=status and wait), a scale
 * subresource on spec.tikv.replicas (kube-api.md §8.2: the shipped CRD has
 * neither, so cases that need them always use this one) and printer columns.
 */
static const char test_crd[] =
    "apiVersion: apiextensions.k8s.io/v1\n"
    "kind: CustomResourceDefinition\n"
    "metadata:\n"
    "  name: tidbclusters.pingcap.com\n"
    "spec:\n"
    "  group: pingcap.com\n"
    "  scope: Namespaced\n"
    "  names:\n"
    "    plural: tidbclusters\n"
    "    singular: tidbcluster\n"
    "    kind: TidbCluster\n"
    "    listKind: TidbClusterList\n"
    "    shortNames: [tc]\n"
    "  versions:\n"
    "  - name: v1alpha1\n"
    "    served: true\n"
    "    storage: true\n"
    "    schema:\n"
    "      openAPIV3Schema:\n"
    "        type: object\n"
    "        x-kubernetes-preserve-unknown-fields: true\n"
    "    subresources:\n"
    "      status: {}\n"
    "      scale:\n"
    "        specReplicasPath: .spec.tikv.replicas\n"
    "        statusReplicasPath: .status.tikv.replicas\n"
    "    additionalPrinterColumns:\n"
    "    - name: Ready\n"
    "      type: string\n"
    "      jsonPath: .status.conditions[?(@.type==\"Ready\")].status\n"
    "    - name: PD\n"
    "      type: string\n"
    "      jsonPath: .spec.pd.image\n"
    "    - name: Desire\n"
    "      type: integer\n"
    "      jsonPath: .spec.pd.replicas\n"
    "    - name: TiKV\n"
    "      type: integer\n"
    "      jsonPath: .spec.tikv.replicas\n"
    "    - name: Status\n"
    "      type: string\n"
    "      priority: 1\n"
    "      jsonPath: .status.conditions[?(@.type==\"Ready\")].message\n"
    "    - name: Age\n"
    "      type: date\n"
    "      jsonPath: .metadata.creationTimestamp\n";

static const char test_cluster[] =
    "apiVersion: pingcap.com/v1alpha1\n"
    "kind: TidbCluster\n"
    "metadata:\n"
    "  name: basic\n"
    "  namespace: x\n"
    "  labels:\n"
    "    env: test\n"
    "spec:\n"
    "  version: v8.1.0\n"
    "  pd:\n"
    "    image: pingcap/pd:v8.1.0\n"
    "    replicas: 3\n"
    "  tikv:\n"
    "    replicas: 3\n"
    "  tidb:\n"
    "    replicas: 2\n";

/* The repository root, from this file's path (the build passes absolute paths). */
static void repo_file(const char *relative, char *path, size_t size)
{
    const char *self = __FILE__;
    const char *suffix = strstr(self, "test/unit/test_kubectl.c");
    int prefix = suffix ? (int)(suffix - self) : 0;
    snprintf(path, size, "%.*s%s", prefix, self, relative);
}

static bool create_namespace(const struct sim *sim, const char *name)
{
    char *output = NULL;
    char command[1200];
    /* Generators send protobuf (kube-api.md §1.1); the client-side dry run gives JSON. */
    snprintf(command, sizeof command,
             "'%s' --cache-dir '%s' create ns %s --dry-run=client -o json | "
             "'%s' --cache-dir '%s' create -f -",
             kubectl_path, sim->cache, name, kubectl_path, sim->cache);
    char *argv[] = { "/bin/sh", "-c", command, NULL };
    int code = command_run(argv, KUBECTL_TIMEOUT_MS, &output);
    char expected[128];
    snprintf(expected, sizeof expected, "namespace/%s created\n", name);
    bool ok = code == 0 && output && strcmp(output, expected) == 0;
    if (!ok) test_fail(__FILE__, __LINE__, "create ns %s: %d %s", name, code, output);
    free(output);
    return ok;
}

/* Namespace x, the test CRD and the cluster x/basic. */
static bool setup_cluster(const struct sim *sim)
{
    if (!create_namespace(sim, "x")) return false;
    char crd[700], cluster[700];
    write_file("crd.yaml", test_crd, crd, sizeof crd);
    write_file("tc.yaml", test_cluster, cluster, sizeof cluster);
    char *output = NULL;
    int code = KUBECTL(sim, &output, "apply", "-f", crd);
    bool ok = code == 0 && strcmp(output, "customresourcedefinition.apiextensions.k8s.io/"
                                          "tidbclusters.pingcap.com created\n") == 0;
    if (!ok) test_fail(__FILE__, __LINE__, "apply crd: %d %s", code, output);
    free(output);
    if (!ok) return false;
    code = KUBECTL(sim, &output, "apply", "-f", cluster);
    ok = code == 0 && strcmp(output, "tidbcluster.pingcap.com/basic created\n") == 0;
    if (!ok) test_fail(__FILE__, __LINE__, "apply tc: %d %s", code, output);
    free(output);
    return ok;
}

/* ---- cases ---- */

static void namespace_created_from_client_dry_run(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (create_namespace(&sim, "x")) {
        cJSON *ns = get_json(&sim, "namespace", "x", "default");
        CHECK_STR(text_at(ns, "kind"), "Namespace");
        CHECK_STR(text_at(ns, "metadata.name"), "x");
        CHECK_STR(text_at(ns, "status.phase"), "Active");
        cJSON_Delete(ns);
        char *output = NULL;
        CHECK_INT(KUBECTL(&sim, &output, "get", "ns"), 0);
        CHECK_TABLE(output, "NAME|STATUS|AGE\n"
                            "default|Active|AGE\n"
                            "kube-node-lease|Active|AGE\n"
                            "kube-public|Active|AGE\n"
                            "kube-system|Active|AGE\n"
                            "x|Active|AGE\n");
        free(output);
        /* The generator itself sends protobuf: a JSON-only server answers 415. */
        CHECK(KUBECTL(&sim, &output, "create", "ns", "y") != 0);
        CHECK(strstr(output, "Error from server (UnsupportedMediaType)") != NULL);
        free(output);
    }
    sim_stop(&sim);
}

static void crd_and_cluster_get_in_every_format(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!setup_cluster(&sim)) {
        sim_stop(&sim);
        return;
    }
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "get", "crd"), 0);
    static const char crd_table[] = "NAME                       CREATED AT\n"
                                    "tidbclusters.pingcap.com   20";
    CHECK(strncmp(output, crd_table, sizeof crd_table - 1) == 0);
    free(output);

    /* Table: printer columns; a missing value is an empty cell. */
    CHECK_INT(KUBECTL(&sim, &output, "get", "tidbclusters", "-n", "x"), 0);
    /* Exact spacing once: the empty READY cell keeps its column. */
    static const char tc_table[] = "NAME    READY   PD                  DESIRE   TIKV   AGE\n"
                                   "basic           pingcap/pd:v8.1.0   3        3      ";
    CHECK(strncmp(output, tc_table, sizeof tc_table - 1) == 0);
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "x", "-o", "wide"), 0);
    CHECK_TABLE(output, "NAME|READY|PD|DESIRE|TIKV|STATUS|AGE\n"
                        "basic|pingcap/pd:v8.1.0|3|3|AGE\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-A"), 0);
    CHECK_TABLE(output, "NAMESPACE|NAME|READY|PD|DESIRE|TIKV|AGE\n"
                        "x|basic|pingcap/pd:v8.1.0|3|3|AGE\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "x", "-o", "name"), 0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic\n");
    free(output);

    /* JSON and YAML: the stored object, with server-set metadata. */
    cJSON *tc = get_json(&sim, "tidbclusters.pingcap.com", "basic", "x");
    CHECK_STR(text_at(tc, "apiVersion"), "pingcap.com/v1alpha1");
    CHECK_STR(text_at(tc, "kind"), "TidbCluster");
    CHECK_STR(text_at(tc, "metadata.namespace"), "x");
    CHECK(text_at(tc, "metadata.uid") != NULL);
    CHECK(text_at(tc, "metadata.resourceVersion") != NULL);
    CHECK(text_at(tc, "metadata.creationTimestamp") != NULL);
    CHECK_INT(number_at(tc, "metadata.generation"), 1);
    CHECK_INT(number_at(tc, "spec.pd.replicas"), 3);
    cJSON_Delete(tc);
    cJSON *list = get_json(&sim, "tc", NULL, "x");
    CHECK_STR(text_at(list, "kind"), "List");  /* kubectl wraps -o json lists */
    CHECK_STR(text_at(list, "items.0.metadata.name"), "basic");
    cJSON_Delete(list);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "basic", "-n", "x", "-o", "yaml"), 0);
    static const char yaml_head[] = "apiVersion: pingcap.com/v1alpha1\nkind: TidbCluster\nmetadata:\n";
    CHECK(strncmp(output, yaml_head, sizeof yaml_head - 1) == 0);
    CHECK(strstr(output, "\n  name: basic\n  namespace: x\n") != NULL);
    CHECK(strstr(output, "\nspec:\n  pd:\n    image: pingcap/pd:v8.1.0\n    replicas: 3\n") != NULL);
    free(output);

    /* Label selectors. */
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "x", "-l", "env=test", "-o", "name"), 0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "x", "-l", "env in (prod,staging)"), 0);
    CHECK_STR(output, "No resources found in x namespace.\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "x", "-l", "!env", "-o", "name"), 0);
    CHECK_STR(output, "");
    free(output);

    sim_stop(&sim);
}

/* The repository's CRD and example cluster, as a user would apply them. */
static void shipped_crd_and_example_apply(void)
{
    char crd[700], example[700];
    repo_file("manifests/crd/pingcap.com_tidbclusters.yaml", crd, sizeof crd);
    repo_file("examples/basic/tidb-cluster.yaml", example, sizeof example);
    if (access(crd, R_OK) != 0 || access(example, R_OK) != 0) {
        test_skip("%s or %s is not written yet", crd, example);
        return;
    }
    struct sim sim;
    if (!sim_start(&sim)) return;
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "apply", "-f", crd), 0);
    CHECK_STR(output, "customresourcedefinition.apiextensions.k8s.io/tidbclusters.pingcap.com "
                      "created\n");
    free(output);
    if (create_namespace(&sim, "demo")) {
        CHECK_INT(KUBECTL(&sim, &output, "apply", "-n", "demo", "-f", example), 0);
        CHECK_STR(output, "tidbcluster.pingcap.com/basic created\n");
        free(output);
        CHECK_INT(KUBECTL(&sim, &output, "apply", "-n", "demo", "-f", example), 0);
        CHECK_STR(output, "tidbcluster.pingcap.com/basic unchanged\n");
        free(output);
        /* The CRD's printer columns (owned elsewhere: only their shape is checked). */
        CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "demo"), 0);
        CHECK(strncmp(output, "NAME    READY   PD", 18) == 0);
        CHECK(strstr(output, "\nbasic   ") != NULL);
        CHECK(strstr(output, "1Gi") != NULL);  /* .spec.pd.requests.storage */
        free(output);
        cJSON *tc = get_json(&sim, "tc", "basic", "demo");
        CHECK_INT(number_at(tc, "spec.tikv.replicas"), 3);
        CHECK_STR(text_at(tc, "metadata.namespace"), "demo");
        cJSON_Delete(tc);
        /* A wrong type is refused by the CRD's schema, and kubectl says where. */
        CHECK(KUBECTL(&sim, &output, "patch", "tc", "basic", "-n", "demo", "--type", "merge", "-p",
                      "{\"spec\":{\"tikv\":{\"replicas\":\"three\"}}}") != 0);
        CHECK(output && strstr(output, "The TidbCluster \"basic\" is invalid: spec.tikv.replicas: Invalid value: "
                                       "\"string\": spec.tikv.replicas in body must be of type integer: "
                                       "\"string\"") != NULL);
        free(output);
        tc = get_json(&sim, "tc", "basic", "demo");
        CHECK_INT(number_at(tc, "spec.tikv.replicas"), 3);
        cJSON_Delete(tc);
    }
    sim_stop(&sim);
}

static void patch_merge_json_and_strategic(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!setup_cluster(&sim)) {
        sim_stop(&sim);
        return;
    }
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "patch", "tc", "basic", "--type", "merge", "-p",
                      "{\"spec\":{\"pd\":{\"replicas\":5}}}"),
              0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic patched\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "patch", "tc", "basic", "--type", "json", "-p",
                      "[{\"op\":\"replace\",\"path\":\"/spec/pd/image\",\"value\":"
                      "\"pingcap/pd:v8.5.0\"},{\"op\":\"add\",\"path\":\"/metadata/labels/tier\","
                      "\"value\":\"db\"}]"),
              0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic patched\n");
    free(output);
    cJSON *tc = get_json(&sim, "tc", "basic", "x");
    CHECK_INT(number_at(tc, "spec.pd.replicas"), 5);
    CHECK_STR(text_at(tc, "spec.pd.image"), "pingcap/pd:v8.5.0");
    CHECK_STR(text_at(tc, "metadata.labels.tier"), "db");
    CHECK_STR(text_at(tc, "metadata.labels.env"), "test");
    CHECK_INT(number_at(tc, "metadata.generation"), 3);
    cJSON_Delete(tc);

    /* A patch that changes nothing. */
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "patch", "tc", "basic", "--type", "merge", "-p",
                      "{\"spec\":{\"pd\":{\"replicas\":5}}}"),
              0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic patched (no change)\n");
    free(output);

    /* No --type: strategic merge, which custom resources do not support. */
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "patch", "tc", "basic", "-p",
                      "{\"spec\":{\"pd\":{\"replicas\":1}}}"),
              1);
    CHECK_STR(output, "error: application/strategic-merge-patch+json is not supported by "
                      "pingcap.com/v1alpha1, Kind=TidbCluster: the body of the request was in an "
                      "unknown format - accepted media types include: "
                      "application/json-patch+json, application/merge-patch+json, "
                      "application/apply-patch+yaml\n");
    free(output);
    tc = get_json(&sim, "tc", "basic", "x");
    CHECK_INT(number_at(tc, "spec.pd.replicas"), 5);
    cJSON_Delete(tc);

    /* Strategic merge on a pod: containers merge by name. */
    char pod[700];
    write_file("pod.yaml",
               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: x\n"
               "spec:\n  containers:\n  - name: main\n    image: nginx:1.25\n"
               "  - name: side\n    image: busybox:1.36\n",
               pod, sizeof pod);
    CHECK_INT(KUBECTL(&sim, &output, "create", "-f", pod), 0);
    CHECK_STR(output, "pod/web created\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "patch", "pod", "web", "-p",
                      "{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1.26\"}]}}"),
              0);
    CHECK_STR(output, "pod/web patched\n");
    free(output);
    cJSON *web = get_json(&sim, "pod", "web", "x");
    CHECK_INT(cJSON_GetArraySize(at(web, "spec.containers")), 2);
    CHECK_STR(text_at(web, "spec.containers.0.name"), "main");
    CHECK_STR(text_at(web, "spec.containers.0.image"), "nginx:1.26");
    CHECK_STR(text_at(web, "spec.containers.1.name"), "side");
    CHECK_STR(text_at(web, "spec.containers.1.image"), "busybox:1.36");
    cJSON_Delete(web);
    sim_stop(&sim);
}

static void scale_custom_resource(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!setup_cluster(&sim)) {
        sim_stop(&sim);
        return;
    }
    char *output = NULL;
    /* kubectl GETs the object, then PATCHes /scale with a merge patch. */
    int code = KUBECTL(&sim, &output, "-n", "x", "scale", "tc", "basic", "--replicas=4");
    if (code != 0 && strstr(output, "NotFound")) {
        test_skip("kubesim serves no /scale for this CRD: %s", output);
        free(output);
        sim_stop(&sim);
        return;
    }
    CHECK_INT(code, 0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic scaled\n");
    free(output);
    cJSON *tc = get_json(&sim, "tc", "basic", "x");
    CHECK_INT(number_at(tc, "spec.tikv.replicas"), 4);
    CHECK_INT(number_at(tc, "spec.pd.replicas"), 3);
    cJSON_Delete(tc);
    /* With a precondition: GET /scale, then PUT /scale without a Content-Type. */
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "scale", "tc", "basic", "--current-replicas=4",
                      "--replicas=5"),
              0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic scaled\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "scale", "tc", "basic", "--current-replicas=4",
                      "--replicas=6"),
              1);
    CHECK_STR(output, "error: Expected replicas to be 4, was 5\n");
    free(output);
    tc = get_json(&sim, "tc", "basic", "x");
    CHECK_INT(number_at(tc, "spec.tikv.replicas"), 5);
    cJSON_Delete(tc);
    sim_stop(&sim);
}

static void delete_cascades_to_owned_objects(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!setup_cluster(&sim)) {
        sim_stop(&sim);
        return;
    }
    cJSON *tc = get_json(&sim, "tc", "basic", "x");
    const char *uid = text_at(tc, "metadata.uid");
    char manifest[1200], path[700];
    snprintf(manifest, sizeof manifest,
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: basic-pd\n  namespace: x\n"
             "  ownerReferences:\n  - apiVersion: pingcap.com/v1alpha1\n    kind: TidbCluster\n"
             "    name: basic\n    uid: %s\n    controller: true\n    blockOwnerDeletion: true\n"
             "data:\n  config-file: |\n    [log]\n    level = \"info\"\n",
             uid ? uid : "missing");
    cJSON_Delete(tc);
    write_file("cm.yaml", manifest, path, sizeof path);
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "create", "-f", path), 0);
    free(output);
    /* An unowned one stays. */
    write_file("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n"
                             "  namespace: x\n", path, sizeof path);
    CHECK_INT(KUBECTL(&sim, &output, "create", "-f", path), 0);
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "get", "configmaps"), 0);
    CHECK_TABLE(output, "NAME|DATA|AGE\nbasic-pd|1|AGE\nother|0|AGE\n");
    free(output);

    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "delete", "tc", "basic"), 0);
    CHECK_STR(output, "tidbcluster.pingcap.com \"basic\" deleted\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "get", "configmaps", "-o", "name"), 0);
    CHECK_STR(output, "configmap/other\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "get", "configmap", "basic-pd"), 1);
    CHECK_STR(output, "Error from server (NotFound): configmaps \"basic-pd\" not found\n");
    free(output);
    sim_stop(&sim);
}

static void watch_prints_events_in_order(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!create_namespace(&sim, "x")) {
        sim_stop(&sim);
        return;
    }
    char first[700], second[700];
    write_file("web.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: x\n"
                           "spec:\n  containers:\n  - name: c\n    image: nginx\n  - name: d\n"
                           "    image: nginx\n", first, sizeof first);
    write_file("db.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: db\n  namespace: x\n"
                          "spec:\n  containers:\n  - name: c\n    image: mysql\n",
               second, sizeof second);
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "create", "-f", first), 0);
    free(output);

    struct child watch;
    REQUIRE(KUBECTL_START(&sim, &watch, "-n", "x", "get", "pods", "-w", "--output-watch-events"));
    /* Wait for the initial list to be printed before changing anything. */
    char *seen = NULL;
    for (int waited = 0; waited < 10000; waited += 20) {
        free(seen);
        seen = child_output(&watch);
        if (strstr(seen, "ADDED")) break;
        sleep_ms(20);
    }
    free(seen);
    CHECK_INT(KUBECTL(&sim, &output, "create", "-f", second), 0);
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "label", "pod", "db", "tier=back"), 0);
    CHECK_STR(output, "pod/db labeled\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "delete", "pod", "db"), 0);
    CHECK_STR(output, "pod \"db\" deleted\n");
    free(output);
    /* Wait for the DELETED row, then end the stream server-side: kubectl exits 0. */
    for (int waited = 0; waited < 10000; waited += 20) {
        seen = child_output(&watch);
        bool done = strstr(seen, "DELETED") != NULL;
        free(seen);
        if (done) break;
        sleep_ms(20);
    }
    CHECK_INT(admin_post(&sim, "/watches/close"), 200);
    int code = -1;
    bool ended = child_wait(&watch, 10000, &code);
    CHECK(ended);
    if (!ended) child_kill(&watch);
    CHECK_INT(code, 0);
    output = child_output(&watch);
    CHECK_TABLE(output, "EVENT|NAME|READY|STATUS|RESTARTS|AGE\n"
                        "ADDED|web|0/2|Pending|0|AGE\n"
                        "ADDED|db|0/1|Pending|0|AGE\n"
                        "MODIFIED|db|0/1|Pending|0|AGE\n"
                        "DELETED|db|0/1|Pending|0|AGE\n");
    free(output);
    sim_stop(&sim);
}

static void wait_for_ready_condition(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!setup_cluster(&sim)) {
        sim_stop(&sim);
        return;
    }
    /* kubectl wait first, so that it sees the change through its watch. */
    struct child waiter;
    REQUIRE(KUBECTL_START(&sim, &waiter, "-n", "x", "wait", "--for=condition=Ready", "tc/basic",
                          "--timeout=20s"));
    sleep_ms(300);
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "patch", "tc", "basic", "--subresource=status",
                      "--type", "merge", "-p",
                      "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                      "\"reason\":\"Up\",\"message\":\"TiDB cluster is fully up\"}]}}"),
              0);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic patched\n");
    free(output);
    int code = -1;
    bool ended = child_wait(&waiter, 25000, &code);
    CHECK(ended);
    if (!ended) child_kill(&waiter);
    CHECK_INT(code, 0);
    output = child_output(&waiter);
    CHECK_STR(output, "tidbcluster.pingcap.com/basic condition met\n");
    free(output);

    /* The status subresource kept the spec and did not bump generation. */
    cJSON *tc = get_json(&sim, "tc", "basic", "x");
    CHECK_INT(number_at(tc, "metadata.generation"), 1);
    CHECK_STR(text_at(tc, "status.conditions.0.status"), "True");
    cJSON_Delete(tc);
    CHECK_INT(KUBECTL(&sim, &output, "get", "tc", "-n", "x", "-o", "wide"), 0);
    CHECK_TABLE(output, "NAME|READY|PD|DESIRE|TIKV|STATUS|AGE\n"
                        "basic|True|pingcap/pd:v8.1.0|3|3|TiDB cluster is fully up|AGE\n");
    free(output);
    /* Already true: returns at once. */
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "wait", "--for=condition=Ready", "tc/basic",
                      "--timeout=5s"),
              0);
    free(output);
    sim_stop(&sim);
}

static void apply_twice_is_unchanged(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    char path[700];
    write_file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                          "  namespace: default\ndata:\n  a: \"1\"\n", path, sizeof path);
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "apply", "-f", path), 0);
    CHECK_STR(output, "configmap/settings created\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "apply", "-f", path), 0);
    CHECK_STR(output, "configmap/settings unchanged\n");
    free(output);
    write_file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                          "  namespace: default\ndata:\n  b: \"2\"\n", path, sizeof path);
    CHECK_INT(KUBECTL(&sim, &output, "apply", "-f", path), 0);
    CHECK_STR(output, "configmap/settings configured\n");
    free(output);
    cJSON *cm = get_json(&sim, "configmap", "settings", "default");
    CHECK(at(cm, "data.a") == NULL);  /* dropped from the file: removed (three-way patch) */
    CHECK_STR(text_at(cm, "data.b"), "2");
    const cJSON *annotations = at(cm, "metadata.annotations");
    CHECK(cJSON_GetObjectItemCaseSensitive(annotations,
                                           "kubectl.kubernetes.io/last-applied-configuration"));
    cJSON_Delete(cm);
    CHECK_INT(KUBECTL(&sim, &output, "get", "cm", "settings"), 0);
    CHECK_TABLE(output, "NAME|DATA|AGE\nsettings|1|AGE\n");
    free(output);
    sim_stop(&sim);
}

static void lease_round_trip(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    char path[700];
    write_file("lease.yaml", "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n"
                             "  name: tidb-operator\n  namespace: default\nspec:\n"
                             "  holderIdentity: op-a\n  leaseDurationSeconds: 15\n",
               path, sizeof path);
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "create", "-f", path), 0);
    CHECK_STR(output, "lease.coordination.k8s.io/tidb-operator created\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "lease"), 0);
    CHECK_TABLE(output, "NAME|HOLDER|AGE\ntidb-operator|op-a|AGE\n");
    free(output);

    /* Update: read, change the holder, PUT with the read resourceVersion. */
    cJSON *lease = get_json(&sim, "lease", "tidb-operator", "default");
    REQUIRE(lease);
    const char *version = text_at(lease, "metadata.resourceVersion");
    char first_version[32];
    snprintf(first_version, sizeof first_version, "%s", version ? version : "");
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
    cJSON_ReplaceItemInObjectCaseSensitive(spec, "holderIdentity", cJSON_CreateString("op-b"));
    cJSON_AddNumberToObject(spec, "leaseTransitions", 1);
    char *text = cJSON_Print(lease);
    cJSON_Delete(lease);
    write_file("lease.json", text, path, sizeof path);
    free(text);
    CHECK_INT(KUBECTL(&sim, &output, "replace", "-f", path), 0);
    CHECK_STR(output, "lease.coordination.k8s.io/tidb-operator replaced\n");
    free(output);
    /* The same stale write again: 409. */
    CHECK_INT(KUBECTL(&sim, &output, "replace", "-f", path), 1);
    CHECK(strstr(output, "Error from server (Conflict)") != NULL);
    CHECK(strstr(output, "the object has been modified; please apply your changes to the latest "
                         "version and try again") != NULL);
    free(output);

    lease = get_json(&sim, "leases.coordination.k8s.io", "tidb-operator", "default");
    CHECK_STR(text_at(lease, "spec.holderIdentity"), "op-b");
    CHECK_INT(number_at(lease, "spec.leaseTransitions"), 1);
    CHECK_INT(number_at(lease, "spec.leaseDurationSeconds"), 15);
    CHECK(text_at(lease, "metadata.resourceVersion") &&
          strcmp(text_at(lease, "metadata.resourceVersion"), first_version) != 0);
    cJSON_Delete(lease);
    CHECK_INT(KUBECTL(&sim, &output, "get", "leases"), 0);
    CHECK_TABLE(output, "NAME|HOLDER|AGE\ntidb-operator|op-b|AGE\n");
    free(output);
    sim_stop(&sim);
}

static void wrong_token_is_unauthorized(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    char *output = NULL;
    /* Warm discovery cache: the resource request's 401 Status is what kubectl shows. */
    CHECK_INT(KUBECTL(&sim, &output, "get", "pods"), 0);
    CHECK_STR(output, "No resources found in default namespace.\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "--token=not-the-token", "get", "pods"), 1);
    CHECK_STR(output, "error: You must be logged in to the server (Unauthorized)\n");
    free(output);
    /* Cold cache: discovery fails first, and kubectl words it as it does for a real server. */
    char cold[700];
    snprintf(cold, sizeof cold, "%s/cold-cache", test_temp_dir());
    CHECK_INT(KUBECTL(&sim, &output, "--cache-dir", cold, "--token=not-the-token", "get", "pods"),
              1);
    static const char last[] = "error: You must be logged in to the server (the server has asked "
                               "for the client to provide credentials)\n";
    size_t length = strlen(output);
    CHECK(length >= sizeof last - 1 && strcmp(output + length - (sizeof last - 1), last) == 0);
    free(output);
    sim_stop(&sim);
}

static void not_found_messages(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    if (!setup_cluster(&sim)) {
        sim_stop(&sim);
        return;
    }
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "get", "pod", "nope"), 1);
    CHECK_STR(output, "Error from server (NotFound): pods \"nope\" not found\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "get", "tc", "nope"), 1);
    CHECK_STR(output, "Error from server (NotFound): tidbclusters.pingcap.com \"nope\" not found\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "get", "tc", "nope", "--ignore-not-found"), 0);
    CHECK_STR(output, "");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "ns", "nope"), 1);
    CHECK_STR(output, "Error from server (NotFound): namespaces \"nope\" not found\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "-n", "x", "delete", "configmap", "nope"), 1);
    CHECK_STR(output, "Error from server (NotFound): configmaps \"nope\" not found\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "widgets"), 1);
    CHECK_STR(output, "error: the server doesn't have a resource type \"widgets\"\n");
    free(output);
    sim_stop(&sim);
}

static void pods_table_and_wide(void)
{
    struct sim sim;
    if (!sim_start(&sim)) return;
    char path[700];
    write_file("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n"
                           "    app: web\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
               path, sizeof path);
    char *output = NULL;
    CHECK_INT(KUBECTL(&sim, &output, "apply", "-f", path), 0);
    CHECK_STR(output, "pod/web created\n");
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "pods"), 0);
    char *normal = normalise(output);
    /* Without a scheduler the pod stays Pending; with one it may already be bound. */
    CHECK(normal && (strcmp(normal, "NAME|READY|STATUS|RESTARTS|AGE\nweb|0/1|Pending|0|AGE\n") == 0 ||
                     strncmp(normal, "NAME|READY|STATUS|RESTARTS|AGE\nweb|0/1|", 39) == 0));
    free(normal);
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "po", "-o", "wide"), 0);
    CHECK(strncmp(output, "NAME   READY   STATUS", 21) == 0);
    CHECK(strstr(output, "   IP   ") || strstr(output, "   IP       "));
    CHECK(strstr(output, "NODE") && strstr(output, "NOMINATED NODE   READINESS GATES\n"));
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "pods", "--show-labels", "-l", "app=web"), 0);
    CHECK(strstr(output, "LABELS\n") && strstr(output, "app=web\n"));
    free(output);
    CHECK_INT(KUBECTL(&sim, &output, "get", "pods", "-l", "app=db"), 0);
    CHECK_STR(output, "No resources found in default namespace.\n");
    free(output);
    sim_stop(&sim);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(namespace_created_from_client_dry_run),
        TEST_CASE(crd_and_cluster_get_in_every_format),
        TEST_CASE(shipped_crd_and_example_apply),
        TEST_CASE(patch_merge_json_and_strategic),
        TEST_CASE(scale_custom_resource),
        TEST_CASE(delete_cascades_to_owned_objects),
        TEST_CASE(watch_prints_events_in_order),
        TEST_CASE(wait_for_ready_condition),
        TEST_CASE(apply_twice_is_unchanged),
        TEST_CASE(lease_round_trip),
        TEST_CASE(wrong_token_is_unauthorized),
        TEST_CASE(not_found_messages),
        TEST_CASE(pods_table_and_wide),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
