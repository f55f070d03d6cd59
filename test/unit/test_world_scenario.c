/*
 * The scripted scenario of issue 4, with no operator at all: kubectl (the
 * real 1.32) creates the pods of a small TiDB cluster by hand in the kubesim
 * program's default world, and the test checks what the simulated machines
 * and the simulated PD make of them, then of a failed and recovered node.
 *
 *   world_node_failure_and_recovery
 *     3 PD, 3 TiKV and 1 TiDB pods (hostname/subdomain, instance/component
 *     labels, small requests, required anti-affinity per component so that
 *     one node failure takes at most one PD) run on nodes; through the proxy
 *     PD has 3 members, a leader, all healthy, 3 stores Up, and TiDB's
 *     status port answers. PD's max-store-down-time is set to 60s through
 *     POST /pd/api/v1/config. The node of basic-tikv-0 fails: its Ready
 *     condition goes Unknown with the unreachable taints, the pod turns
 *     Ready=False (still Running), PD reports the store Disconnected, then
 *     Down, and TiKV's status port no longer answers. The node recovers:
 *     Ready True, taints gone, the pod Ready again, the store Up.
 *
 *   world_unschedulable_pod_and_missing_storage_class
 *     A pod requesting more cpu than any node has stays Pending with
 *     PodScheduled=False/Unschedulable and the scheduler's FitError text; a
 *     PVC of a class that does not exist stays Pending with a
 *     ProvisioningFailed event naming the class.
 *
 * Only end state is asserted (objects through kubectl -o json, PD's
 * answers through the proxy); every wait is bounded and says what it was
 * still waiting for. kubesim runs at --speed 20 (world and PD timers: the
 * 40 s node grace period is 2 s, PD's 20 s disconnect is 1 s).
 *
 * Skips (with the reason) when kubectl or KUBESIM_BIN is missing, and under
 * valgrind (TEST_UNDER_VALGRIND): the cases run child processes against
 * real time, which valgrind slows beyond the timeouts.
 */
#include "test/support/process.h"
#include "test/support/test.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPEED "20"
#define START_TIMEOUT_MS 10000
#define KUBECTL_TIMEOUT_MS 20000
#define HTTP_TIMEOUT_MS 5000
#define POLL_MS 50
#define MAX_ARGS 32

#define CLUSTER "basic"
#define NAMESPACE "default"
#define PD_URL "http://" CLUSTER "-pd." NAMESPACE ":2379"

struct sim {
    struct child child;
    char kubeconfig[600];
    char cache[600];
    int admin_port;
    int proxy_port;
    bool running;
};

static char kubectl_path[600];

/* ---- small utilities ---- */

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool under_valgrind(void)
{
    const char *value = getenv("TEST_UNDER_VALGRIND");
    return value && *value;
}

/* $KUBECTL, else kubectl on $PATH. */
static bool locate_kubectl(void)
{
    const char *forced = getenv("KUBECTL");
    if (forced && *forced) {
        snprintf(kubectl_path, sizeof kubectl_path, "%s", forced);
        return access(kubectl_path, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(kubectl_path, sizeof kubectl_path, "%s/kubectl", dir);
        if (access(kubectl_path, X_OK) == 0) return true;
    }
    kubectl_path[0] = '\0';
    return false;
}

/* Item at a dotted path ("status.conditions"); array indexes are numbers. */
static const cJSON *json_path(const cJSON *tree, const char *dotted)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", dotted);
    char *save = NULL;
    const cJSON *node = tree;
    for (char *key = strtok_r(copy, ".", &save); key && node; key = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(node)) node = cJSON_GetArrayItem(node, atoi(key));
        else node = cJSON_GetObjectItemCaseSensitive(node, key);
    }
    return node;
}

static const char *json_text(const cJSON *tree, const char *dotted)
{
    const cJSON *item = json_path(tree, dotted);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The condition of `type` in an object's status.conditions, or NULL. */
static const cJSON *condition_of(const cJSON *object, const char *type)
{
    const cJSON *condition;
    cJSON_ArrayForEach(condition, json_path(object, "status.conditions"))
        if (same(json_text(condition, "type"), type)) return condition;
    return NULL;
}

static const char *condition_field(const cJSON *object, const char *type, const char *field)
{
    const cJSON *condition = condition_of(object, type);
    return condition ? json_text(condition, field) : NULL;
}

/* ---- kubesim ---- */

static int port_after(const char *text, const char *marker)
{
    const char *at = text ? strstr(text, marker) : NULL;
    return at ? atoi(at + strlen(marker)) : 0;
}

/* Starts kubesim (default world, proxy, admin) and waits for its ready line.
 * False after a skip or a recorded failure. */
static bool sim_start(struct sim *sim)
{
    memset(sim, 0, sizeof *sim);
    if (under_valgrind()) {
        test_skip("runs kubesim and kubectl as child processes against real time "
                  "(TEST_UNDER_VALGRIND is set)");
        return false;
    }
    const char *binary = binary_under_test("KUBESIM_BIN");
    if (!binary || access(binary, X_OK) != 0) {
        test_skip("KUBESIM_BIN is not set or not executable (run through zig build test)");
        return false;
    }
    if (!locate_kubectl()) {
        test_skip("kubectl is not installed (not on PATH, KUBECTL unset)");
        return false;
    }
    const char *dir = test_temp_dir();
    snprintf(sim->kubeconfig, sizeof sim->kubeconfig, "%s/kubeconfig", dir);
    snprintf(sim->cache, sizeof sim->cache, "%s/kubectl-cache", dir);
    char *argv[] = { (char *)binary, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                     "--proxy-listen", "127.0.0.1:0", "--kubeconfig-out", sim->kubeconfig,
                     "--world", "default", "--speed", SPEED, "--log-level", "warn", NULL };
    if (!child_start(&sim->child, argv, NULL)) {
        test_fail(__FILE__, __LINE__, "cannot start %s", binary);
        return false;
    }
    sim->running = true;
    for (long long deadline = now_ms() + START_TIMEOUT_MS; now_ms() < deadline;) {
        char *output = child_output(&sim->child);
        if (output && strstr(output, " kubeconfig=") && access(sim->kubeconfig, R_OK) == 0) {
            sim->admin_port = port_after(output, " admin=http://127.0.0.1:");
            sim->proxy_port = port_after(output, " proxy=http://127.0.0.1:");
            bool ok = sim->admin_port > 0 && sim->proxy_port > 0;
            if (!ok) test_fail(__FILE__, __LINE__, "no admin or proxy port in: %s", output);
            free(output);
            return ok;
        }
        free(output);
        int code;
        if (child_wait(&sim->child, 0, &code)) {
            sim->running = false;
            char *log = child_output(&sim->child);
            test_fail(__FILE__, __LINE__, "kubesim exited with %d: %s", code, log);
            free(log);
            return false;
        }
        sleep_ms(20);
    }
    test_fail(__FILE__, __LINE__, "kubesim printed no ready line within %d ms", START_TIMEOUT_MS);
    return false;
}

static void sim_stop(struct sim *sim)
{
    if (!sim->running) return;
    if (test_failed()) {
        char *log = child_output(&sim->child);
        size_t length = log ? strlen(log) : 0;
        fprintf(stderr, "  kubesim output (tail):\n%s\n", log ? log + (length > 3000 ? length - 3000 : 0) : "");
        free(log);
    }
    child_kill(&sim->child);
    sim->running = false;
}

/* ---- kubectl ---- */

/* Runs kubectl with its own kubeconfig and cache dir plus the NULL-ended
 * arguments; the exit code, and the output (stdout+stderr) in *output. */
static int kubectl_v(const struct sim *sim, char **output, ...)
{
    char *argv[MAX_ARGS];
    size_t count = 0;
    argv[count++] = kubectl_path;
    argv[count++] = "--kubeconfig";
    argv[count++] = (char *)sim->kubeconfig;
    argv[count++] = "--cache-dir";
    argv[count++] = (char *)sim->cache;
    va_list args;
    va_start(args, output);
    for (const char *arg = va_arg(args, const char *); arg && count < MAX_ARGS - 1;
         arg = va_arg(args, const char *))
        argv[count++] = (char *)arg;
    va_end(args);
    argv[count] = NULL;
    char *text = NULL;
    int code = command_run(argv, KUBECTL_TIMEOUT_MS, &text);
    if (output) *output = text ? text : strdup("");
    else free(text);
    return code;
}
#define KUBECTL(sim, output, ...) kubectl_v(sim, output, __VA_ARGS__, (const char *)NULL)

/* `kubectl get <what> -o json` (what: "pod/x", "nodes", ...), parsed; NULL
 * (with the output in `why`) when kubectl fails. */
static cJSON *kubectl_json(const struct sim *sim, const char *what, char *why, size_t why_size)
{
    char *output = NULL;
    int code = KUBECTL(sim, &output, "get", what, "-n", NAMESPACE, "-o", "json");
    cJSON *tree = code == 0 ? cJSON_Parse(output) : NULL;
    if (!tree) snprintf(why, why_size, "kubectl get %s: exit %d: %.300s", what, code, output);
    free(output);
    return tree;
}

static bool write_text(const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", test_temp_dir(), name);
    FILE *file = fopen(path, "w");
    if (!file) return false;
    bool ok = fputs(text, file) >= 0;
    return fclose(file) == 0 && ok;
}

/* kubectl apply -f of `yaml` (written to the temp dir as `name`). */
static bool apply_yaml(const struct sim *sim, const char *name, const char *yaml)
{
    char path[700];
    if (!write_text(name, yaml, path, sizeof path)) {
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
        return false;
    }
    char *output = NULL;
    int code = KUBECTL(sim, &output, "apply", "-f", path);
    if (code != 0) test_fail(__FILE__, __LINE__, "kubectl apply -f %s: exit %d: %s", name, code, output);
    free(output);
    return code == 0;
}

/* ---- HTTP (libcurl): PD/TiDB through the proxy, and the admin listener ---- */

struct buffer {
    char *data;
    size_t length;
};

static size_t on_body(char *chunk, size_t size, size_t count, void *data)
{
    struct buffer *buffer = data;
    size_t bytes = size * count;
    char *grown = realloc(buffer->data, buffer->length + bytes + 1);
    if (!grown) return 0;
    memcpy(grown + buffer->length, chunk, bytes);
    buffer->length += bytes;
    grown[buffer->length] = '\0';
    buffer->data = grown;
    return bytes;
}

/* One request; the HTTP status (-1 when the transfer failed) and the body
 * (malloc'd, "" when empty) in *body. proxy_port 0: no proxy at all. */
static int http_call(int proxy_port, const char *method, const char *url, const char *payload,
                     char **body)
{
    struct buffer buffer = { strdup(""), 0 };
    CURL *curl = curl_easy_init();
    long status = -1;
    if (curl && buffer.data) {
        char proxy[64] = "";
        if (proxy_port > 0) snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", proxy_port);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROXY, proxy); /* "": never a proxy from the environment */
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buffer);
        struct curl_slist *headers = NULL;
        if (payload) {
            headers = curl_slist_append(headers, "Content-Type: application/json");
            curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
        } else if (strcmp(method, "POST") == 0) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        }
        if (curl_easy_perform(curl) == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
    }
    if (curl) curl_easy_cleanup(curl);
    if (body) *body = buffer.data ? buffer.data : strdup("");
    else free(buffer.data);
    return (int)status;
}

/* GET through the proxy, parsed as JSON when the status is 200. */
static cJSON *proxy_json(const struct sim *sim, const char *url, char *why, size_t why_size)
{
    char *body = NULL;
    int status = http_call(sim->proxy_port, "GET", url, NULL, &body);
    cJSON *tree = status == 200 ? cJSON_Parse(body) : NULL;
    if (!tree) snprintf(why, why_size, "GET %s: %d %.300s", url, status, body);
    free(body);
    return tree;
}

/* POST to the admin listener; the status, body in *reply. */
static int admin_post(const struct sim *sim, const char *path, char **reply)
{
    char url[300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", sim->admin_port, path);
    return http_call(0, "POST", url, NULL, reply);
}

/* ---- bounded waits ---- */

/* A probe says whether the state is reached; otherwise it writes why not. */
typedef bool (*probe_fn)(const struct sim *sim, void *data, char *why, size_t why_size);

static bool wait_for(const struct sim *sim, probe_fn probe, void *data, int timeout_ms,
                     const char *what, const char *file, int line)
{
    char why[1024] = "";
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        why[0] = '\0';
        if (probe(sim, data, why, sizeof why)) return true;
        if (now_ms() >= deadline) break;
        sleep_ms(POLL_MS);
    }
    test_fail(file, line, "timed out after %d ms waiting for %s: %s", timeout_ms, what, why);
    return false;
}
#define WAIT_FOR(sim, probe, data, timeout_ms, what) \
    wait_for(sim, probe, data, timeout_ms, what, __FILE__, __LINE__)

/* ---- the cluster's pods ---- */

static const char *const cluster_pods[] = { "basic-pd-0",   "basic-pd-1",   "basic-pd-2",
                                            "basic-tikv-0", "basic-tikv-1", "basic-tikv-2",
                                            "basic-tidb-0" };
#define CLUSTER_POD_COUNT (sizeof cluster_pods / sizeof cluster_pods[0])

static const char *component_of(const char *pod)
{
    return strstr(pod, "-pd-") ? "pd" : strstr(pod, "-tikv-") ? "tikv" : "tidb";
}

/* Appends a printf'd piece to a growing text. */
static void append(char **text, size_t *length, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char **text, size_t *length, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *piece = NULL;
    int n = vasprintf(&piece, format, args);
    va_end(args);
    if (n < 0) return;
    char *grown = realloc(*text, *length + (size_t)n + 1);
    if (grown) {
        memcpy(grown + *length, piece, (size_t)n + 1);
        *length += (size_t)n;
        *text = grown;
    }
    free(piece);
}

static void append_service(char **yaml, size_t *length, const char *name, const char *component,
                           bool headless, int port)
{
    append(yaml, length,
           "---\n"
           "apiVersion: v1\n"
           "kind: Service\n"
           "metadata:\n"
           "  name: %s\n"
           "  labels:\n"
           "    app.kubernetes.io/instance: " CLUSTER "\n"
           "    app.kubernetes.io/component: %s\n"
           "spec:\n"
           "%s"
           "  selector:\n"
           "    app.kubernetes.io/instance: " CLUSTER "\n"
           "    app.kubernetes.io/component: %s\n"
           "  ports:\n"
           "  - name: p%d\n"
           "    port: %d\n",
           name, component, headless ? "  clusterIP: None\n  publishNotReadyAddresses: true\n" : "",
           component, port, port);
}

/* The services (for the hostnames' sake) and the 7 pods. */
static char *cluster_yaml(void)
{
    char *yaml = NULL;
    size_t length = 0;
    append_service(&yaml, &length, CLUSTER "-pd", "pd", false, 2379);
    append_service(&yaml, &length, CLUSTER "-pd-peer", "pd", true, 2380);
    append_service(&yaml, &length, CLUSTER "-tikv-peer", "tikv", true, 20160);
    append_service(&yaml, &length, CLUSTER "-tidb", "tidb", false, 4000);
    append_service(&yaml, &length, CLUSTER "-tidb-peer", "tidb", true, 10080);
    for (size_t i = 0; i < CLUSTER_POD_COUNT; i++) {
        const char *pod = cluster_pods[i];
        const char *component = component_of(pod);
        int port = strcmp(component, "pd") == 0 ? 2379 : strcmp(component, "tikv") == 0 ? 20160 : 4000;
        append(&yaml, &length,
               "---\n"
               "apiVersion: v1\n"
               "kind: Pod\n"
               "metadata:\n"
               "  name: %s\n"
               "  labels:\n"
               "    app.kubernetes.io/name: tidb-cluster\n"
               "    app.kubernetes.io/instance: " CLUSTER "\n"
               "    app.kubernetes.io/component: %s\n"
               "spec:\n"
               "  hostname: %s\n"
               "  subdomain: " CLUSTER "-%s-peer\n"
               "  affinity:\n"
               "    podAntiAffinity:\n"
               "      requiredDuringSchedulingIgnoredDuringExecution:\n"
               "      - topologyKey: kubernetes.io/hostname\n"
               "        labelSelector:\n"
               "          matchLabels:\n"
               "            app.kubernetes.io/instance: " CLUSTER "\n"
               "            app.kubernetes.io/component: %s\n"
               "  containers:\n"
               "  - name: %s\n"
               "    image: pingcap/%s:v8.5.1\n"
               "    ports:\n"
               "    - containerPort: %d\n"
               "    resources:\n"
               "      requests:\n"
               "        cpu: 100m\n"
               "        memory: 128Mi\n",
               pod, component, pod, component, component, component, component, port);
    }
    return yaml;
}

/* Every cluster pod Running, Ready and on a node; node names into data. */
static bool probe_pods_ready(const struct sim *sim, void *data, char *why, size_t why_size)
{
    char (*nodes)[128] = data;
    cJSON *list = kubectl_json(sim, "pods", why, why_size);
    if (!list) return false;
    bool all = true;
    for (size_t i = 0; i < CLUSTER_POD_COUNT && all; i++) {
        const cJSON *found = NULL, *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items"))
            if (same(json_text(item, "metadata.name"), cluster_pods[i])) found = item;
        const char *phase = found ? json_text(found, "status.phase") : NULL;
        const char *node = found ? json_text(found, "spec.nodeName") : NULL;
        const char *ready = found ? condition_field(found, "Ready", "status") : NULL;
        if (!same(phase, "Running") || !node || !same(ready, "True")) {
            snprintf(why, why_size, "pod %s: phase %s, node %s, Ready %s", cluster_pods[i],
                     phase ? phase : "-", node ? node : "-", ready ? ready : "-");
            all = false;
        } else {
            snprintf(nodes[i], 128, "%s", node);
        }
    }
    cJSON_Delete(list);
    return all;
}

/* ---- PD through the proxy ---- */

struct pd_view {
    int members;
    bool leader;
    int healthy;
    int stores;
    int up;
};

/* 3 members, a leader, every member healthy. */
static bool probe_pd_members(const struct sim *sim, void *data, char *why, size_t why_size)
{
    struct pd_view *view = data;
    memset(view, 0, sizeof *view);
    cJSON *members = proxy_json(sim, PD_URL "/pd/api/v1/members", why, why_size);
    if (!members) return false;
    view->members = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(members, "members"));
    view->leader = json_text(members, "leader.name") != NULL;
    cJSON_Delete(members);
    cJSON *health = proxy_json(sim, PD_URL "/pd/api/v1/health", why, why_size);
    if (!health) return false;
    const cJSON *item;
    cJSON_ArrayForEach(item, health)
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "health"))) view->healthy++;
    int entries = cJSON_GetArraySize(health);
    cJSON_Delete(health);
    snprintf(why, why_size, "%d members, leader %s, %d of %d healthy", view->members,
             view->leader ? "yes" : "no", view->healthy, entries);
    return view->members == 3 && view->leader && view->healthy == 3 && entries == 3;
}

/* The store of a TiKV pod in /stores: state_name and id. */
struct store_probe {
    const char *pod;
    const char *want;      /* state_name */
    int others_up;         /* 0: not checked; else how many other stores must be Up */
    long long id;
    char state[32];
    int count;
};

static bool probe_store_state(const struct sim *sim, void *data, char *why, size_t why_size)
{
    struct store_probe *probe = data;
    cJSON *stores = proxy_json(sim, PD_URL "/pd/api/v1/stores", why, why_size);
    if (!stores) return false;
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s.%s-tikv-peer.%s", probe->pod, CLUSTER, NAMESPACE);
    probe->state[0] = '\0';
    probe->count = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(stores, "stores"));
    int others_up = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(stores, "stores")) {
        const char *address = json_text(item, "store.address");
        const char *state = json_text(item, "store.state_name");
        const cJSON *id = json_path(item, "store.id");
        if (address && strncmp(address, prefix, strlen(prefix)) == 0) {
            snprintf(probe->state, sizeof probe->state, "%s", state ? state : "?");
            probe->id = cJSON_IsNumber(id) ? (long long)id->valuedouble : -1;
        } else if (same(state, "Up")) {
            others_up++;
        }
    }
    cJSON_Delete(stores);
    snprintf(why, why_size, "store of %s is \"%s\" (want %s); %d stores, %d others Up",
             probe->pod, probe->state, probe->want, probe->count, others_up);
    return same(probe->state, probe->want) && (!probe->others_up || others_up == probe->others_up);
}

/* ---- nodes and one pod ---- */

struct node_probe {
    const char *node;
    const char *ready;     /* the Ready condition's status wanted */
    bool tainted;          /* the unreachable taints wanted */
};

static bool probe_node(const struct sim *sim, void *data, char *why, size_t why_size)
{
    struct node_probe *probe = data;
    char what[200];
    snprintf(what, sizeof what, "node/%s", probe->node);
    cJSON *node = kubectl_json(sim, what, why, why_size);
    if (!node) return false;
    const char *ready = condition_field(node, "Ready", "status");
    int unreachable = 0;
    bool no_execute = false, no_schedule = false;
    const cJSON *taint;
    cJSON_ArrayForEach(taint, json_path(node, "spec.taints")) {
        if (!same(json_text(taint, "key"), "node.kubernetes.io/unreachable")) continue;
        unreachable++;
        if (same(json_text(taint, "effect"), "NoExecute")) no_execute = true;
        if (same(json_text(taint, "effect"), "NoSchedule")) no_schedule = true;
    }
    snprintf(why, why_size, "node %s: Ready %s, %d unreachable taints", probe->node,
             ready ? ready : "-", unreachable);
    bool taints_ok = probe->tainted ? unreachable == 2 && no_execute && no_schedule
                                    : unreachable == 0;
    bool ok = same(ready, probe->ready) && taints_ok;
    cJSON_Delete(node);
    return ok;
}

struct pod_probe {
    const char *pod;
    const char *ready;     /* the Ready condition's status wanted */
};

static bool probe_pod_ready(const struct sim *sim, void *data, char *why, size_t why_size)
{
    struct pod_probe *probe = data;
    char what[200];
    snprintf(what, sizeof what, "pod/%s", probe->pod);
    cJSON *pod = kubectl_json(sim, what, why, why_size);
    if (!pod) return false;
    const char *phase = json_text(pod, "status.phase");
    const char *ready = condition_field(pod, "Ready", "status");
    snprintf(why, why_size, "pod %s: phase %s, Ready %s", probe->pod, phase ? phase : "-",
             ready ? ready : "-");
    bool ok = same(phase, "Running") && same(ready, probe->ready);
    cJSON_Delete(pod);
    return ok;
}

/* ---- case 1 ---- */

struct gone_probe {
    const char *pod;
};

static bool probe_pod_gone(const struct sim *sim, void *data, char *why, size_t why_size)
{
    const struct gone_probe *probe = data;
    char *output = NULL;
    int code = KUBECTL(sim, &output, "get", "pod", probe->pod, "-n", NAMESPACE);
    bool gone = code == 1 && output && strstr(output, "NotFound") != NULL;
    snprintf(why, why_size, "kubectl get pod %s: %d %.200s", probe->pod, code, output ? output : "");
    free(output);
    return gone;
}

static void scenario_body(struct sim *sim)
{
    char *yaml = cluster_yaml();
    REQUIRE(yaml);
    bool applied = apply_yaml(sim, "cluster.yaml", yaml);
    free(yaml);
    REQUIRE(applied);

    /* 1. every pod Running and Ready on a node; one PD and one TiKV per node */
    char nodes[CLUSTER_POD_COUNT][128];
    memset(nodes, 0, sizeof nodes);
    REQUIRE(WAIT_FOR(sim, probe_pods_ready, nodes, 15000, "all 7 pods Running and Ready"));
    for (size_t i = 0; i < CLUSTER_POD_COUNT; i++)
        for (size_t j = i + 1; j < CLUSTER_POD_COUNT; j++)
            if (same(component_of(cluster_pods[i]), component_of(cluster_pods[j])) &&
                same(nodes[i], nodes[j]))
                test_fail(__FILE__, __LINE__, "%s and %s share node %s despite anti-affinity",
                          cluster_pods[i], cluster_pods[j], nodes[i]);
    const char *tikv_node = nodes[3];
    printf("  basic-tikv-0 runs on %s\n", tikv_node);

    /* 2. PD: members, leader, health, stores; TiDB status */
    struct pd_view view;
    CHECK(WAIT_FOR(sim, probe_pd_members, &view, 10000, "3 healthy PD members with a leader"));
    const char *tikv_names[] = { "basic-tikv-0", "basic-tikv-1", "basic-tikv-2" };
    long long store_ids[3] = { 0 };
    for (int i = 0; i < 3; i++) {
        struct store_probe probe = { .pod = tikv_names[i], .want = "Up" };
        CHECK(WAIT_FOR(sim, probe_store_state, &probe, 10000, "the TiKV store Up"));
        CHECK_INT(probe.count, 3);
        store_ids[i] = probe.id;
        CHECK(probe.id > 0);
    }
    CHECK(store_ids[0] != store_ids[1] && store_ids[1] != store_ids[2] && store_ids[0] != store_ids[2]);

    char why[512];
    const char *tidb_urls[] = { "http://basic-tidb-0.basic-tidb-peer.default:10080/status",
                                "http://basic-tidb.default:10080/status",
                                "http://basic-tidb.default.svc.cluster.local:10080/status" };
    for (size_t i = 0; i < sizeof tidb_urls / sizeof tidb_urls[0]; i++) {
        cJSON *status = proxy_json(sim, tidb_urls[i], why, sizeof why);
        if (!status) {
            test_fail(__FILE__, __LINE__, "TiDB status: %s", why);
            continue;
        }
        const char *version = json_text(status, "version");
        CHECK(version && strstr(version, "v8.5.1") != NULL);
        CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(status, "connections")));
        cJSON_Delete(status);
    }
    /* TiKV's status port answers while it runs. */
    char *body = NULL;
    int code = http_call(sim->proxy_port, "GET",
                         "http://basic-tikv-0.basic-tikv-peer.default:20180/status", NULL, &body);
    CHECK_INT(code, 200);
    free(body);

    /* PD's max-store-down-time (30m by default) shortened to 60 s of PD
     * time (3 s real at speed 20) through PD's own config API. */
    body = NULL;
    code = http_call(sim->proxy_port, "POST", PD_URL "/pd/api/v1/config",
                     "{\"max-store-down-time\":\"60s\"}", &body);
    CHECK_INT(code, 200);
    CHECK_STR(body, "\"The config is updated.\"\n");
    free(body);
    cJSON *schedule = proxy_json(sim, PD_URL "/pd/api/v1/config/schedule", why, sizeof why);
    if (!schedule) test_fail(__FILE__, __LINE__, "config/schedule: %s", why);
    CHECK_STR(json_text(schedule, "max-store-down-time"), "1m0s");
    cJSON_Delete(schedule);

    /* 3. the node of basic-tikv-0 fails */
    char path[300];
    snprintf(path, sizeof path, "/world/nodes/%s/fail", tikv_node);
    char *reply = NULL;
    code = admin_post(sim, path, &reply);
    CHECK_INT(code, 200);
    CHECK_STR(reply, "{\"ok\":true}\n");
    free(reply);

    struct node_probe down = { tikv_node, "Unknown", true };
    CHECK(WAIT_FOR(sim, probe_node, &down, 15000, "the failed node Ready=Unknown and tainted"));
    struct pod_probe unready = { "basic-tikv-0", "False" };
    CHECK(WAIT_FOR(sim, probe_pod_ready, &unready, 10000, "basic-tikv-0 Ready=False"));
    struct store_probe disconnected = { .pod = "basic-tikv-0", .want = "Disconnected", .others_up = 2 };
    CHECK(WAIT_FOR(sim, probe_store_state, &disconnected, 10000, "the store Disconnected"));
    struct store_probe store_down = { .pod = "basic-tikv-0", .want = "Down", .others_up = 2 };
    CHECK(WAIT_FOR(sim, probe_store_state, &store_down, 10000, "the store Down"));
    CHECK(store_down.id == store_ids[0]);
    /* Its status port is gone; PD still has a leader among the others. */
    body = NULL;
    code = http_call(sim->proxy_port, "GET",
                     "http://basic-tikv-0.basic-tikv-peer.default:20180/status", NULL, &body);
    CHECK_INT(code, 502);
    CHECK(body && strstr(body, "connection refused") != NULL);
    free(body);
    cJSON *members = proxy_json(sim, PD_URL "/pd/api/v1/members", why, sizeof why);
    if (!members) test_fail(__FILE__, __LINE__, "members after the failure: %s", why);
    CHECK(json_text(members, "leader.name") != NULL);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(members, "members")), 3);
    cJSON_Delete(members);
    /* The pod stays bound to the failed node (no eviction here). */
    cJSON *pod = kubectl_json(sim, "pod/basic-tikv-0", why, sizeof why);
    CHECK_STR(json_text(pod, "spec.nodeName"), tikv_node);
    cJSON_Delete(pod);

    /* 4. the node recovers */
    snprintf(path, sizeof path, "/world/nodes/%s/recover", tikv_node);
    reply = NULL;
    code = admin_post(sim, path, &reply);
    CHECK_INT(code, 200);
    CHECK_STR(reply, "{\"ok\":true}\n");
    free(reply);
    struct node_probe up = { tikv_node, "True", false };
    CHECK(WAIT_FOR(sim, probe_node, &up, 10000, "the node Ready=True without taints"));
    struct pod_probe ready = { "basic-tikv-0", "True" };
    CHECK(WAIT_FOR(sim, probe_pod_ready, &ready, 10000, "basic-tikv-0 Ready=True"));
    struct store_probe store_up = { .pod = "basic-tikv-0", .want = "Up", .others_up = 2 };
    CHECK(WAIT_FOR(sim, probe_store_state, &store_up, 10000, "the store Up again"));
    CHECK(store_up.id == store_ids[0]);
    CHECK_INT(store_up.count, 3);
    CHECK(WAIT_FOR(sim, probe_pd_members, &view, 10000, "3 healthy PD members with a leader"));
    body = NULL;
    code = http_call(sim->proxy_port, "GET",
                     "http://basic-tikv-0.basic-tikv-peer.default:20180/status", NULL, &body);
    CHECK_INT(code, 200);
    free(body);

    /* 5. pods deleted the way users delete them: gracefully (Terminating
     * until the kubelet stopped them), or at once with --force. */
    char *output = NULL;
    /* A finalizer holds the pod in Terminating for as long as kubectl needs
     * to look (its grace period is 100 ms real here, shorter than starting
     * kubectl on a loaded machine); removing it lets the pod go. */
    CHECK_INT(KUBECTL(sim, &output, "patch", "pod", "basic-tidb-0", "-n", NAMESPACE, "--type", "merge", "-p",
                      "{\"metadata\":{\"finalizers\":[\"test.tidb.pingcap.com/hold\"]}}"),
              0);
    free(output);
    CHECK_INT(KUBECTL(sim, &output, "delete", "pod", "basic-tidb-0", "-n", NAMESPACE, "--wait=false"), 0);
    CHECK(output && strstr(output, "pod \"basic-tidb-0\" deleted") != NULL);
    free(output);
    /* kubectl prints Terminating while the grace period runs and, as for
     * any pod, Completed once the kubelet stopped it (terminal phase) while
     * the finalizer still holds the object; which one depends on how fast
     * kubectl starts here, both say the pod is being deleted. */
    CHECK_INT(KUBECTL(sim, &output, "get", "pod", "basic-tidb-0", "-n", NAMESPACE), 0);
    CHECK(output && (strstr(output, "Terminating") != NULL || strstr(output, "Completed") != NULL));
    free(output);
    CHECK_INT(KUBECTL(sim, &output, "get", "pod", "basic-tidb-0", "-n", NAMESPACE, "-o",
                      "jsonpath={.metadata.deletionTimestamp}"),
              0);
    CHECK(output && strlen(output) >= 20 && output[4] == '-');
    free(output);
    CHECK_INT(KUBECTL(sim, &output, "patch", "pod", "basic-tidb-0", "-n", NAMESPACE, "--type", "json", "-p",
                      "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]"),
              0);
    free(output);
    struct gone_probe gone = { "basic-tidb-0" };
    CHECK(WAIT_FOR(sim, probe_pod_gone, &gone, 10000, "basic-tidb-0 gone after its grace period"));
    CHECK_INT(KUBECTL(sim, &output, "delete", "pod", "basic-pd-2", "-n", NAMESPACE, "--grace-period=0",
                      "--force"), 0);
    CHECK(output && strstr(output, "pod \"basic-pd-2\" force deleted") != NULL);
    free(output);
    CHECK_INT(KUBECTL(sim, &output, "get", "pod", "basic-pd-2", "-n", NAMESPACE), 1);
    CHECK(output && strstr(output, "NotFound") != NULL);
    free(output);
}

static void world_node_failure_and_recovery(void)
{
    struct sim sim;
    if (!sim_start(&sim)) {
        sim_stop(&sim);
        return;
    }
    scenario_body(&sim);
    sim_stop(&sim);
}

/* ---- case 2 ---- */

#define FIT_ERROR "0/6 nodes are available: 6 Insufficient cpu."
#define CLASS_ERROR "storageclass.storage.k8s.io \"nope\" not found"

static bool probe_unschedulable(const struct sim *sim, void *data, char *why, size_t why_size)
{
    (void)data;
    cJSON *pod = kubectl_json(sim, "pod/too-big", why, why_size);
    if (!pod) return false;
    const char *status = condition_field(pod, "PodScheduled", "status");
    const char *reason = condition_field(pod, "PodScheduled", "reason");
    const char *message = condition_field(pod, "PodScheduled", "message");
    const char *phase = json_text(pod, "status.phase");
    snprintf(why, why_size, "phase %s, PodScheduled %s/%s \"%s\"", phase ? phase : "-",
             status ? status : "-", reason ? reason : "-", message ? message : "");
    bool ok = same(phase, "Pending") && same(status, "False") && same(reason, "Unschedulable") &&
              message != NULL;
    cJSON_Delete(pod);
    return ok;
}

/* A Warning event of `reason` about the object named `name`. */
struct event_probe {
    const char *kind;
    const char *name;
    const char *reason;
    char message[512];
};

static bool probe_event(const struct sim *sim, void *data, char *why, size_t why_size)
{
    struct event_probe *probe = data;
    cJSON *list = kubectl_json(sim, "events", why, why_size);
    if (!list) return false;
    bool found = false;
    int count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items")) {
        count++;
        if (!same(json_text(item, "involvedObject.kind"), probe->kind) ||
            !same(json_text(item, "involvedObject.name"), probe->name) ||
            !same(json_text(item, "reason"), probe->reason))
            continue;
        found = true;
        const char *message = json_text(item, "message");
        snprintf(probe->message, sizeof probe->message, "%s", message ? message : "");
        if (!same(json_text(item, "type"), "Warning"))
            test_fail(__FILE__, __LINE__, "event %s is of type %s", probe->reason,
                      json_text(item, "type"));
    }
    snprintf(why, why_size, "no %s event for %s/%s among %d events", probe->reason, probe->kind,
             probe->name, count);
    cJSON_Delete(list);
    return found;
}

static void unschedulable_body(struct sim *sim)
{
    REQUIRE(apply_yaml(sim, "too-big.yaml",
                       "apiVersion: v1\n"
                       "kind: Pod\n"
                       "metadata:\n"
                       "  name: too-big\n"
                       "spec:\n"
                       "  containers:\n"
                       "  - name: main\n"
                       "    image: busybox:1.36\n"
                       "    resources:\n"
                       "      requests:\n"
                       "        cpu: \"100\"\n"
                       "        memory: 128Mi\n"
                       "---\n"
                       "apiVersion: v1\n"
                       "kind: PersistentVolumeClaim\n"
                       "metadata:\n"
                       "  name: orphan-claim\n"
                       "spec:\n"
                       "  storageClassName: nope\n"
                       "  accessModes: [ReadWriteOnce]\n"
                       "  resources:\n"
                       "    requests:\n"
                       "      storage: 1Gi\n"));

    CHECK(WAIT_FOR(sim, probe_unschedulable, NULL, 10000, "too-big PodScheduled=False/Unschedulable"));
    char why[512];
    cJSON *pod = kubectl_json(sim, "pod/too-big", why, sizeof why);
    if (!pod) test_fail(__FILE__, __LINE__, "%s", why);
    CHECK_STR(condition_field(pod, "PodScheduled", "message"), FIT_ERROR);
    CHECK(json_text(pod, "spec.nodeName") == NULL);
    cJSON_Delete(pod);
    struct event_probe scheduling = { "Pod", "too-big", "FailedScheduling", "" };
    CHECK(WAIT_FOR(sim, probe_event, &scheduling, 10000, "a FailedScheduling event"));
    CHECK_STR(scheduling.message, FIT_ERROR);

    struct event_probe provisioning = { "PersistentVolumeClaim", "orphan-claim", "ProvisioningFailed", "" };
    CHECK(WAIT_FOR(sim, probe_event, &provisioning, 10000, "a ProvisioningFailed event"));
    CHECK_STR(provisioning.message, CLASS_ERROR);

    /* Still so after the world's retry period (5 s world time = 250 ms). */
    sleep_ms(600);
    pod = kubectl_json(sim, "pod/too-big", why, sizeof why);
    CHECK_STR(json_text(pod, "status.phase"), "Pending");
    CHECK_STR(condition_field(pod, "PodScheduled", "status"), "False");
    CHECK_STR(condition_field(pod, "PodScheduled", "reason"), "Unschedulable");
    CHECK(json_text(pod, "spec.nodeName") == NULL);
    cJSON_Delete(pod);
    cJSON *claim = kubectl_json(sim, "pvc/orphan-claim", why, sizeof why);
    if (!claim) test_fail(__FILE__, __LINE__, "%s", why);
    CHECK_STR(json_text(claim, "status.phase"), "Pending");
    CHECK(json_text(claim, "spec.volumeName") == NULL);
    cJSON_Delete(claim);
}

static void world_unschedulable_pod_and_missing_storage_class(void)
{
    struct sim sim;
    if (!sim_start(&sim)) {
        sim_stop(&sim);
        return;
    }
    unschedulable_body(&sim);
    sim_stop(&sim);
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const struct test_case cases[] = {
        TEST_CASE(world_node_failure_and_recovery),
        TEST_CASE(world_unschedulable_pod_and_missing_storage_class),
    };
    int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
    curl_global_cleanup();
    return rc;
}
