/*
 * bench_operator: what the operator costs at scale, against kubesim (world
 * on, PD simulator behind its proxy), each figure beside a baseline:
 *
 *   ready      time from the first TidbCluster create to every cluster
 *              Ready=True (read from a list of tidbclusters)
 *                                  vs the world's own minimum for one cluster
 *                                     (start + ready delay of PD, then TiKV,
 *                                     then TiDB, divided by --speed; also
 *                                     shown with PD's leader election)
 *   rss        VmRSS of the operator at steady state, and per cluster
 *                                  vs the same compact caches built in this
 *                                     process (heap growth of 7 informers)
 *   cpu        utime+stime of the operator over a steady window, per minute,
 *              as a fraction of one core (kubesim's beside it)
 *   writes     API writes per steady minute (create/update/patch/delete/
 *              update_status from the operator's /metrics), lease renewals
 *              counted apart                       target 0
 *   no-op      one no-op reconcile: planner_plan on the observed world of a
 *              Ready cluster built from real informer caches and a real PD
 *              snapshot (through the proxy), timed over many iterations;
 *              the whole path (decode + defaults + gather + plan) over every
 *              cluster; the plans must have zero actions
 *                                  vs reconciles counted in the steady window
 *                                     against the CPU used there
 *   fairness   the same bring-up again on a fresh kubesim and operator,
 *              after a bad neighbour (a TidbCluster asking for 100,000 TiKV
 *              replicas, created first and given a head start until it has
 *              12 pods): the others' all-Ready and median create -> Ready
 *                                  vs the first run's (goal of issue 19:
 *                                     within 10 %)
 *
 * Clusters: 3 PD + 3 TiKV + 2 TiDB each (examples/basic with requests of
 * 100m CPU / 128Mi per pod), one namespace each, all created through the API
 * (HTTPS, one keep-alive connection). World: 4 zones x 25 nodes (16 CPU,
 * 64Gi, 110 pods each), no local volumes (PVCs use the default dynamic class).
 *
 * Run (the binaries are taken from zig-out/bin, so build them first; an
 * optimised build measures what users run):
 *
 *   ./zigw build -Doptimize=ReleaseFast && ./zigw build bench_operator
 *
 * Operator flags: --kube-api-qps 1000 --kube-api-burst 2000 --workers 64
 * --pd-poll-fast 2s. The operator's own defaults (qps 50, 4 workers) cannot
 * bring 1,000 clusters up within the bound: ~37 writes per cluster at 50/s is
 * ~750 s of token bucket alone (the run prints that estimate). The ready
 * wait has a deadline; when it passes, N is the number of clusters that made
 * it and every figure says so.
 *
 * Knobs (environment): BENCH_CLUSTERS (default 1000), BENCH_SPEED (5),
 * BENCH_QPS / BENCH_BURST (1000/2000), BENCH_WORKERS (64),
 * BENCH_PD_POLL_FAST (2s), BENCH_STEADY_S (60: the controller resyncs every
 * 60 s, so a shorter window misreads reconciles per minute),
 * BENCH_READY_DEADLINE_S (330), BENCH_NEIGHBOUR (1; 0 skips the fairness
 * run); TIDB_OPERATOR_BIN / KUBESIM_BIN override the binaries.
 *
 * Bounded: every wait has a deadline (whole run < 10 minutes on 2 cores, or
 * about 15 with the fairness run when the clusters come up in time);
 * every process it starts is stopped (SIGTERM, then SIGKILL), also on a
 * fatal signal. Prints figures; asserts nothing about time.
 */
#include "pd/pd_snapshot.h"
#include "reactor/http_client.h"
#include "watchers/kube_credentials.h"
#include "reconcilers/planner/observed.h"
#include "reconcilers/planner/plan.h"
#include "reconcilers/planner/planner.h"
#include "reconcilers/runtime/observe.h"
#include "reconcilers/runtime/validation_memo.h"
#include "reconcilers/api/tidbcluster.h"
#include "test/support/cluster_harness.h"
#include "test/support/process.h"
#include "test/support/test.h"
#include "watchers/cache.h"
#include "watchers/informer.h"
#include "watchers/kube_client.h"
#include "watchers/objects.h"
#include "watchers/string_pool.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define SETTLE_S 15
#define OPERATOR_STOP_MS 10000
#define SIM_STOP_MS 10000
#define INPROC_SYNC_DEADLINE_MS 45000
#define PLAN_BUDGET_S 3.0

/* The world's delays (written into the world config, so the floor is known). */
#define START_DELAY_MS 1000
#define READY_DELAY_MS 500
#define PD_ELECTION_MS 3000 /* pd_model's default election_ms */

struct settings {
    int clusters;
    double speed;
    int qps, burst, workers;
    const char *pd_poll_fast;
    int steady_s;
    int ready_deadline_s;
};

static struct settings settings;

/* How often readiness is listed: every 500 ms, every second above 200 clusters
 * (the list is ~3 KiB per cluster and this process shares the cores). */
static int poll_ms(void) { return settings.clusters > 200 ? 1000 : 500; }

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int env_int(const char *name, int fallback)
{
    const char *text = getenv(name);
    return text && *text ? atoi(text) : fallback;
}

static double env_double(const char *name, double fallback)
{
    const char *text = getenv(name);
    return text && *text ? atof(text) : fallback;
}

static const char *env_text(const char *name, const char *fallback)
{
    const char *text = getenv(name);
    return text && *text ? text : fallback;
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

static double ready_count_or_one(int count) { return count > 0 ? (double)count : 1.0; }

static double heap_mib(void)
{
    struct mallinfo2 info = mallinfo2();
    return (double)(info.uordblks + info.hblkhd) / (1024.0 * 1024.0);
}

/* ---- processes: what we started, stopped on every way out ---- */

static struct harness sim;
static struct child operator_child;
static char work_dir[512];

static void kill_children(void)
{
    if (operator_child.pid > 0) {
        kill(operator_child.pid, SIGKILL);
        waitpid(operator_child.pid, NULL, 0);
        operator_child.pid = 0;
    }
    if (sim.sim_running && sim.sim.pid > 0) {
        kill(sim.sim.pid, SIGKILL);
        waitpid(sim.sim.pid, NULL, 0);
        sim.sim.pid = 0;
        sim.sim_running = false;
    }
}

static void on_fatal(int signal_number)
{
    kill_children();
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void install_exit_hooks(void)
{
    atexit(kill_children);
    signal(SIGINT, on_fatal);
    signal(SIGTERM, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGSEGV, on_fatal);
    signal(SIGPIPE, SIG_IGN);
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info; (void)flag; (void)ftw;
    return remove(path);
}

/* A binary from the environment, else <repo>/zig-out/bin/<name>, else ./zig-out/bin/<name>. */
static bool find_binary(const char *variable, const char *name, char *out, size_t size)
{
    const char *from_env = binary_under_test(variable);
    if (from_env) {
        snprintf(out, size, "%s", from_env);
        return access(out, X_OK) == 0;
    }
    char relative[128];
    snprintf(relative, sizeof relative, "zig-out/bin/%s", name);
    if (e2e_repo_path(relative, out, size) && access(out, X_OK) == 0) return true;
    snprintf(out, size, "%s", relative);
    return access(out, X_OK) == 0;
}

/* ---- /proc ---- */

struct proc_sample {
    double cpu_s;     /* utime + stime */
    double rss_mib;   /* VmRSS */
    double hwm_mib;   /* VmHWM */
};

static bool proc_sample(pid_t pid, struct proc_sample *out)
{
    memset(out, 0, sizeof *out);
    char path[64], buffer[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file) return false;
    size_t n = fread(buffer, 1, sizeof buffer - 1, file);
    fclose(file);
    buffer[n] = '\0';
    /* Fields after "(comm)": state is field 3, utime 14, stime 15. */
    const char *p = strrchr(buffer, ')');
    if (!p) return false;
    unsigned long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return false;
    out->cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    file = fopen(path, "r");
    if (!file) return false;
    char line[256];
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, "VmRSS:", 6) == 0) out->rss_mib = atof(line + 6) / 1024.0;
        if (strncmp(line, "VmHWM:", 6) == 0) out->hwm_mib = atof(line + 6) / 1024.0;
    }
    fclose(file);
    return true;
}

/* ---- the API: one blocking libcurl handle, kept alive ---- */

static CURL *api_curl;

static size_t collect(char *data, size_t size, size_t count, void *user)
{
    fwrite(data, size, count, (FILE *)user);
    return count;
}

static int api_request(const char *method, const char *path, const char *body, char **response)
{
    if (response) *response = NULL;
    if (!api_curl) {
        api_curl = curl_easy_init();
        if (!api_curl) return -1;
    }
    CURL *curl = api_curl;
    char url[1024], authorization[400];
    snprintf(url, sizeof url, "%s%s", sim.api_url, path);
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", sim.token);
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
    char *data = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&data, &size);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L); /* the simulator's own CA */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(curl);
    long status = -1;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    fclose(out);
    curl_slist_free_all(headers);
    if (response) *response = data;
    else free(data);
    return (int)status;
}

/* ---- the operator's /metrics ---- */

static int operator_metrics_port;

static char *metrics_fetch(void)
{
    char *body = NULL;
    int status = http_get_blocking(operator_metrics_port, "/metrics", &body);
    if (status != 200) {
        free(body);
        return NULL;
    }
    return body;
}

/* The value of label `name` in a `{a="b",c="d"}` text, into out. */
static bool label_value(const char *labels, const char *name, char *out, size_t size)
{
    char needle[64];
    snprintf(needle, sizeof needle, "%s=\"", name);
    for (const char *p = labels; (p = strstr(p, needle)) != NULL; p++) {
        if (p != labels && p[-1] != '{' && p[-1] != ',') continue;
        p += strlen(needle);
        size_t n = strcspn(p, "\"");
        if (n >= size) return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

typedef bool (*series_filter)(const char *labels);

/* Sum of the samples of `family` whose labels pass `filter` (NULL: all). */
static double metric_sum(const char *text, const char *family, series_filter filter)
{
    double sum = 0;
    size_t length = strlen(family);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, family, length) == 0 && (line[length] == '{' || line[length] == ' ')) {
            char labels[512] = "";
            const char *value = line + length;
            if (*value == '{') {
                const char *close = strchr(value, '}');
                if (close && (size_t)(close - value + 1) < sizeof labels) {
                    memcpy(labels, value, (size_t)(close - value + 1));
                    labels[close - value + 1] = '\0';
                    value = close + 1;
                }
            }
            if (!filter || filter(labels)) sum += atof(value);
        }
        line = end ? end + 1 : NULL;
    }
    return sum;
}

static bool is_write_verb(const char *verb)
{
    static const char *const verbs[] = { "create", "update", "update_status", "patch",
                                         "patch_status", "delete" };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verb, verbs[i]) == 0) return true;
    return false;
}

static bool write_not_lease(const char *labels)
{
    char verb[64], resource[64];
    return label_value(labels, "verb", verb, sizeof verb) && is_write_verb(verb) &&
           label_value(labels, "resource", resource, sizeof resource) &&
           strcmp(resource, "leases") != 0;
}

static bool lease_write(const char *labels)
{
    char verb[64], resource[64];
    return label_value(labels, "verb", verb, sizeof verb) && is_write_verb(verb) &&
           label_value(labels, "resource", resource, sizeof resource) &&
           strcmp(resource, "leases") == 0;
}

static bool write_verb(const char *labels)
{
    char verb[64];
    return label_value(labels, "verb", verb, sizeof verb) && is_write_verb(verb);
}

static bool timeout_code(const char *labels)
{
    char code[32];
    return label_value(labels, "code", code, sizeof code) && strcmp(code, "timeout") == 0;
}

static double delta(const char *before, const char *after, const char *family, series_filter filter)
{
    return metric_sum(after, family, filter) - metric_sum(before, family, filter);
}

static bool event_write(const char *labels)
{
    char resource[64];
    return write_not_lease(labels) && label_value(labels, "resource", resource, sizeof resource) &&
           strcmp(resource, "events") == 0;
}

/* Prints every write series (verb/resource, leases too) whose count moved
 * between two /metrics texts, scaled by `scale`. */
static void print_write_deltas(const char *before, const char *after, double scale, const char *unit)
{
    static const char family[] = "kube_client_requests_total{";
    bool any = false;
    for (const char *line = after; line && *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, family, sizeof family - 1) == 0) {
            const char *close = strchr(line, '}');
            char labels[512], verb[64], resource[64], code[16];
            if (close && (size_t)(close - line) < sizeof labels) {
                size_t n = (size_t)(close - line + 1);
                memcpy(labels, line, n);
                labels[n] = '\0';
                const char *brace = strchr(labels, '{');
                if (label_value(brace, "verb", verb, sizeof verb) && is_write_verb(verb) &&
                    label_value(brace, "resource", resource, sizeof resource) &&
                    label_value(brace, "code", code, sizeof code)) {
                    double now = atof(close + 1), then = 0;
                    const char *old = before ? strstr(before, labels) : NULL;
                    if (old) then = atof(old + n);
                    if (now - then > 0) {
                        printf("      %-14s %-24s code %-4s %10.1f %s\n", verb, resource, code,
                               (now - then) * scale, unit);
                        any = true;
                    }
                }
            }
        }
        line = end ? end + 1 : NULL;
    }
    if (!any) printf("      (none)\n");
}

/* ---- the objects ---- */

static void add_requests(cJSON *spec, const char *component)
{
    cJSON *part = cJSON_GetObjectItemCaseSensitive(spec, component);
    if (!part) return;
    cJSON *requests = cJSON_GetObjectItemCaseSensitive(part, "requests");
    if (!requests) requests = cJSON_AddObjectToObject(part, "requests");
    cJSON_DeleteItemFromObjectCaseSensitive(requests, "cpu");
    cJSON_DeleteItemFromObjectCaseSensitive(requests, "memory");
    cJSON_AddStringToObject(requests, "cpu", "100m");
    cJSON_AddStringToObject(requests, "memory", "128Mi");
}

static const char cluster_name[] = "basic";

static void namespace_of(int index, char *out, size_t size)
{
    snprintf(out, size, "bench-%04d", index);
}

static bool create_namespaces(int count)
{
    for (int i = 0; i < count; i++) {
        char ns[32], body[160];
        namespace_of(i, ns, sizeof ns);
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", ns);
        int status = api_request("POST", "/api/v1/namespaces", body, NULL);
        if (status != 201 && status != 409) {
            printf("  cannot create namespace %s: HTTP %d\n", ns, status);
            return false;
        }
    }
    return true;
}

/* ---- readiness from a list of tidbclusters ---- */

struct progress {
    double *created_s;   /* when its create returned */
    double *ready_s;     /* first poll that saw Ready=True; 0: not yet */
    int ready;
};

static bool tc_ready(const cJSON *tc)
{
    const cJSON *condition;
    cJSON_ArrayForEach(condition, e2e_jpath(tc, "status.conditions")) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(condition, "type"));
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(condition, "status"));
        if (type && status && strcmp(type, "Ready") == 0) return strcmp(status, "True") == 0;
    }
    return false;
}

/* One list; updates progress. Returns the list size in bytes (0 on failure). */
static size_t poll_ready(struct progress *progress, double *parse_s)
{
    char *body = NULL;
    int status = api_request("GET", "/apis/pingcap.com/v1alpha1/tidbclusters", NULL, &body);
    if (status != 200 || !body) {
        free(body);
        return 0;
    }
    double seen = now_s();
    size_t size = strlen(body);
    cJSON *list = cJSON_Parse(body);
    free(body);
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items")) {
        const char *ns = e2e_jpath_str(item, "metadata.namespace");
        int index = -1;
        if (!ns || sscanf(ns, "bench-%d", &index) != 1 || index < 0 || index >= settings.clusters) continue;
        if (progress->ready_s[index] == 0 && tc_ready(item)) {
            progress->ready_s[index] = seen;
            progress->ready++;
        }
    }
    cJSON_Delete(list);
    if (parse_s) *parse_s = now_s() - seen;
    return size;
}

/* ---- bring-up: create the clusters, wait for them ---- */

static void print_operator_log_tail(void);

struct bringup {
    double all_ready_s;        /* the last of the clusters Ready, after the first create */
    double p50_s;              /* per cluster create -> Ready, median */
    int ready;
    size_t list_bytes;         /* the last list of tidbclusters */
    double list_parse_s;
    double most_in_flight;     /* the executor's gauges, the highest seen at a poll */
    double most_queued;
    double load_average;       /* the machine's 1-minute load average when all were Ready */
};

/* The machine's 1-minute load average (other work on it skews a comparison
 * of two runs minutes apart); -1 when unknown. */
static double load_average(void)
{
    FILE *file = fopen("/proc/loadavg", "r");
    double value = -1;
    if (file) {
        if (fscanf(file, "%lf", &value) != 1) value = -1;
        fclose(file);
    }
    return value;
}

/* Creates the TidbClusters basic in bench-0000 ... (`tc`'s namespace is
 * rewritten for each), polling readiness on the way so early clusters'
 * times are right; prints how long it took. */
static void create_clusters(cJSON *tc, struct progress *progress, double *next_poll)
{
    cJSON *namespace = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tc, "metadata"),
                                                        "namespace");
    double start = now_s();
    int failed = 0;
    for (int i = 0; i < settings.clusters; i++) {
        char ns[32], path[160];
        namespace_of(i, ns, sizeof ns);
        cJSON_SetValuestring(namespace, ns);
        char *body = cJSON_PrintUnformatted(tc);
        snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/%s/tidbclusters", ns);
        int status = body ? api_request("POST", path, body, NULL) : -1;
        free(body);
        progress->created_s[i] = now_s();
        if (status != 201 && failed++ < 3) printf("  create %s/%s: HTTP %d\n", ns, cluster_name, status);
        if (now_s() >= *next_poll) {
            poll_ready(progress, NULL);
            *next_poll = now_s() + poll_ms() / 1000.0;
        }
    }
    double took = now_s() - start;
    printf("  created   %d TidbClusters in %.2f s (%.0f/s)%s\n", settings.clusters, took,
           ratio(settings.clusters, took), failed ? " — SOME FAILED" : "");
}

/* The operator's executor gauges, kept at their highest. */
static void sample_executor(struct bringup *bringup)
{
    char *text = metrics_fetch();
    if (!text) return;
    double in_flight = metric_sum(text, "tidb_operator_actions_in_flight", NULL);
    double queued = metric_sum(text, "tidb_operator_actions_queued", NULL);
    if (in_flight > bringup->most_in_flight) bringup->most_in_flight = in_flight;
    if (queued > bringup->most_queued) bringup->most_queued = queued;
    free(text);
}

/* Polls until every cluster is Ready or the deadline passes, reporting every
 * 30 s; false when the operator exited. */
static bool wait_all_ready(struct progress *progress, double t0, double *next_poll, double cpu_before,
                           struct bringup *bringup)
{
    double deadline = t0 + settings.ready_deadline_s;
    double last_report = now_s();
    while (progress->ready < settings.clusters && now_s() < deadline) {
        while (now_s() < *next_poll) harness_sleep_ms(20);
        double parse = 0;
        size_t bytes = poll_ready(progress, &parse);
        if (bytes) {
            bringup->list_bytes = bytes;
            bringup->list_parse_s = parse;
        }
        sample_executor(bringup);
        *next_poll = now_s() + poll_ms() / 1000.0;
        if (now_s() - last_report >= 30) {
            struct proc_sample sample;
            proc_sample(operator_child.pid, &sample);
            printf("    +%5.0f s  %d/%d Ready  (operator cpu %.1f s, rss %.1f MiB)\n", now_s() - t0,
                   progress->ready, settings.clusters, sample.cpu_s - cpu_before, sample.rss_mib);
            last_report = now_s();
        }
        int code;
        if (child_wait(&operator_child, 0, &code)) {
            printf("  the operator exited with %d during bring-up\n", code);
            print_operator_log_tail();
            return false;
        }
    }
    bringup->load_average = load_average();
    return true;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, int count, double p)
{
    if (count <= 0) return 0;
    int index = (int)(p * (count - 1) + 0.5);
    return sorted[index];
}

/* The operator's Events (involvedObject kind TidbCluster) by type and reason. */
static void print_events_by_reason(int clusters)
{
    char *body = NULL;
    int status = api_request("GET", "/api/v1/events", NULL, &body);
    cJSON *list = status == 200 && body ? cJSON_Parse(body) : NULL;
    free(body);
    if (!list) {
        printf("      (events not listed: HTTP %d)\n", status);
        return;
    }
    struct { char reason[96]; int count; } reasons[32];
    int reason_count = 0, total = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "items")) {
        const char *kind = e2e_jpath_str(item, "involvedObject.kind");
        const char *reason = e2e_jpath_str(item, "reason");
        const char *type = e2e_jpath_str(item, "type");
        if (!kind || strcmp(kind, "TidbCluster") != 0) continue;
        char label[96];
        snprintf(label, sizeof label, "%s %s", type ? type : "?", reason ? reason : "?");
        int at = 0;
        while (at < reason_count && strcmp(reasons[at].reason, label) != 0) at++;
        if (at == reason_count && reason_count < 32) {
            snprintf(reasons[reason_count].reason, sizeof reasons[reason_count].reason, "%s", label);
            reasons[reason_count++].count = 0;
        }
        if (at < reason_count) reasons[at].count++;
        total++;
    }
    cJSON_Delete(list);
    printf("            Events about TidbClusters: %d (%.1f per cluster):", total, ratio(total, clusters));
    for (int i = 0; i < reason_count; i++)
        printf("%s %s %.1f", i ? "," : "", reasons[i].reason, ratio(reasons[i].count, clusters));
    printf("\n");
}

/* ---- in-process: real caches and PD snapshots, then the planner ---- */

enum { INF_TC, INF_PODS, INF_PVCS, INF_SERVICES, INF_CONFIGMAPS, INF_CLASSES, INF_NODES, INF_COUNT };

struct inproc {
    uv_loop_t loop;
    uv_timer_t tick;
    struct kube_connection connection;
    struct http_client *http;
    struct kube_client *kube;
    struct string_pool pool;
    struct informer *informers[INF_COUNT];
    struct pd_snapshots *snapshots;
    struct validation_memo *validation;
    int closing;
};

static void on_tick(uv_timer_t *timer) { (void)timer; }

static void part_closed(void *data) { ((struct inproc *)data)->closing--; }

static void on_handle_closed(uv_handle_t *handle) { part_closed(handle->data); }

/* Runs the loop until `done(data)` or the deadline. */
static bool run_until(struct inproc *in, bool (*done)(struct inproc *in), int timeout_ms)
{
    double deadline = now_s() + timeout_ms / 1000.0;
    while (!done(in)) {
        if (now_s() > deadline) return false;
        uv_run(&in->loop, UV_RUN_ONCE);
    }
    return true;
}

static bool all_synced(struct inproc *in) { return informers_synced(in->informers, INF_COUNT); }

static bool all_fresh(struct inproc *in)
{
    const struct cache *clusters = informer_cache(in->informers[INF_TC]);
    size_t cursor = 0;
    for (const struct object_meta *tc; (tc = cache_next(clusters, &cursor));) {
        struct pd_snapshot *snapshot = pd_snapshots_get(in->snapshots, tc->key);
        if (snapshot && !pd_snapshot_all_fresh(pd_snapshot_data(snapshot))) return false;
    }
    return true;
}

static bool all_closed(struct inproc *in) { return in->closing <= 0; }

/* Gathers the observed world of cluster `key` with the controller's own
 * code (reconcilers/runtime/observe.h). `cluster` is decoded and
 * defaulted by the caller. */
static bool observe(struct inproc *in, const char *key, const struct tidbcluster *cluster,
                    struct observation *out)
{
    struct observe_caches caches = {
        informer_cache(in->informers[INF_PODS]), informer_cache(in->informers[INF_PVCS]), NULL,
        informer_cache(in->informers[INF_SERVICES]), informer_cache(in->informers[INF_CONFIGMAPS]),
        informer_cache(in->informers[INF_CLASSES]), informer_cache(in->informers[INF_NODES]),
    };
    struct pd_snapshot *snapshot = pd_snapshots_get(in->snapshots, key);
    bool ok = observe_cluster(&caches, key, cluster, snapshot ? pd_snapshot_data(snapshot) : NULL,
                              (int64_t)time(NULL) * 1000, out);
    /* As the controller: validation once per generation. */
    out->world.problems = validation_memo_get(in->validation, key, cluster);
    return ok;
}

struct full_result {
    int planned;        /* clusters planned */
    int zero_actions;   /* of them, plans with no action */
    int requeue;        /* of them, plans asking for a timed requeue */
    char first_action[256]; /* an action of a non-empty plan, for the report */
    char first_cluster[128];
};

/* The whole no-op path for one cluster (decode, defaults, gather, plan);
 * false when the cluster could not be planned. */
static bool full_reconcile(struct inproc *in, const struct kube_tidbcluster *object, struct full_result *result)
{
    const char *key = object->meta.key;
    struct tidbcluster cluster;
    char *error = NULL;
    if (!tidbcluster_decode(object->object, &cluster, &error) || !tidbcluster_apply_defaults(&cluster)) {
        free(error);
        tidbcluster_free(&cluster);
        return false;
    }
    struct observation observation;
    struct plan plan = { 0 };
    bool ok = observe(in, key, &cluster, &observation) &&
              plan_init(&plan, object->meta.namespace, object->meta.name, object_uid(&object->meta, (char[OBJECT_UID_SIZE]){0})) &&
              planner_plan(&observation.world, &plan);
    observe_done(&observation);
    if (ok && result) {
        result->planned++;
        if (plan.count == 0) result->zero_actions++;
        if (plan.requeue_after_ms) result->requeue++;
        if (plan.count > 0 && !result->first_action[0]) {
            plan_describe_action(&plan.actions[0], result->first_action, sizeof result->first_action);
            snprintf(result->first_cluster, sizeof result->first_cluster, "%s (%zu actions)", key,
                     plan.count);
        }
    }
    plan_free(&plan);
    tidbcluster_free(&cluster);
    return ok;
}

static int inproc_start(struct inproc *in, const char *kubeconfig)
{
    memset(in, 0, sizeof *in);
    if (uv_loop_init(&in->loop) != 0) return -1;
    uv_timer_init(&in->loop, &in->tick);
    in->tick.data = in;
    uv_timer_start(&in->tick, on_tick, 50, 50);
    char *error = NULL;
    if (!kube_credentials_load(kubeconfig, NULL, &in->connection, &error)) {
        printf("  kubeconfig: %s\n", error ? error : "?");
        free(error);
        return -1;
    }
    in->http = http_client_init(&in->loop, NULL);
    if (!in->http) return -1;
    struct kube_client_options kube_options = {
        .loop = &in->loop, .http = in->http, .connection = &in->connection, .qps = 1000, .burst = 1000,
    };
    if (kube_client_new(&kube_options, &in->kube) != 0) return -1;
    string_pool_init(&in->pool);
    struct {
        const struct kube_resource *resource;
        const struct object_kind *kind;
        const char *selector;
    } kinds[INF_COUNT] = {
        [INF_TC] = { &kube_resource_tidbclusters, &object_kind_tidbcluster, NULL },
        [INF_PODS] = { &kube_resource_pods, &object_kind_pod, MANAGED_BY_SELECTOR },
        [INF_PVCS] = { &kube_resource_pvcs, &object_kind_pvc, MANAGED_BY_SELECTOR },
        [INF_SERVICES] = { &kube_resource_services, &object_kind_service, MANAGED_BY_SELECTOR },
        [INF_CONFIGMAPS] = { &kube_resource_configmaps, &object_kind_configmap, MANAGED_BY_SELECTOR },
        [INF_CLASSES] = { &kube_resource_storage_classes, &object_kind_storage_class, NULL },
        [INF_NODES] = { &kube_resource_nodes, &object_kind_node, NULL },
    };
    for (int i = 0; i < INF_COUNT; i++) {
        struct informer_options options = {
            .loop = &in->loop, .client = in->kube, .resource = kinds[i].resource, .kind = kinds[i].kind,
            .pool = &in->pool, .label_selector = kinds[i].selector,
        };
        if (informer_new(&options, &in->informers[i]) != 0 || informer_start(in->informers[i]) != 0)
            return -1;
    }
    struct pd_snapshots_options pd_options = { .loop = &in->loop, .http = in->http,
                                               .slow_interval_ms = 600000, .fast_interval_ms = 600000 };
    in->snapshots = pd_snapshots_create(&pd_options);
    return in->snapshots ? 0 : -1;
}

static void inproc_stop(struct inproc *in)
{
    in->closing = 0;
    if (in->snapshots) {
        in->closing++;
        pd_snapshots_close(in->snapshots, part_closed, in);
    }
    for (int i = 0; i < INF_COUNT; i++)
        if (in->informers[i]) {
            in->closing++;
            informer_close(in->informers[i], part_closed, in);
        }
    run_until(in, all_closed, 10000);
    if (in->kube) {
        in->closing++;
        kube_client_close(in->kube, part_closed, in);
        run_until(in, all_closed, 10000);
    }
    if (in->http) {
        in->closing++;
        http_client_close(in->http, part_closed, in);
        run_until(in, all_closed, 10000);
    }
    in->closing++;
    uv_close((uv_handle_t *)&in->tick, on_handle_closed);
    run_until(in, all_closed, 10000);
    uv_run(&in->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&in->loop) != 0) printf("  (in-process loop still had handles at close)\n");
    string_pool_free(&in->pool);
    kube_connection_free(&in->connection);
}

struct plan_figures {
    bool ran;
    double heap_before_mib, heap_caches_mib, heap_snapshots_mib;
    size_t pods, pvcs, services, configmaps, clusters;
    char plan_cluster[160];
    double plan_us;        /* planner_plan alone, one Ready cluster */
    long plan_iterations;
    size_t plan_actions;   /* of that plan */
    uint64_t plan_requeue_ms;
    char plan_action[256];
    double full_us;        /* decode + defaults + gather + plan, per cluster, over all */
    long full_iterations;
    struct full_result full;
    int snapshots_fresh;   /* clusters whose PD snapshot was fresh */
};

static void inproc_measure(const char *kubeconfig, struct plan_figures *figures)
{
    memset(figures, 0, sizeof *figures);
    /* PD through kubesim's proxy, the API directly, as the operator runs. */
    setenv("http_proxy", sim.proxy_url, 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    struct inproc *in = calloc(1, sizeof *in);
    if (!in) return;
    figures->heap_before_mib = heap_mib();
    if (inproc_start(in, kubeconfig) != 0) {
        printf("  in-process: cannot start the informers\n");
        inproc_stop(in);
        free(in);
        return;
    }
    if (!run_until(in, all_synced, INPROC_SYNC_DEADLINE_MS)) {
        printf("  in-process: caches did not sync within %d s\n", INPROC_SYNC_DEADLINE_MS / 1000);
        inproc_stop(in);
        free(in);
        return;
    }
    figures->heap_caches_mib = heap_mib() - figures->heap_before_mib;
    figures->clusters = cache_count(informer_cache(in->informers[INF_TC]));
    figures->pods = cache_count(informer_cache(in->informers[INF_PODS]));
    figures->pvcs = cache_count(informer_cache(in->informers[INF_PVCS]));
    figures->services = cache_count(informer_cache(in->informers[INF_SERVICES]));
    figures->configmaps = cache_count(informer_cache(in->informers[INF_CONFIGMAPS]));

    /* A PD snapshot per cluster, polled once. */
    const struct cache *clusters = informer_cache(in->informers[INF_TC]);
    size_t cursor = 0;
    for (const struct object_meta *meta; (meta = cache_next(clusters, &cursor));) {
        const struct kube_tidbcluster *object = (const struct kube_tidbcluster *)meta;
        struct tidbcluster cluster;
        char *error = NULL;
        if (tidbcluster_decode(object->object, &cluster, &error) && tidbcluster_apply_defaults(&cluster)) {
            char *url = pd_base_url(tidbcluster_instance(&cluster), cluster.namespace, false);
            if (url) pd_snapshots_add(in->snapshots, meta->key, url, NULL);
            free(url);
        }
        free(error);
        tidbcluster_free(&cluster);
    }
    if (!run_until(in, all_fresh, INPROC_SYNC_DEADLINE_MS))
        printf("  in-process: not every PD snapshot answered within %d s\n", INPROC_SYNC_DEADLINE_MS / 1000);
    figures->heap_snapshots_mib = heap_mib() - figures->heap_before_mib - figures->heap_caches_mib;
    cursor = 0;
    for (const struct object_meta *meta; (meta = cache_next(clusters, &cursor));) {
        struct pd_snapshot *snapshot = pd_snapshots_get(in->snapshots, meta->key);
        if (snapshot && pd_snapshot_all_fresh(pd_snapshot_data(snapshot))) figures->snapshots_fresh++;
    }
    /* No loop turns from here on: the caches hold still while we plan. */
    in->validation = validation_memo_new();
    bool memo_ok = in->validation != NULL;

    /* The whole no-op path over every cluster, repeated within the budget;
     * the first round also finds a cluster whose plan is empty. */
    char key[160] = "";
    if (memo_ok) {
        double start = now_s(), elapsed = 0;
        long iterations = 0;
        for (int round = 0; elapsed < PLAN_BUDGET_S; round++) {
            cursor = 0;
            for (const struct object_meta *meta; (meta = cache_next(clusters, &cursor));) {
                int before_zero = figures->full.zero_actions;
                full_reconcile(in, (const struct kube_tidbcluster *)meta, round == 0 ? &figures->full : NULL);
                if (round == 0 && !key[0] && figures->full.zero_actions > before_zero)
                    snprintf(key, sizeof key, "%s", meta->key);
                iterations++;
            }
            elapsed = now_s() - start;
            if (iterations == 0) break;
        }
        figures->full_iterations = iterations;
        figures->full_us = iterations ? elapsed * 1e6 / (double)iterations : 0;
    }

    /* planner_plan alone, on a cluster with an empty plan (else the first). */
    if (!key[0]) {
        namespace_of(0, key, sizeof key);
        snprintf(key + strlen(key), sizeof key - strlen(key), "/%s", cluster_name);
    }
    snprintf(figures->plan_cluster, sizeof figures->plan_cluster, "%s", key);
    const struct kube_tidbcluster *object = (const struct kube_tidbcluster *)cache_get(clusters, key);
    struct tidbcluster cluster;
    char *error = NULL;
    char uid[OBJECT_UID_SIZE];
    if (memo_ok && object && tidbcluster_decode(object->object, &cluster, &error) &&
        tidbcluster_apply_defaults(&cluster)) {
        struct observation observation;
        observe(in, key, &cluster, &observation);
        const struct observed_cluster world = observation.world;
        struct plan plan = { 0 };
        if (plan_init(&plan, object->meta.namespace, object->meta.name, object_uid(&object->meta, uid)) &&
            planner_plan(&world, &plan)) {
            figures->plan_actions = plan.count;
            figures->plan_requeue_ms = plan.requeue_after_ms;
            if (plan.count)
                plan_describe_action(&plan.actions[0], figures->plan_action, sizeof figures->plan_action);
        }
        plan_free(&plan);
        double start = now_s(), elapsed = 0;
        long iterations = 0;
        while (elapsed < PLAN_BUDGET_S) {
            for (int i = 0; i < 200; i++) {
                struct plan p = { 0 };
                plan_init(&p, object->meta.namespace, object->meta.name, object_uid(&object->meta, uid));
                planner_plan(&world, &p);
                plan_free(&p);
            }
            iterations += 200;
            elapsed = now_s() - start;
        }
        figures->plan_iterations = iterations;
        figures->plan_us = elapsed * 1e6 / (double)iterations;
        figures->ran = true;
        observe_done(&observation);
    } else if (!object) {
        printf("  in-process: %s is not in the cache\n", key);
    }
    free(error);
    tidbcluster_free(&cluster);
    validation_memo_free(in->validation);
    inproc_stop(in);
    free(in);
}

/* ---- the operator ---- */

static bool operator_start(const char *binary)
{
    operator_metrics_port = free_port();
    char kubeconfig[600], metrics[64], qps[32], burst[32], workers[32], fast[64];
    snprintf(kubeconfig, sizeof kubeconfig, "--kubeconfig=%s", sim.kubeconfig);
    snprintf(metrics, sizeof metrics, "--metrics-address=127.0.0.1:%d", operator_metrics_port);
    snprintf(qps, sizeof qps, "--kube-api-qps=%d", settings.qps);
    snprintf(burst, sizeof burst, "--kube-api-burst=%d", settings.burst);
    snprintf(workers, sizeof workers, "--workers=%d", settings.workers);
    snprintf(fast, sizeof fast, "--pd-poll-fast=%s", settings.pd_poll_fast);
    char *argv[] = { (char *)binary, kubeconfig, metrics, qps, burst, workers, fast,
                     "--log-level=warn", "--stop-deadline=5s", NULL };
    static char http_proxy[200], no_proxy[] = "no_proxy=127.0.0.1,localhost",
                no_proxy_upper[] = "NO_PROXY=127.0.0.1,localhost", https_proxy[] = "https_proxy=";
    snprintf(http_proxy, sizeof http_proxy, "http_proxy=%s", sim.proxy_url);
    char *env[] = { http_proxy, no_proxy, no_proxy_upper, https_proxy, NULL };
    if (!child_start(&operator_child, argv, env)) return false;
    /* Up and leading (the Lease is taken) before the clock starts. */
    double deadline = now_s() + 20;
    while (now_s() < deadline) {
        char *text = metrics_fetch();
        double leading = text ? metric_sum(text, "tidb_operator_leader", NULL) : 0;
        free(text);
        if (leading >= 1) return true;
        int code;
        if (child_wait(&operator_child, 0, &code)) {
            printf("  the operator exited with %d\n", code);
            return false;
        }
        harness_sleep_ms(100);
    }
    printf("  the operator did not take the lease within 20 s\n");
    return false;
}

static void operator_stop(void)
{
    if (operator_child.pid <= 0) return;
    kill(operator_child.pid, SIGTERM);
    int code = -1;
    if (!child_wait(&operator_child, OPERATOR_STOP_MS, &code)) {
        printf("  the operator did not stop within %d s: killed\n", OPERATOR_STOP_MS / 1000);
        child_kill(&operator_child);
    } else if (code != 0) {
        printf("  the operator exited with %d\n", code);
    }
    operator_child.pid = 0;
}

static void print_operator_log_tail(void)
{
    char *log = child_output(&operator_child);
    if (!log) return;
    size_t length = strlen(log);
    const char *start = log + (length > 3000 ? length - 3000 : 0);
    printf("  --- operator log (tail) ---\n%s\n  ---\n", start);
    free(log);
}

/* Warnings and errors of the operator's log (it runs at --log-level=warn),
 * tallied by message. */
static void print_log_summary(void)
{
    char *log = child_output(&operator_child);
    if (!log) return;
    struct { char message[96]; int count; } messages[24];
    int count = 0, total = 0;
    for (char *line = log; line && *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        const char *msg = strstr(line, " msg=\"");
        if (msg && (strstr(line, " level=warn ") || strstr(line, " level=error "))) {
            msg += 6;
            char text[96];
            size_t n = strcspn(msg, "\"");
            if (n >= sizeof text) n = sizeof text - 1;
            memcpy(text, msg, n);
            text[n] = '\0';
            int at = 0;
            while (at < count && strcmp(messages[at].message, text) != 0) at++;
            if (at == count && count < 24) {
                snprintf(messages[count].message, sizeof messages[count].message, "%s", text);
                messages[count++].count = 0;
            }
            if (at < count) messages[at].count++;
            total++;
        }
        line = end ? end + 1 : NULL;
    }
    free(log);
    printf("  log       operator warnings/errors: %d%s", total, total ? " —" : "");
    for (int i = 0; i < count; i++) printf("%s \"%s\" x%d", i ? "," : "", messages[i].message, messages[i].count);
    printf("\n");
}

/* ---- fairness: the same bring-up beside a bad neighbour ---- */

#define NEIGHBOUR_NAMESPACE "bench-bad"
#define NEIGHBOUR_TIKV 100000
#define NEIGHBOUR_HEAD_START_PODS 12

/* Pods in a namespace (one list of limit 1 and its remainingItemCount). */
static long pods_in(const char *namespace)
{
    char path[160], *body = NULL;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?limit=1", namespace);
    int status = api_request("GET", path, NULL, &body);
    cJSON *list = status == 200 && body ? cJSON_Parse(body) : NULL;
    free(body);
    if (!list) return -1;
    long count = e2e_jpath_count(list, "items");
    const cJSON *remaining = e2e_jpath(list, "metadata.remainingItemCount");
    if (cJSON_IsNumber(remaining)) count += (long)remaining->valuedouble;
    cJSON_Delete(list);
    return count;
}

/* A fresh kubesim and operator; a TidbCluster asking for 100,000 TiKV
 * replicas is created first, then the same clusters as the first run. The
 * others' all-Ready and median create -> Ready are printed beside the first
 * run's (`without`), with the goal of issue 19: within 10 %. */
static bool neighbour_run(const char *kubesim_bin, const char *operator_bin, const struct sim_options *sim_options,
                          cJSON *tc, struct progress *progress, const struct bringup *without)
{
    printf("\n  fairness  again on a fresh kubesim, with a bad neighbour first: %s/%s asks for %d TiKV "
           "replicas\n", NEIGHBOUR_NAMESPACE, cluster_name, NEIGHBOUR_TIKV);
    operator_stop();
    operator_child.output_path[0] = '\0';
    if (sim.sim_running) harness_sim_stop(&sim, SIM_STOP_MS);
    if (!harness_sim_start(&sim, kubesim_bin, work_dir, sim_options)) return false;
    if (!harness_apply_file(&sim, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL)) {
        printf("  cannot apply the CRD\n");
        return false;
    }
    if (!create_namespaces(settings.clusters)) return false;
    int status = api_request("POST", "/api/v1/namespaces",
                             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\""
                             NEIGHBOUR_NAMESPACE "\"}}", NULL);
    if (status != 201) {
        printf("  cannot create namespace %s: HTTP %d\n", NEIGHBOUR_NAMESPACE, status);
        return false;
    }
    if (!operator_start(operator_bin)) return false;
    struct proc_sample op_before;
    proc_sample(operator_child.pid, &op_before);
    cJSON *bad = cJSON_Duplicate(tc, true);
    cJSON *replicas = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bad, "spec"), "tikv"), "replicas");
    if (!replicas) {
        printf("  the cluster object has no spec.tikv.replicas\n");
        cJSON_Delete(bad);
        return false;
    }
    cJSON_SetNumberValue(replicas, NEIGHBOUR_TIKV);
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bad, "metadata"),
                                                          "namespace"), NEIGHBOUR_NAMESPACE);
    char *body = cJSON_PrintUnformatted(bad);
    cJSON_Delete(bad);
    status = body ? api_request("POST", "/apis/pingcap.com/v1alpha1/namespaces/" NEIGHBOUR_NAMESPACE
                                "/tidbclusters", body, NULL) : -1;
    free(body);
    if (status != 201) {
        printf("  cannot create the bad neighbour: HTTP %d\n", status);
        return false;
    }
    /* The others arrive once it is growing by whole batches (past PD, its
     * TiKV slow start under way), or after 30 s. */
    double head_start = now_s();
    long head_pods = 0;
    while (now_s() < head_start + 30 && (head_pods = pods_in(NEIGHBOUR_NAMESPACE)) < NEIGHBOUR_HEAD_START_PODS)
        harness_sleep_ms(200);
    printf("            the neighbour had %ld pods after %.1f s: now the %d others\n", head_pods,
           now_s() - head_start, settings.clusters);
    memset(progress->created_s, 0, (size_t)settings.clusters * sizeof *progress->created_s);
    memset(progress->ready_s, 0, (size_t)settings.clusters * sizeof *progress->ready_s);
    progress->ready = 0;
    double t0 = now_s();
    double next_poll = t0 + poll_ms() / 1000.0;
    struct bringup with = { 0 };
    create_clusters(tc, progress, &next_poll);
    if (!wait_all_ready(progress, t0, &next_poll, op_before.cpu_s, &with)) return false;
    double *latency = calloc((size_t)settings.clusters, sizeof *latency);
    for (int i = 0; i < settings.clusters; i++) {
        if (progress->ready_s[i] <= 0) continue;
        if (progress->ready_s[i] - t0 > with.all_ready_s) with.all_ready_s = progress->ready_s[i] - t0;
        if (latency) latency[with.ready] = progress->ready_s[i] - progress->created_s[i];
        with.ready++;
    }
    if (latency && with.ready > 0) {
        qsort(latency, (size_t)with.ready, sizeof *latency, compare_double);
        with.p50_s = percentile(latency, with.ready, 0.5);
    }
    free(latency);
    long neighbour_pods = pods_in(NEIGHBOUR_NAMESPACE);
    double slower = ratio(with.all_ready_s - without->all_ready_s, without->all_ready_s) * 100.0;
    double slower_p50 = ratio(with.p50_s - without->p50_s, without->p50_s) * 100.0;
    bool all = with.ready == settings.clusters && without->ready == settings.clusters;
    printf("            the others: %d/%d Ready %.1f s after their first create, p50 create -> Ready %.2f s "
           "(machine load average %.2f)\n", with.ready, settings.clusters, with.all_ready_s, with.p50_s,
           with.load_average);
    printf("            without it (the run above): %d/%d Ready %.1f s, p50 %.2f s (load average %.2f)\n",
           without->ready, settings.clusters, without->all_ready_s, without->p50_s, without->load_average);
    printf("            all-Ready %+.1f %%, p50 %+.1f %%   goal: within 10 %%   %s\n", slower, slower_p50,
           all && slower <= 10.0 ? "MET" : "NOT MET");
    printf("            by then the neighbour had %ld pods; executor: at most %.0f actions in flight and "
           "%.0f queued at a poll (without it: %.0f and %.0f)\n", neighbour_pods, with.most_in_flight,
           with.most_queued, without->most_in_flight, without->most_queued);
    print_log_summary();
    operator_child.output_path[0] = '\0'; /* told already */
    return true;
}

/* ---- main ---- */

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    settings = (struct settings){
        .clusters = env_int("BENCH_CLUSTERS", 1000),
        .speed = env_double("BENCH_SPEED", 5),
        .qps = env_int("BENCH_QPS", 1000),
        .burst = env_int("BENCH_BURST", 2000),
        .workers = env_int("BENCH_WORKERS", 64),
        .pd_poll_fast = env_text("BENCH_PD_POLL_FAST", "2s"),
        .steady_s = env_int("BENCH_STEADY_S", 60),
        .ready_deadline_s = env_int("BENCH_READY_DEADLINE_S", 330),
    };
    if (settings.clusters < 1 || settings.clusters > 9999 || settings.speed <= 0) {
        fprintf(stderr, "bench_operator: bad BENCH_CLUSTERS or BENCH_SPEED\n");
        return 2;
    }
    double bench_start = now_s();
    char kubesim_bin[1024], operator_bin[1024];
    if (!find_binary("KUBESIM_BIN", "kubesim", kubesim_bin, sizeof kubesim_bin) ||
        !find_binary("TIDB_OPERATOR_BIN", "tidb-operator", operator_bin, sizeof operator_bin)) {
        printf("bench_operator: zig-out/bin/kubesim and zig-out/bin/tidb-operator are needed: run "
               "`./zigw build` (or `./zigw build -Doptimize=ReleaseFast`) first\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *temp = test_temp_dir();
    if (!temp) return 1;
    snprintf(work_dir, sizeof work_dir, "%s", temp);
    install_exit_hooks();

    int nodes_per_zone = 25, zones = 4;
    char world_path[600];
    snprintf(world_path, sizeof world_path, "%s/world.json", work_dir);
    FILE *world_file = fopen(world_path, "w");
    if (!world_file) return 1;
    fprintf(world_file,
            "{\"zones\": %d, \"nodesPerZone\": %d, \"cpu\": \"16\", \"memory\": \"64Gi\", \"pods\": 110,"
            " \"localVolumesPerNode\": 0, \"startDelayMs\": %d, \"readyDelayMs\": %d}\n",
            zones, nodes_per_zone, START_DELAY_MS, READY_DELAY_MS);
    fclose(world_file);

    double floor_s = 3.0 * (START_DELAY_MS + READY_DELAY_MS) / 1000.0 / settings.speed;
    double floor_election_s = floor_s + PD_ELECTION_MS / 1000.0 / settings.speed;
    printf("bench_operator: %d TidbClusters (3 PD + 3 TiKV + 2 TiDB, 100m/128Mi each pod), one "
           "namespace each\n", settings.clusters);
    printf("  world     %d nodes (%d zones x %d; 16 CPU, 64Gi, 110 pods), start %d ms + ready %d ms "
           "per pod, --speed %g\n", zones * nodes_per_zone, zones, nodes_per_zone, START_DELAY_MS,
           READY_DELAY_MS, settings.speed);
    printf("  operator  %s\n            --kube-api-qps %d --kube-api-burst %d --workers %d "
           "--pd-poll-fast %s (leader election on, 2 s renew)\n",
           operator_bin, settings.qps, settings.burst, settings.workers, settings.pd_poll_fast);
    printf("  kubesim   %s\n", kubesim_bin);

    int rc = 1;
    struct sim_options sim_options = { .speed = settings.speed, .world = "default",
                                       .world_config = world_path, .log_level = "warn" };
    char *before = NULL, *after_ready = NULL, *steady_start = NULL, *steady_end = NULL;
    double *created = calloc((size_t)settings.clusters, sizeof *created);
    double *ready = calloc((size_t)settings.clusters, sizeof *ready);
    struct progress progress = { created, ready, 0 };
    cJSON *tc = e2e_basic_cluster_object();
    if (!created || !ready || !tc) goto out;
    if (!harness_sim_start(&sim, kubesim_bin, work_dir, &sim_options)) goto out;
    install_exit_hooks(); /* ours over the harness's: they also stop the operator */
    if (!sim.proxy_url[0]) {
        printf("  kubesim has no proxy (no simulated PD)\n");
        goto out;
    }
    if (!harness_apply_file(&sim, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL)) {
        printf("  cannot apply the CRD\n");
        goto out;
    }
    double setup = now_s();
    if (!create_namespaces(settings.clusters)) goto out;
    printf("  setup     %d namespaces in %.1f s\n", settings.clusters, now_s() - setup);
    if (!operator_start(operator_bin)) goto out;
    before = metrics_fetch();
    struct proc_sample op_before, sim_before;
    proc_sample(operator_child.pid, &op_before);
    proc_sample(sim.sim.pid, &sim_before);

    /* The clusters. */
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(tc, "spec");
    add_requests(spec, "pd");
    add_requests(spec, "tikv");
    add_requests(spec, "tidb");
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(tc, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "name");
    cJSON_AddStringToObject(metadata, "name", cluster_name);
    cJSON_AddStringToObject(metadata, "namespace", "x");
    double t0 = now_s();
    double next_poll = t0 + poll_ms() / 1000.0;
    struct bringup bringup = { 0 };
    create_clusters(tc, &progress, &next_poll);
    if (!wait_all_ready(&progress, t0, &next_poll, op_before.cpu_s, &bringup)) goto out;
    size_t list_bytes = bringup.list_bytes;
    double list_parse_s = bringup.list_parse_s;
    double all_ready_s = 0;
    int ready_count = 0;
    double *latency = calloc((size_t)settings.clusters, sizeof *latency);
    for (int i = 0; i < settings.clusters; i++) {
        if (ready[i] > 0) {
            if (ready[i] - t0 > all_ready_s) all_ready_s = ready[i] - t0;
            if (latency) latency[ready_count] = ready[i] - created[i];
            ready_count++;
        }
    }
    struct proc_sample op_ready, sim_ready;
    proc_sample(operator_child.pid, &op_ready);
    proc_sample(sim.sim.pid, &sim_ready);
    after_ready = metrics_fetch();
    printf("\n");
    if (ready_count < settings.clusters)
        printf("  NOT ALL READY: %d of %d clusters Ready after %d s (deadline); figures below are "
               "for what ran\n", ready_count, settings.clusters, settings.ready_deadline_s);
    printf("  ready     N = %d clusters Ready=True %.1f s after the first create "
           "(%.1f clusters/s; polled every %d ms)\n", ready_count, all_ready_s,
           ratio(ready_count, all_ready_s), poll_ms());
    printf("            world minimum for one cluster: %.2f s (3 x (%d + %d ms) / %g); with PD's "
           "%d ms election: %.2f s\n", floor_s, START_DELAY_MS, READY_DELAY_MS, settings.speed,
           PD_ELECTION_MS, floor_election_s);
    printf("            all-Ready / minimum = %.1fx   (/ minimum with election = %.1fx)\n",
           ratio(all_ready_s, floor_s), ratio(all_ready_s, floor_election_s));
    if (latency && ready_count > 0) {
        qsort(latency, (size_t)ready_count, sizeof *latency, compare_double);
        printf("            per cluster, create -> Ready: min %.2f s, p50 %.2f s, p90 %.2f s, max "
               "%.2f s (p50 / minimum %.1fx)\n", latency[0], percentile(latency, ready_count, 0.5),
               percentile(latency, ready_count, 0.9), latency[ready_count - 1],
               ratio(percentile(latency, ready_count, 0.5), floor_s));
    }
    struct bringup without = { .all_ready_s = all_ready_s, .ready = ready_count,
                               .p50_s = latency && ready_count > 0 ? percentile(latency, ready_count, 0.5) : 0,
                               .most_queued = bringup.most_queued, .most_in_flight = bringup.most_in_flight,
                               .load_average = bringup.load_average };
    free(latency);
    printf("            executor: at most %.0f actions in flight and %.0f queued at a poll\n",
           bringup.most_in_flight, bringup.most_queued);
    printf("            list of tidbclusters: %.1f MiB, parsed in %.0f ms by this process\n",
           (double)list_bytes / (1024.0 * 1024.0), list_parse_s * 1000);
    if (before && after_ready) {
        double writes = metric_sum(after_ready, "kube_client_requests_total", write_not_lease) -
                        metric_sum(before, "kube_client_requests_total", write_not_lease);
        double events = metric_sum(after_ready, "kube_client_requests_total", event_write) -
                        metric_sum(before, "kube_client_requests_total", event_write);
        double pd = metric_sum(after_ready, "pd_requests_total", NULL) - metric_sum(before, "pd_requests_total", NULL);
        printf("  bring-up  operator: %.1f s CPU (%.2f cores over %.1f s), peak RSS %.1f MiB; kubesim: "
               "%.1f s CPU\n", op_ready.cpu_s - op_before.cpu_s,
               ratio(op_ready.cpu_s - op_before.cpu_s, all_ready_s), all_ready_s, op_ready.hwm_mib,
               sim_ready.cpu_s - sim_before.cpu_s);
        printf("            API writes %.0f (%.1f per cluster, of them %.1f events), PD requests %.0f "
               "(%.0f per cluster)\n", writes, ratio(writes, settings.clusters),
               ratio(events, settings.clusters), pd, ratio(pd, settings.clusters));
        double reconciles = metric_sum(after_ready, "tidb_operator_reconciles_total", NULL) -
                            metric_sum(before, "tidb_operator_reconciles_total", NULL);
        double queued_s = metric_sum(after_ready, "workqueue_queue_duration_seconds_sum", NULL) -
                          metric_sum(before, "workqueue_queue_duration_seconds_sum", NULL);
        double queued_n = metric_sum(after_ready, "workqueue_queue_duration_seconds_count", NULL) -
                          metric_sum(before, "workqueue_queue_duration_seconds_count", NULL);
        double work_s = metric_sum(after_ready, "workqueue_work_duration_seconds_sum", NULL) -
                        metric_sum(before, "workqueue_work_duration_seconds_sum", NULL);
        double retries = metric_sum(after_ready, "workqueue_retries_total", NULL) -
                         metric_sum(before, "workqueue_retries_total", NULL);
        printf("            reconciles %.0f (%.1f per cluster, %.0f retried); a key waited %.0f ms in the "
               "queue on average, was worked %.1f ms\n", reconciles, ratio(reconciles, settings.clusters),
               retries, ratio(queued_s * 1000, queued_n), ratio(work_s * 1000, queued_n));
        double write_s = delta(before, after_ready, "kube_client_request_duration_seconds_sum", write_verb);
        double write_n = delta(before, after_ready, "kube_client_request_duration_seconds_count", write_verb);
        double pd_s = delta(before, after_ready, "pd_request_duration_seconds_sum", NULL);
        double pd_n = delta(before, after_ready, "pd_request_duration_seconds_count", NULL);
        double pd_timeouts = delta(before, after_ready, "pd_requests_total", timeout_code);
        printf("            API write latency %.1f ms on average; PD request latency %.1f ms on average, "
               "%.0f PD requests timed out\n", ratio(write_s * 1000, write_n), ratio(pd_s * 1000, pd_n),
               pd_timeouts);
        printf("            (at the operator's default --kube-api-qps 50 these writes alone would take "
               ">= %.0f s)\n", writes / 50.0);
        printf("            writes per cluster by verb/resource:\n");
        print_write_deltas(before, after_ready, 1.0 / settings.clusters, "per cluster");
        print_events_by_reason(settings.clusters);
    }

    /* Steady state. */
    double settle_until = now_s() + SETTLE_S;
    while (now_s() < settle_until) harness_sleep_ms(100);
    struct proc_sample op_a, op_b, sim_a, sim_b;
    steady_start = metrics_fetch();
    proc_sample(operator_child.pid, &op_a);
    proc_sample(sim.sim.pid, &sim_a);
    double window_start = now_s();
    double window_end = window_start + settings.steady_s;
    while (now_s() < window_end) harness_sleep_ms(100);
    steady_end = metrics_fetch();
    proc_sample(operator_child.pid, &op_b);
    proc_sample(sim.sim.pid, &sim_b);
    double window = now_s() - window_start;
    double per_minute = 60.0 / window;
    printf("\n  steady    window %.0f s, starting %d s after all Ready (figures per minute)\n", window,
           SETTLE_S);
    printf("  rss       operator VmRSS %.1f MiB = %.1f KiB per cluster (peak %.1f MiB)\n", op_b.rss_mib,
           op_b.rss_mib * 1024.0 / ready_count_or_one(ready_count), op_b.hwm_mib);
    double op_cpu = op_b.cpu_s - op_a.cpu_s, sim_cpu = sim_b.cpu_s - sim_a.cpu_s;
    printf("  cpu       operator %.2f s per minute = %.4f of one core (%.2f ms per cluster per minute); "
           "kubesim %.3f of one core\n", op_cpu * per_minute, op_cpu / window,
           op_cpu * per_minute * 1000.0 / ready_count_or_one(ready_count), sim_cpu / window);
    double reconciles = 0, steady_pd = 0;
    if (steady_start && steady_end) {
        double writes = metric_sum(steady_end, "kube_client_requests_total", write_not_lease) -
                        metric_sum(steady_start, "kube_client_requests_total", write_not_lease);
        double leases = metric_sum(steady_end, "kube_client_requests_total", lease_write) -
                        metric_sum(steady_start, "kube_client_requests_total", lease_write);
        reconciles = metric_sum(steady_end, "tidb_operator_reconciles_total", NULL) -
                     metric_sum(steady_start, "tidb_operator_reconciles_total", NULL);
        double actions = metric_sum(steady_end, "tidb_operator_actions_total", NULL) -
                         metric_sum(steady_start, "tidb_operator_actions_total", NULL);
        double pd = metric_sum(steady_end, "pd_requests_total", NULL) -
                    metric_sum(steady_start, "pd_requests_total", NULL);
        steady_pd = pd;
        printf("  writes    API writes %.1f per minute (target 0); lease renewals %.1f per minute "
               "(counted apart)\n", writes * per_minute, leases * per_minute);
        print_write_deltas(steady_start, steady_end, per_minute, "per minute");
        printf("            actions %.1f per minute, PD requests %.0f per minute (%.1f per cluster)\n",
               actions * per_minute, pd * per_minute, ratio(pd * per_minute, ready_count));
        printf("  reconcile %.0f reconciles per minute (%.2f per cluster); operator CPU per reconcile "
               "<= %.1f us (all steady CPU / reconciles: PD polling, watches, lease included)\n",
               reconciles * per_minute, ratio(reconciles * per_minute, ready_count),
               reconciles > 0 ? op_cpu * 1e6 / reconciles : 0.0);
    }

    /* In-process: no-op plans from real caches. */
    struct plan_figures plans;
    double inproc_start_s = now_s();
    inproc_measure(sim.kubeconfig, &plans);
    if (plans.ran) {
        printf("\n  no-op     planner_plan on a Ready cluster (%s) from real caches: %.2f us per plan "
               "(%ld iterations); plan: %zu actions%s%s, requeue_after %llu ms\n",
               plans.plan_cluster, plans.plan_us, plans.plan_iterations, plans.plan_actions,
               plans.plan_actions ? ", first: " : "", plans.plan_action,
               (unsigned long long)plans.plan_requeue_ms);
        printf("            whole no-op reconcile (decode + defaults + gather + plan): %.2f us per "
               "cluster (%ld plans over %zu clusters)\n", plans.full_us, plans.full_iterations,
               plans.clusters);
        printf("            of %d clusters planned: %d with zero actions, %d asking a timed requeue; "
               "PD snapshots fresh for %d%s%s\n", plans.full.planned, plans.full.zero_actions,
               plans.full.requeue, plans.snapshots_fresh,
               plans.full.first_action[0] ? "; e.g. " : "", plans.full.first_cluster);
        if (plans.full.first_action[0]) printf("              first action: %s\n", plans.full.first_action);
        printf("            caches of this process (7 informers: %zu clusters, %zu pods, %zu PVCs, %zu "
               "services, %zu configmaps): %.1f MiB heap = %.1f KiB per cluster vs operator RSS %.1f MiB\n",
               plans.clusters, plans.pods, plans.pvcs, plans.services, plans.configmaps,
               plans.heap_caches_mib, plans.heap_caches_mib * 1024.0 / (plans.clusters ? (double)plans.clusters : 1.0),
               op_b.rss_mib);
        printf("            PD snapshots of this process for %zu clusters (clients included): %.1f MiB heap = "
               "%.1f KiB per cluster\n", plans.clusters, plans.heap_snapshots_mib,
               plans.heap_snapshots_mib * 1024.0 / (plans.clusters ? (double)plans.clusters : 1.0));
        double reconcile_cpu = reconciles * plans.full_us / 1e6;
        printf("            steady CPU split: reconciles %.0f x %.0f us = %.2f s of the window's %.2f s; the "
               "rest (PD polling %.0f requests, watches, lease) = %.0f us per PD request at most\n",
               reconciles, plans.full_us, reconcile_cpu, op_cpu,
               steady_pd, steady_pd > 0 ? (op_cpu - reconcile_cpu) * 1e6 / steady_pd : 0.0);
        printf("            (in-process part took %.1f s)\n", now_s() - inproc_start_s);
    }
    rc = 0;
    if (env_int("BENCH_NEIGHBOUR", 1)) {
        print_log_summary();
        if (!neighbour_run(kubesim_bin, operator_bin, &sim_options, tc, &progress, &without)) rc = 1;
    }

out:
    if (rc != 0 && operator_child.pid > 0) print_operator_log_tail();
    if (operator_child.output_path[0]) print_log_summary();
    operator_stop();
    if (sim.sim_running) harness_sim_stop(&sim, SIM_STOP_MS);
    kill_children();
    free(before);
    free(after_ready);
    free(steady_start);
    free(steady_end);
    free(created);
    free(ready);
    cJSON_Delete(tc);
    if (api_curl) curl_easy_cleanup(api_curl);
    curl_global_cleanup();
    nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("\n  total     %.0f s\n", now_s() - bench_start);
    return rc;
}
