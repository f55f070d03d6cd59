/*
 * tidb-demo: the README's run command (`./zigw build demo`). Starts kubesim
 * with its simulated world and PD proxy, starts the operator against it,
 * applies the CRD and a TidbCluster (examples/basic/tidb-cluster.yaml or
 * --cluster FILE), prints a progress line whenever the cluster's status
 * changes, then how to look at it; Ctrl-C (or SIGTERM) stops the operator
 * and kubesim cleanly.
 *
 *   tidb-demo --operator=PATH --kubesim=PATH [--cluster FILE] [--speed N]
 *             [--exit-when-ready] [--timeout SECONDS]
 *
 * Exit status: 0 after a stop by signal or (with --exit-when-ready) once
 * Ready; 1 on timeout or when a process dies; 2 for bad arguments.
 */
#include "test/support/cluster_harness.h"
#include "test/support/process.h"
#include "test/support/test.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLL_MS 250

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

struct demo_args {
    const char *operator_bin, *kubesim_bin, *cluster_file;
    double speed;
    bool exit_when_ready;
    int timeout_s;
    const char *upgrade_to;  /* a version to roll to once Ready; NULL: none */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tidb-demo --operator=PATH --kubesim=PATH [flags]\n\n"
            "Runs kubesim (simulated Kubernetes with nodes, volumes and PD) and the operator,\n"
            "applies a TidbCluster and shows it coming up. Ctrl-C stops everything.\n\n"
            "Flags:\n"
            "  --operator PATH      the tidb-operator binary (given by `zig build demo`)\n"
            "  --kubesim PATH       the kubesim binary (given by `zig build demo`)\n"
            "  --cluster FILE       TidbCluster YAML to apply (default examples/basic/tidb-cluster.yaml)\n"
            "  --speed N            simulated world runs N times faster (default 1)\n"
            "  --exit-when-ready    stop everything and exit 0 once the cluster is Ready (CI)\n"
            "  --timeout SECONDS    with --exit-when-ready: give up after this long (default 600)\n"
            "  --upgrade-to VERSION once Ready, set spec.version (a rolling upgrade) and show it;\n"
            "                       with --exit-when-ready, exit once the upgraded cluster is Ready\n"
            "  -h, --help           show this help\n"
            "Run with: ./zigw build demo -- --speed 5 --cluster my-cluster.yaml\n");
}

/* "--name=value" or "--name value". */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
    size_t length = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, length) != 0) return NULL;
    if (arg[length] == '=') return arg + length + 1;
    if (arg[length] == '\0' && *i + 1 < argc) return argv[++*i];
    return NULL;
}

static int parse_args(int argc, char **argv, struct demo_args *args)
{
    *args = (struct demo_args){ .speed = 1, .timeout_s = 600 };
    for (int i = 1; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--exit-when-ready") == 0) {
            args->exit_when_ready = true;
        } else if ((value = flag_value(argc, argv, &i, "--operator"))) {
            args->operator_bin = value;
        } else if ((value = flag_value(argc, argv, &i, "--kubesim"))) {
            args->kubesim_bin = value;
        } else if ((value = flag_value(argc, argv, &i, "--upgrade-to"))) {
            if (!*value || strlen(value) > 64 || strpbrk(value, "\"\\ ")) {
                fprintf(stderr, "tidb-demo: --upgrade-to: expected a version such as v8.5.8, got \"%s\"\n", value);
                return 2;
            }
            args->upgrade_to = value;
        } else if ((value = flag_value(argc, argv, &i, "--cluster"))) {
            args->cluster_file = value;
        } else if ((value = flag_value(argc, argv, &i, "--speed"))) {
            char *end = NULL;
            args->speed = strtod(value, &end);
            if (!end || *end || !(args->speed > 0 && args->speed <= 1000)) {
                fprintf(stderr, "tidb-demo: --speed: expected a number in (0, 1000], got \"%s\"\n", value);
                return 2;
            }
        } else if ((value = flag_value(argc, argv, &i, "--timeout"))) {
            char *end = NULL;
            long seconds = strtol(value, &end, 10);
            if (end && *end == 's') end++;
            if (!end || *end || seconds <= 0 || seconds > 86400) {
                fprintf(stderr, "tidb-demo: --timeout: expected seconds, got \"%s\"\n", value);
                return 2;
            }
            args->timeout_s = (int)seconds;
        } else {
            fprintf(stderr, "tidb-demo: unknown argument \"%s\"\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!args->operator_bin || !args->kubesim_bin) {
        fprintf(stderr, "tidb-demo: --operator and --kubesim are required (./zigw build demo passes them)\n");
        return 2;
    }
    if (access(args->operator_bin, X_OK) != 0 || access(args->kubesim_bin, X_OK) != 0) {
        fprintf(stderr, "tidb-demo: %s or %s is not executable\n", args->operator_bin, args->kubesim_bin);
        return 2;
    }
    return -1; /* go on */
}

/* The TidbCluster of the file: its name and namespace; the YAML text in *text. */
static bool read_cluster(const char *file, char **text, char *name, size_t name_size, char *namespace,
                         size_t namespace_size)
{
    char path[PATH_MAX];
    if (file && realpath(file, path)) file = path;
    else if (file) {
        fprintf(stderr, "tidb-demo: cannot read %s: %s\n", file, strerror(errno));
        return false;
    }
    size_t length = 0;
    *text = e2e_repo_file_read(file ? file : "examples/basic/tidb-cluster.yaml", &length);
    if (!*text) {
        fprintf(stderr, "tidb-demo: cannot read %s\n", file ? file : "examples/basic/tidb-cluster.yaml");
        return false;
    }
    char error[256];
    cJSON *documents = e2e_yaml_to_json(*text, length, error, sizeof error);
    if (!documents) {
        fprintf(stderr, "tidb-demo: %s: %s\n", file ? file : "example", error);
        return false;
    }
    bool found = false;
    const cJSON *document;
    cJSON_ArrayForEach(document, documents) {
        const char *kind = e2e_jpath_str(document, "kind");
        const char *cluster = e2e_jpath_str(document, "metadata.name");
        if (!kind || strcmp(kind, "TidbCluster") != 0 || !cluster) continue;
        const char *ns = e2e_jpath_str(document, "metadata.namespace");
        snprintf(name, name_size, "%s", cluster);
        snprintf(namespace, namespace_size, "%s", ns ? ns : "default");
        found = true;
        break;
    }
    cJSON_Delete(documents);
    if (!found) fprintf(stderr, "tidb-demo: no TidbCluster in %s\n", file ? file : "the example");
    return found;
}

static int number_at(const cJSON *object, const char *path, int fallback)
{
    const cJSON *node = e2e_jpath(object, path);
    return cJSON_IsNumber(node) ? node->valueint : fallback;
}

struct progress {
    char line[512];   /* without the time */
    bool ready;
};

/* One look at the cluster: "PD 3/3  TiKV 1/3  TiDB 0/2  (why)". */
static void look(struct harness *h, const char *namespace, const char *name, struct progress *out)
{
    char path[512];
    snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/%s/tidbclusters/%s", namespace, name);
    int status = 0;
    cJSON *tc = e2e_get(h, path, &status);
    out->ready = false;
    if (!tc) {
        snprintf(out->line, sizeof out->line, "(TidbCluster %s/%s: GET answered %d)", namespace, name, status);
        return;
    }
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?labelSelector=app.kubernetes.io%%2Finstance%%3D%s",
             namespace, name);
    cJSON *pods = e2e_list(h, path);
    static const char *const components[] = { "pd", "tikv", "tidb" };
    static const char *const titles[] = { "PD", "TiKV", "TiDB" };
    char counts[200] = "";
    size_t used = 0;
    bool all = true;
    for (int c = 0; c < 3; c++) {
        char spec_path[64], status_path[64];
        snprintf(spec_path, sizeof spec_path, "spec.%s", components[c]);
        if (!e2e_jpath(tc, spec_path)) continue;
        snprintf(spec_path, sizeof spec_path, "spec.%s.replicas", components[c]);
        snprintf(status_path, sizeof status_path, "status.%s.readyReplicas", components[c]);
        int want = number_at(tc, spec_path, 0);
        int ready = number_at(tc, status_path, pods ? e2e_cluster_count_pods(pods, components[c], true) : 0);
        if (ready != want) all = false;
        used += (size_t)snprintf(counts + used, sizeof counts - used, "%s%s %d/%d", used ? "  " : "",
                                 titles[c], ready, want);
    }
    const cJSON *condition = e2e_tc_condition(tc, "Ready");
    const char *ready_status = e2e_jpath_str(condition, "status");
    const char *message = e2e_jpath_str(condition, "message");
    const char *reason = e2e_jpath_str(condition, "reason");
    const cJSON *generation = e2e_jpath(tc, "metadata.generation");
    const cJSON *observed = e2e_jpath(tc, "status.observedGeneration");
    bool current = cJSON_IsNumber(generation) && cJSON_IsNumber(observed) &&
                   generation->valuedouble == observed->valuedouble;
    out->ready = all && current && ready_status && strcmp(ready_status, "True") == 0;
    /* A scale or upgrade under way says what it does or waits for. */
    static const char *const activities[] = { "Upgrading", "Scaling" };
    const char *activity = NULL;
    for (size_t a = 0; a < 2 && !activity; a++) {
        const cJSON *c = e2e_tc_condition(tc, activities[a]);
        const char *s = e2e_jpath_str(c, "status");
        if (s && strcmp(s, "True") == 0)
            activity = e2e_jpath_str(c, "message");
    }
    if (activity) {
        out->ready = false;
        snprintf(out->line, sizeof out->line, "%s  [%.160s]", counts, activity);
    } else if (out->ready)
        snprintf(out->line, sizeof out->line, "Ready: %s", counts);
    else if (message && *message)
        snprintf(out->line, sizeof out->line, "%s  (%.160s)", counts, message);
    else if (reason && *reason)
        snprintf(out->line, sizeof out->line, "%s  (%s)", counts, reason);
    else
        snprintf(out->line, sizeof out->line, "%s  (waiting for the operator)", counts);
    cJSON_Delete(pods);
    cJSON_Delete(tc);
}

static void print_usage_hints(struct harness *h, struct operator_proc *op, const char *namespace,
                              const char *name)
{
    printf("\nTry it (kubesim is a simulated Kubernetes API server; kubectl works against it):\n"
           "  export KUBECONFIG=%s\n"
           "  kubectl get tc,pods,pvc,svc -n %s\n"
           "  kubectl patch tc %s -n %s --type merge -p '{\"spec\":{\"version\":\"v8.5.8\"}}'   # a rolling upgrade: "
           "progress shows here\n"
           "  curl -s http://%s-pd.%s:2379/pd/api/v1/members --proxy %s   # PD, through kubesim's proxy\n"
           "Operator metrics:  http://127.0.0.1:%d/metrics\n"
           "kubesim admin:     %s  (faults, e.g. curl -X POST %s/world/pods/%s/%s-tikv-0/crash)\n"
           "Logs: kubesim %s\n      operator %s\n"
           "Ctrl-C stops the operator and kubesim.\n\n",
           h->kubeconfig, namespace, name, namespace, name, namespace, h->proxy_url[0] ? h->proxy_url : "(no proxy)",
           op->metrics_port, h->admin_url, h->admin_url, namespace, name, h->sim.output_path,
           op->child.output_path);
    fflush(stdout);
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info; (void)flag; (void)ftw;
    return remove(path);
}

static int stop_everything(struct harness *h, int code)
{
    printf("stopping the operator and kubesim...\n");
    fflush(stdout);
    bool clean = true;
    for (size_t i = 0; i < h->operator_count; i++)
        if (h->operators[i].child.pid > 0 && !harness_operator_term(&h->operators[i], 10000)) clean = false;
    if (h->sim_running && !harness_sim_stop(h, 10000)) clean = false;
    if (!clean) printf("(a process did not stop cleanly; logs kept in %s)\n", h->work_dir);
    else {
        nftw(h->work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        printf("stopped.\n");
    }
    return code;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct demo_args args;
    int rc = parse_args(argc, argv, &args);
    if (rc >= 0) return rc;
    setenv("TIDB_OPERATOR_BIN", args.operator_bin, 1);
    setenv("KUBESIM_BIN", args.kubesim_bin, 1);

    char *yaml = NULL, name[256], namespace[256];
    if (!read_cluster(args.cluster_file, &yaml, name, sizeof name, namespace, sizeof namespace)) return 2;

    static struct harness demo;
    struct harness *h = &demo;
    struct sim_options sim_options = { .speed = args.speed };
    const char *dir = test_temp_dir();
    if (!dir) {
        fprintf(stderr, "tidb-demo: cannot make a temporary directory\n");
        return 1;
    }
    printf("starting kubesim (simulated world at speed %g)...\n", args.speed);
    if (!harness_sim_start(h, args.kubesim_bin, dir, &sim_options)) {
        harness_dump_logs(h, 20);
        return stop_everything(h, 1);
    }
    /* From here on a signal asks for a clean stop (the harness's own hooks
     * only kill -9 on the way out). */
    struct sigaction action = { .sa_handler = on_stop_signal };
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    printf("kubesim: api %s, admin %s, proxy %s\n", h->api_url, h->admin_url,
           h->proxy_url[0] ? h->proxy_url : "(none)");

    if (!harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL)) {
        fprintf(stderr, "tidb-demo: the CRD could not be applied\n");
        free(yaml);
        return stop_everything(h, 1);
    }
    struct operator_options operator_options = { .identity = "tidb-operator-demo", .pd_poll_fast = "1s",
                                                 .pd_poll_slow = "10s" };
    struct operator_proc *op = harness_operator_start_bin(h, args.operator_bin, &operator_options);
    if (!op) {
        fprintf(stderr, "tidb-demo: the operator did not start\n");
        harness_dump_logs(h, 20);
        free(yaml);
        return stop_everything(h, 1);
    }
    printf("operator: metrics http://127.0.0.1:%d/metrics\n", op->metrics_port);
    if (!harness_apply_yaml(h, yaml, namespace)) {
        fprintf(stderr, "tidb-demo: the cluster could not be applied\n");
        free(yaml);
        return stop_everything(h, 1);
    }
    free(yaml);
    printf("applied TidbCluster %s/%s; export KUBECONFIG=%s to watch with kubectl\n", namespace, name,
           h->kubeconfig);

    int64_t start = harness_now_ms();
    struct progress last = { "", false };
    bool announced = false, upgrading = false;
    while (!stop_requested) {
        struct progress now;
        look(h, namespace, name, &now);
        int64_t elapsed = (harness_now_ms() - start) / 1000;
        if (strcmp(now.line, last.line) != 0) {
            printf("[%4llds] %s\n", (long long)elapsed, now.line);
            last = now;
        }
        if (now.ready && args.upgrade_to && !upgrading) {
            upgrading = true;
            char path[512], patch[160];
            snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/%s/tidbclusters/%s", namespace, name);
            snprintf(patch, sizeof patch, "{\"spec\":{\"version\":\"%s\"}}", args.upgrade_to);
            int status = e2e_merge_patch(h, path, patch);
            printf("[%4llds] kubectl patch tc %s --type merge -p '%s'  -> HTTP %d\n", (long long)elapsed, name, patch,
                   status);
            if (status != 200) return stop_everything(h, 1);
            last.line[0] = '\0';
            harness_sleep_ms(POLL_MS);
            continue;
        }
        if (now.ready && !announced && (!args.upgrade_to || upgrading)) {
            announced = true;
            if (args.exit_when_ready) return stop_everything(h, 0);
            print_usage_hints(h, op, namespace, name);
        }
        if (args.exit_when_ready && elapsed >= args.timeout_s) {
            printf("tidb-demo: not Ready after %d s; last: %s\n", args.timeout_s, last.line);
            harness_dump_logs(h, 20);
            return stop_everything(h, 1);
        }
        if (!harness_operator_running(op)) {
            printf("tidb-demo: the operator exited\n");
            harness_dump_logs(h, 20);
            return stop_everything(h, 1);
        }
        int code = 0;
        if (!harness_sim_running(h, &code)) {
            printf("tidb-demo: kubesim exited with %d\n", code);
            harness_dump_logs(h, 20);
            return stop_everything(h, 1);
        }
        harness_sleep_ms(POLL_MS);
    }
    return stop_everything(h, 0);
}
