/*
 * bench_watch: what the pod informer (watchers/informer.h, object_kind_pod,
 * label selector app.kubernetes.io/managed-by=tidb-operator, pages of 500,
 * the kube_client's default token bucket: set up as the operator sets it up)
 * costs at 10,000 and 50,000 pods, each figure beside a baseline measured in
 * the same run on the same pods:
 *
 *   sync     informer initial list over loopback HTTPS (and plain HTTP)
 *            vs cJSON_Parse of the same list body (fetched once: the parsing floor),
 *            best of 3 rounds, each round one floor parse, one plain and one
 *            HTTPS sync (interleaved, so machine drift moves all three alike)
 *            vs `kubectl get pods -A -o json > /dev/null` on the same server
 *            vs an informer of @kubernetes/client-node (Node) on the same server
 *   memory   process RSS (and heap in use) before/after the sync, per pod
 *            vs kubectl's peak RSS (wait4 ru_maxrss) and client-node's RSS
 *   bytes    cache bytes per pod (RSS delta / pods; also the sum of the
 *            projections' allocations, counted here) vs JSON bytes per pod
 *   watch    events/s through the informer while every pod is updated in the
 *            store in batches of 1000 (live), the same with the events queued
 *            on the server first (drain: the informer alone on its core), and
 *            store-write -> handler-call latency p50/p99 (live, and paced at
 *            2000 updates/s, well under both sides' capacity)
 *
 *   ./zigw build bench_watch
 *
 * The server is kubesim's api_server (HTTPS with a CA made here, bearer
 * token, the Table renderer kubesim plugs in, plus a plain HTTP listener on
 * the same store) running in a forked child process with its own libuv loop,
 * so that it has its own core and none of its memory shows in the informer
 * process's RSS. The child creates the pods directly in its store (create,
 * then the kubelet's status write). Write timestamps go through a shared
 * memory page (CLOCK_MONOTONIC, the same clock in both processes).
 *
 * kubectl is used when it is on PATH; client-node when `node` and `npm` are:
 * `npm install --no-audit --no-fund @kubernetes/client-node` into a temp dir
 * (when the newest release does not load on the installed Node, the newest
 * 1.x is installed instead, and the output says so).
 *
 * BENCH_WATCH_PODS=2000,5000 overrides the sizes (for quick runs).
 * Prints figures; asserts nothing about time. Every wait has a deadline.
 */
#include "reactor/buffer.h"
#include "reactor/certs.h"
#include "reactor/http_client.h"
#include "watchers/kube_credentials.h"
#include "reactor/log.h"
#include "test/sim/api_server.h"
#include "test/sim/kubesim.h"
#include "test/sim/store.h"
#include "test/sim/table.h"
#include "watchers/informer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZES 8
#define SYNC_ROUNDS 3        /* the floor and each informer sync: best of this many */
#define PODS_PER_CLUSTER 10  /* 3 PD, 5 TiKV, 2 TiDB */
#define NAMESPACES 20
#define PODS_PER_NODE 25
#define TOKEN "bench-watch-token"
#define LIVE_BATCH 1000
#define PACED_COUNT 2000
#define PACED_BATCH 10
#define PACED_INTERVAL_MS 5
#define SERVER_READY_TIMEOUT_MS 240000
#define PEER_TIMEOUT_MS 120000
#define NPM_TIMEOUT_MS 150000
#define LOOP_TIMEOUT_MS 120000

static const char *const SELECTOR = "app.kubernetes.io/managed-by=tidb-operator";

/* ---- clocks and memory ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double seconds_since(uint64_t start_ns)
{
    return (double)(now_ns() - start_ns) / 1e9;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
    FILE *file = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (file) {
        if (fscanf(file, "%lu %lu", &size, &resident) != 2) resident = 0;
        fclose(file);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Bytes malloc has handed out and not taken back (all arenas, mmapped chunks too). */
static size_t heap_bytes(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

static double mib(double bytes)
{
    return bytes / (1024.0 * 1024.0);
}

/* ---- the pods ------------------------------------------------------------------------------ */

struct pod_id {
    char namespace[32];
    char name[64];
    char cluster[32];
    const char *component;
    int ordinal;
    size_t cluster_index;
};

static void pod_id(size_t index, struct pod_id *out)
{
    size_t slot = index % PODS_PER_CLUSTER;
    out->cluster_index = index / PODS_PER_CLUSTER;
    if (slot < 3) {
        out->component = "pd";
        out->ordinal = (int)slot;
    } else if (slot < 8) {
        out->component = "tikv";
        out->ordinal = (int)slot - 3;
    } else {
        out->component = "tidb";
        out->ordinal = (int)slot - 8;
    }
    snprintf(out->namespace, sizeof out->namespace, "tidb-%02zu", out->cluster_index % NAMESPACES);
    snprintf(out->cluster, sizeof out->cluster, "db%zu", out->cluster_index);
    snprintf(out->name, sizeof out->name, "db%zu-%s-%d", out->cluster_index, out->component,
             out->ordinal);
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* 64 hex digits derived from `seed`. */
static void hex64(char out[65], uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        snprintf(out + 16 * i, 17, "%016llx", (unsigned long long)mix64(seed * 4 + (uint64_t)i));
}

/*
 * A pod as PingCAP's operator and a kubelet leave it: operator labels (the
 * selector's, instance, component, cluster id, a member/store id), scrape
 * annotations, the TidbCluster owner, the main container with its command,
 * env, ports, resources and mounts (TiDB: plus the slow-log sidecar), the data
 * PVC (TiDB: an emptyDir), configmap and service-account volumes, a toleration,
 * and a Running status with four conditions and the container statuses.
 * Returns a malloc'd string (about 3.3 KB once the server adds its fields).
 */
static char *pod_json(size_t index)
{
    struct pod_id id;
    pod_id(index, &id);
    const char *c = id.component;
    bool tidb = strcmp(c, "tidb") == 0;
    int client_port = strcmp(c, "pd") == 0 ? 2379 : strcmp(c, "tikv") == 0 ? 20160 : 4000;
    int status_port = strcmp(c, "pd") == 0 ? 2380 : strcmp(c, "tikv") == 0 ? 20180 : 10080;
    unsigned node = (unsigned)(index / PODS_PER_NODE);
    unsigned long long cluster_id = 7000000000000000000ull + id.cluster_index;
    unsigned long long sa = (unsigned long long)(mix64(index) & 0xfffff);
    char sidecar_image_id[65], main_image_id[65], sidecar_id[65], main_id[65];
    hex64(sidecar_image_id, 1);
    hex64(main_image_id, strcmp(c, "pd") == 0 ? 2 : strcmp(c, "tikv") == 0 ? 3 : 4);
    hex64(sidecar_id, 1000 + 2 * index);
    hex64(main_id, 1001 + 2 * index);

    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    if (!out) return NULL;
    fprintf(out,
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
            "\"labels\":{\"app.kubernetes.io/name\":\"tidb-cluster\","
            "\"app.kubernetes.io/managed-by\":\"tidb-operator\",\"app.kubernetes.io/instance\":\"%s\","
            "\"app.kubernetes.io/component\":\"%s\",\"tidb.pingcap.com/cluster-id\":\"%llu\"",
            id.name, id.namespace, id.cluster, c, cluster_id);
    if (strcmp(c, "tikv") == 0)
        fprintf(out, ",\"tidb.pingcap.com/store-id\":\"%zu\"", 1000 + index);
    else if (strcmp(c, "pd") == 0)
        fprintf(out, ",\"tidb.pingcap.com/member-id\":\"%llu\"",
                (unsigned long long)(mix64(index) >> 1));
    fprintf(out,
            "},\"annotations\":{\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"%d\","
            "\"tidb.pingcap.com/config-hash\":\"%016llx\"},"
            "\"ownerReferences\":[{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
            "\"name\":\"%s\",\"uid\":\"%08llx-0000-4000-8000-%012llx\",\"controller\":true,"
            "\"blockOwnerDeletion\":true}]},",
            status_port, (unsigned long long)mix64(id.cluster_index * 3 + 1), id.cluster,
            (unsigned long long)(mix64(id.cluster_index) & 0xffffffffull),
            (unsigned long long)id.cluster_index);
    fprintf(out, "\"spec\":{\"volumes\":[");
    if (tidb)
        fprintf(out, "{\"name\":\"%s\",\"emptyDir\":{}},", c);
    else
        fprintf(out, "{\"name\":\"%s\",\"persistentVolumeClaim\":{\"claimName\":\"%s-%s\"}},", c, c,
                id.name);
    fprintf(out,
            "{\"name\":\"config\",\"configMap\":{\"name\":\"%s-%s\",\"items\":[{\"key\":\"config-file\","
            "\"path\":\"%s.toml\"},{\"key\":\"startup-script\",\"path\":\"start.sh\"}],"
            "\"defaultMode\":420}},"
            "{\"name\":\"kube-api-access-%05llx\",\"projected\":{\"sources\":[{\"serviceAccountToken\":"
            "{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{\"name\":"
            "\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}}],"
            "\"defaultMode\":420}}],",
            id.cluster, c, c, sa);
    fprintf(out,
            "\"containers\":[{\"name\":\"%s\",\"image\":\"pingcap/%s:v8.5.0\",\"command\":[\"/bin/sh\","
            "\"/etc/%s/start.sh\"],\"ports\":[{\"name\":\"client\",\"containerPort\":%d,"
            "\"protocol\":\"TCP\"},{\"name\":\"status\",\"containerPort\":%d,\"protocol\":\"TCP\"}],"
            "\"env\":[{\"name\":\"CLUSTER_NAME\",\"value\":\"%s\"},"
            "{\"name\":\"HEADLESS_SERVICE_NAME\",\"value\":\"%s-%s-peer\"}],"
            "\"resources\":{\"limits\":{\"cpu\":\"8\",\"memory\":\"32Gi\"},\"requests\":{\"cpu\":\"4\","
            "\"memory\":\"16Gi\"}},\"volumeMounts\":[{\"name\":\"%s\",\"mountPath\":\"/var/lib/%s\"},"
            "{\"name\":\"config\",\"readOnly\":true,\"mountPath\":\"/etc/%s\"},{\"name\":"
            "\"kube-api-access-%05llx\",\"readOnly\":true,\"mountPath\":"
            "\"/var/run/secrets/kubernetes.io/serviceaccount\"}],\"imagePullPolicy\":\"IfNotPresent\"}",
            c, c, c, client_port, status_port, id.cluster, id.cluster, c, c, c, c, sa);
    /* TiDB pods carry the slow-log sidecar. */
    if (tidb)
        fprintf(out,
            ",{\"name\":\"slowlog\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\","
            "\"touch /var/lib/%s/slowlog; tail -n0 -F /var/lib/%s/slowlog\"],\"resources\":{},"
            "\"volumeMounts\":[{\"name\":\"%s\",\"mountPath\":\"/var/lib/%s\"}],"
            "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
            "\"imagePullPolicy\":\"IfNotPresent\"}",
            c, c, c, c);
    fprintf(out,
            "],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"
            "\"ClusterFirst\",\"serviceAccountName\":\"default\","
            "\"nodeName\":\"node-%u\",\"securityContext\":{},\"hostname\":\"%s\",\"subdomain\":"
            "\"%s-%s-peer\",\"schedulerName\":\"default-scheduler\",\"tolerations\":[{\"key\":"
            "\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
            "\"tolerationSeconds\":300}]},",
            node, id.name, id.cluster, c);
    fprintf(out,
            "\"status\":{\"phase\":\"Running\",\"conditions\":["
            "{\"type\":\"Initialized\",\"status\":\"True\","
            "\"lastTransitionTime\":\"2026-01-05T10:00:01Z\"},"
            "{\"type\":\"Ready\",\"status\":\"True\","
            "\"lastTransitionTime\":\"2026-01-05T10:00:15Z\"},"
            "{\"type\":\"ContainersReady\",\"status\":\"True\","
            "\"lastTransitionTime\":\"2026-01-05T10:00:15Z\"},"
            "{\"type\":\"PodScheduled\",\"status\":\"True\","
            "\"lastTransitionTime\":\"2026-01-05T10:00:00Z\"}],"
            "\"hostIP\":\"10.0.%u.%u\",\"podIP\":\"10.244.%zu.%zu\","
            "\"startTime\":\"2026-01-05T10:00:01Z\",\"containerStatuses\":[",
            node / 250, node % 250 + 1, index / 250, index % 250 + 1);
    fprintf(out,
            "{\"name\":\"%s\",\"state\":{\"running\":{\"startedAt\":\"2026-01-05T10:00:06Z\"}},"
            "\"lastState\":{},\"ready\":true,\"restartCount\":0,\"image\":\"docker.io/pingcap/%s:v8.5.0\","
            "\"imageID\":\"docker.io/pingcap/%s@sha256:%s\",\"containerID\":\"containerd://%s\","
            "\"started\":true}",
            c, c, c, main_image_id, main_id);
    if (tidb)
        fprintf(out,
                ",{\"name\":\"slowlog\",\"state\":{\"running\":{\"startedAt\":"
                "\"2026-01-05T10:00:05Z\"}},\"lastState\":{},\"ready\":true,\"restartCount\":0,"
                "\"image\":\"docker.io/library/busybox:1.36\",\"imageID\":"
                "\"docker.io/library/busybox@sha256:%s\",\"containerID\":\"containerd://%s\","
                "\"started\":true}",
                sidecar_image_id, sidecar_id);
    fputs("],\"qosClass\":\"Burstable\"}}", out);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- shared with the server process ------------------------------------------------------ */

struct shared {
    _Atomic uint64_t base_rv;          /* store RV before the run's first write */
    _Atomic uint64_t first_write_ns;
    _Atomic uint64_t capacity;         /* entries of write_ns */
    _Atomic uint64_t write_ns[];       /* by (resourceVersion - base_rv - 1) */
};

enum command_type { COMMAND_LIVE = 1, COMMAND_BACKLOG, COMMAND_STOP };

struct command {
    int type;
    int round;          /* the restartCount the updates write */
    uint32_t count;     /* pods to update: 0 .. count-1 */
    uint32_t batch;     /* per timer tick (LIVE) */
    uint32_t interval_ms;
};

struct ack {
    int ok;
    uint32_t written;
    double seconds;
};

struct ready {
    int ok;
    int tls_port;
    int plain_port;
    double fill_seconds;
    char error[256];
};

/* Blocking full write/read on a pipe (reads wait at most timeout_ms). */
static bool write_full(int fd, const void *data, size_t length)
{
    const char *p = data;
    while (length > 0) {
        ssize_t n = write(fd, p, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        length -= (size_t)n;
    }
    return true;
}

static bool read_full(int fd, void *data, size_t length, int timeout_ms)
{
    char *p = data;
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (length > 0) {
        uint64_t now = now_ns();
        if (now >= deadline) return false;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int rc = poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) return false;
        ssize_t n = read(fd, p, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        length -= (size_t)n;
    }
    return true;
}

/* ---- the server process ----------------------------------------------------------------- */

struct server {
    uv_loop_t loop;
    uv_poll_t commands;
    uv_timer_t timer;
    int command_fd, ack_fd;
    struct shared *shared;
    struct store *store;
    const struct resource *pods;
    struct api_server *tls, *plain;
    struct certs_pair ca, leaf;
    int closing;
    /* The update run in progress. */
    struct command run;
    cJSON **prepared;  /* by pod index, taken by the writes */
    uint32_t next;
    uint64_t run_start_ns;
    bool run_ok;
};

static bool server_fill(struct server *server, size_t count)
{
    const struct resource *namespaces =
        resources_find_storage(store_resources(server->store), "", "namespaces");
    struct store_reply reply = { 0 };
    for (int n = 0; n < NAMESPACES; n++) {
        char text[96];
        snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"tidb-%02d\"}}", n);
        bool ok = store_create(server->store, namespaces, NULL, cJSON_Parse(text), &reply);
        store_reply_clear(&reply);
        if (!ok) return false;
    }
    for (size_t i = 0; i < count; i++) {
        struct pod_id id;
        pod_id(i, &id);
        char *text = pod_json(i);
        cJSON *pod = text ? cJSON_Parse(text) : NULL;
        free(text);
        cJSON *status = pod ? cJSON_Duplicate(pod, true) : NULL;
        if (!status) {
            cJSON_Delete(pod);
            return false;
        }
        /* Create (status reset to Pending, as the real registry does), then the kubelet's write. */
        bool ok = store_create(server->store, server->pods, id.namespace, pod, &reply);
        store_reply_clear(&reply);
        if (!ok) {
            cJSON_Delete(status);
            return false;
        }
        ok = store_update_status(server->store, server->pods, id.namespace, id.name, status, &reply);
        /* Serialise once now, as the first list would. */
        if (ok && reply.object) ok = store_object_json(reply.object) != NULL;
        store_reply_clear(&reply);
        if (!ok) return false;
    }
    return true;
}

/* The new state of one pod, made before the run: its main container restarted
 * (restartCount = round, a field the planners read). NULL on failure. */
static cJSON *server_prepare(struct server *server, uint32_t index, int round)
{
    struct pod_id id;
    pod_id(index, &id);
    struct store_error error = { 0 };
    struct store_object *current =
        store_get(server->store, server->pods, id.namespace, id.name, &error);
    if (!current) {
        store_error_clear(&error);
        return NULL;
    }
    cJSON *copy = cJSON_Duplicate(store_object_tree(current), true);
    store_object_release(current);
    cJSON *statuses = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(copy, "status"), "containerStatuses");
    cJSON *item;
    cJSON_ArrayForEach(item, statuses) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "name"));
        cJSON *restarts = cJSON_GetObjectItemCaseSensitive(item, "restartCount");
        if (name && strcmp(name, id.component) == 0 && cJSON_IsNumber(restarts))
            cJSON_SetNumberHelper(restarts, round);
    }
    return copy;
}

/* The timed part: one status write, stamped just before it. */
static bool server_update(struct server *server, uint32_t index)
{
    struct pod_id id;
    pod_id(index, &id);
    cJSON *copy = server->prepared[index];
    server->prepared[index] = NULL;
    if (!copy) return false;
    struct shared *shared = server->shared;
    uint64_t rv = store_resource_version(server->store) + 1;
    uint64_t slot = rv - atomic_load(&shared->base_rv) - 1;
    uint64_t stamp = now_ns();
    if (slot < atomic_load(&shared->capacity))
        atomic_store_explicit(&shared->write_ns[slot], stamp, memory_order_release);
    struct store_reply reply = { 0 };
    bool ok = store_update_status(server->store, server->pods, id.namespace, id.name, copy, &reply) &&
              reply.object && store_object_version(reply.object) == rv;
    store_reply_clear(&reply);
    return ok;
}

static void server_finish_run(struct server *server)
{
    struct ack ack = { .ok = server->run_ok, .written = server->next,
                       .seconds = seconds_since(server->run_start_ns) };
    if (!write_full(server->ack_fd, &ack, sizeof ack)) server->run_ok = false;
}

static void server_write_batch(struct server *server, uint32_t batch)
{
    for (uint32_t k = 0; k < batch && server->next < server->run.count; k++)
        if (!server_update(server, server->next++)) server->run_ok = false;
}

static void on_server_tick(uv_timer_t *timer)
{
    struct server *server = timer->data;
    server_write_batch(server, server->run.batch);
    if (server->next < server->run.count)
        uv_timer_start(&server->timer, on_server_tick, server->run.interval_ms, 0);
    else
        server_finish_run(server);
}

static void on_server_closed(void *data)
{
    struct server *server = data;
    if (--server->closing == 0) {
        uv_poll_stop(&server->commands);
        uv_close((uv_handle_t *)&server->commands, NULL);
        uv_close((uv_handle_t *)&server->timer, NULL);
    }
}

static void on_command(uv_poll_t *poll, int status, int events)
{
    (void)events;
    struct server *server = poll->data;
    struct command command;
    if (status < 0 || !read_full(server->command_fd, &command, sizeof command, 1000))
        command.type = COMMAND_STOP;  /* the parent is gone */
    if (command.type == COMMAND_STOP) {
        uv_poll_stop(&server->commands);
        uv_timer_stop(&server->timer);
        server->closing = 2;
        api_server_close(server->tls, on_server_closed, server);
        api_server_close(server->plain, on_server_closed, server);
        return;
    }
    server->run = command;
    server->next = 0;
    server->run_ok = true;
    for (uint32_t i = 0; i < command.count; i++)
        if (!(server->prepared[i] = server_prepare(server, i, command.round))) server->run_ok = false;
    atomic_store(&server->shared->base_rv, store_resource_version(server->store));
    server->run_start_ns = now_ns();
    atomic_store(&server->shared->first_write_ns, server->run_start_ns);
    if (command.type == COMMAND_BACKLOG) {
        /* Everything at once: the events queue up on the server side. */
        server_write_batch(server, command.count);
        server_finish_run(server);
    } else {
        uv_timer_start(&server->timer, on_server_tick, 0, 0);
    }
}

/* The child's whole life; returns its exit code. */
static int server_main(size_t pod_count, const char *kubeconfig, struct shared *shared,
                       int command_fd, int ack_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct ready ready = { 0 };
    struct server server = { .command_fd = command_fd, .ack_fd = ack_fd, .shared = shared };
    uint64_t start = now_ns();
    server.store = store_new(&(struct store_options){ .history_size = pod_count + 20000,
                                                      .random_seed = 7 });
    if (server.store)
        server.pods = resources_find_storage(store_resources(server.store), "", "pods");
    server.prepared = calloc(pod_count, sizeof *server.prepared);
    if (!server.pods || !server.prepared || !server_fill(&server, pod_count)) {
        snprintf(ready.error, sizeof ready.error, "filling the store failed");
        write_full(ack_fd, &ready, sizeof ready);
        return 1;
    }
    ready.fill_seconds = seconds_since(start);
    const char *ips[] = { "127.0.0.1" };
    const char *dns[] = { "localhost" };
    struct certs_request ca_request = { .common_name = "bench-watch-ca", .valid_seconds = 86400 };
    struct certs_request leaf_request = { .common_name = "kubesim", .dns_names = dns,
                                          .dns_name_count = 1, .ip_addresses = ips,
                                          .ip_address_count = 1, .valid_seconds = 86400 };
    if (certs_make_ca(&ca_request, &server.ca) != 0 ||
        certs_make_leaf(&server.ca, &leaf_request, &server.leaf) != 0) {
        snprintf(ready.error, sizeof ready.error, "making certificates failed");
        write_full(ack_fd, &ready, sizeof ready);
        return 1;
    }
    uv_loop_init(&server.loop);
    struct api_renderer renderer = table_renderer(NULL);
    struct api_server_options tls = {
        .tls_cert_pem = server.leaf.cert_pem, .tls_key_pem = server.leaf.key_pem, .token = TOKEN,
        .watch_max_queued_bytes = (size_t)1 << 30, .renderer = &renderer,
    };
    struct api_server_options plain = { .token = TOKEN, .watch_max_queued_bytes = (size_t)1 << 30,
                                        .renderer = &renderer };
    server.tls = api_server_start(&server.loop, server.store, &tls);
    server.plain = api_server_start(&server.loop, server.store, &plain);
    char url[64], *error = NULL;
    if (server.tls) snprintf(url, sizeof url, "https://127.0.0.1:%d", api_server_port(server.tls));
    if (!server.tls || !server.plain ||
        !kubesim_write_kubeconfig(kubeconfig, url, server.ca.cert_pem, TOKEN, &error)) {
        snprintf(ready.error, sizeof ready.error, "starting the API server failed%s%s",
                 error ? ": " : "", error ? error : "");
        free(error);
        write_full(ack_fd, &ready, sizeof ready);
        return 1;
    }
    ready.ok = 1;
    ready.tls_port = api_server_port(server.tls);
    ready.plain_port = api_server_port(server.plain);
    uv_timer_init(&server.loop, &server.timer);
    server.timer.data = &server;
    uv_poll_init(&server.loop, &server.commands, command_fd);
    server.commands.data = &server;
    uv_poll_start(&server.commands, UV_READABLE, on_command);
    if (!write_full(ack_fd, &ready, sizeof ready)) return 1;
    uv_run(&server.loop, UV_RUN_DEFAULT);
    uv_loop_close(&server.loop);
    for (size_t i = 0; i < pod_count; i++) cJSON_Delete(server.prepared[i]);
    free(server.prepared);
    store_free(server.store);
    certs_pair_free(&server.ca);
    certs_pair_free(&server.leaf);
    return 0;
}

/* ---- child processes (kubectl, node, npm) --------------------------------------------------- */

struct run_result {
    bool started;
    bool timed_out;
    int exit_code;       /* or 128 + signal */
    double seconds;
    long maxrss_kib;     /* ru_maxrss of the child */
};

/* Runs argv (PATH lookup) in `cwd` with stdout/stderr to files (NULL: /dev/null). */
static void run_command(char *const argv[], const char *cwd, const char *stdout_path,
                        const char *stderr_path, int timeout_ms, struct run_result *out)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    fflush(NULL);
    uint64_t start = now_ns();
    pid_t pid = fork();
    if (pid < 0) return;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int o = open(stdout_path ? stdout_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(stderr_path ? stderr_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0 || (cwd && chdir(cwd) != 0)) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    out->started = true;
    uint64_t deadline = start + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int status = 0;
        struct rusage usage;
        pid_t done = wait4(pid, &status, WNOHANG, &usage);
        if (done == pid) {
            out->seconds = seconds_since(start);
            out->maxrss_kib = usage.ru_maxrss;
            if (out->timed_out) out->exit_code = -1;
            else out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return;
        }
        if (done < 0 && errno != EINTR) return;
        if (!out->timed_out && now_ns() > deadline) {
            out->timed_out = true;
            kill(pid, SIGKILL);
        }
        struct timespec pause = { 0, 2000000 };
        nanosleep(&pause, NULL);
    }
}

static char *read_text_file(const char *path)
{
    char *data = NULL;
    size_t length = 0;
    return kube_credentials_read_file(path, &data, &length) ? data : NULL;
}

static bool write_text_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (!file) return false;
    bool ok = fputs(text, file) >= 0;
    return fclose(file) == 0 && ok;
}

/* The last non-empty line of a file, trimmed to fit `out` (for "skipped: <reason>"). */
static void last_line(const char *path, const char *needle, char *out, size_t size)
{
    snprintf(out, size, "no output");
    char *text = read_text_file(path);
    if (!text) return;
    char *line = strtok(text, "\n");
    bool found = false;
    while (line) {
        while (*line == ' ') line++;
        if (*line && (!needle || strstr(line, needle))) {
            snprintf(out, size, "%s", line);
            found = true;
        } else if (*line && !found) {
            snprintf(out, size, "%s", line);
        }
        line = strtok(NULL, "\n");
    }
    free(text);
}

static bool on_path(const char *program)
{
    const char *path = getenv("PATH");
    if (!path) return false;
    char *copy = strdup(path);
    bool found = false;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", dir, program);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* ---- peers: kubectl and client-node ---------------------------------------------------------- */

struct peers {
    char dir[256];
    bool kubectl;
    char kubectl_version[128];
    bool node;                   /* client-node installed and loadable */
    char node_version[64];
    char client_node_version[64];
    char node_note[512];         /* why not, or which version and why */
};

static const char NODE_SCRIPT[] =
    "import * as k8s from '@kubernetes/client-node';\n"
    "const [mode, kubeconfig, selector] = process.argv.slice(2);\n"
    "if (mode === 'probe') process.exit(0);\n"
    "const rssBefore = process.memoryUsage().rss;\n"
    "const kc = new k8s.KubeConfig();\n"
    "kc.loadFromFile(kubeconfig);\n"
    "const api = kc.makeApiClient(k8s.CoreV1Api);\n"
    "const list = () => api.listPodForAllNamespaces({ labelSelector: selector });\n"
    "const informer = k8s.makeInformer(kc, '/api/v1/pods', list, selector);\n"
    "let error = null;\n"
    "informer.on('error', (e) => { error = String((e && e.message) || e); });\n"
    "const t0 = process.hrtime.bigint();\n"
    "try { await informer.start(); } catch (e) { error = String((e && e.message) || e); }\n"
    "const syncMs = Number(process.hrtime.bigint() - t0) / 1e6;\n"
    "const count = informer.list().length;\n"
    "const rss = process.memoryUsage().rss;\n"
    "if (global.gc) global.gc();\n"
    "const m = process.memoryUsage();\n"
    "console.log(JSON.stringify({ count, syncMs, rssBefore, rss, rssGc: m.rss, heapUsed: m.heapUsed,"
    " error }));\n"
    "process.exit(0);\n";

/* Installs `spec` and checks that it loads; true when usable. */
static bool client_node_try(struct peers *peers, const char *spec, char *why, size_t why_size)
{
    char log_path[512], script[512], package[512];
    snprintf(log_path, sizeof log_path, "%s/npm.log", peers->dir);
    char *install[] = { "npm", "install", "--no-audit", "--no-fund", (char *)spec, NULL };
    struct run_result result;
    run_command(install, peers->dir, log_path, log_path, NPM_TIMEOUT_MS, &result);
    if (result.exit_code != 0) {
        char line[256];
        last_line(log_path, "ERR", line, sizeof line);
        snprintf(why, why_size, "npm install %s %s: %s", spec,
                 result.timed_out ? "timed out" : "failed", line);
        return false;
    }
    snprintf(package, sizeof package, "%s/node_modules/@kubernetes/client-node/package.json",
             peers->dir);
    char *text = read_text_file(package);
    cJSON *json = text ? cJSON_Parse(text) : NULL;
    const char *version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "version"));
    snprintf(peers->client_node_version, sizeof peers->client_node_version, "%s",
             version ? version : "?");
    cJSON_Delete(json);
    free(text);
    snprintf(script, sizeof script, "%s/informer.mjs", peers->dir);
    char *probe[] = { "node", script, "probe", NULL };
    char probe_log[512];
    snprintf(probe_log, sizeof probe_log, "%s/probe.log", peers->dir);
    run_command(probe, peers->dir, probe_log, probe_log, 60000, &result);
    if (result.exit_code != 0) {
        char line[256];
        last_line(probe_log, "Error", line, sizeof line);
        snprintf(why, why_size, "%s %s does not load on Node %s (%s)", spec,
                 peers->client_node_version, peers->node_version, line);
        return false;
    }
    return true;
}

static void peers_prepare(struct peers *peers)
{
    char path[512], out_path[512];
    peers->kubectl = on_path("kubectl");
    snprintf(out_path, sizeof out_path, "%s/version.out", peers->dir);
    if (peers->kubectl) {
        char *argv[] = { "kubectl", "version", "--client", NULL };
        struct run_result result;
        run_command(argv, NULL, out_path, NULL, 30000, &result);
        last_line(out_path, "Client Version", peers->kubectl_version,
                  sizeof peers->kubectl_version);
    }
    if (!on_path("node") || !on_path("npm")) {
        snprintf(peers->node_note, sizeof peers->node_note, "skipped: %s not on PATH",
                 on_path("node") ? "npm" : "node");
        return;
    }
    char *argv[] = { "node", "--version", NULL };
    struct run_result result;
    run_command(argv, NULL, out_path, NULL, 30000, &result);
    last_line(out_path, NULL, peers->node_version, sizeof peers->node_version);
    snprintf(path, sizeof path, "%s/informer.mjs", peers->dir);
    if (!write_text_file(path, NODE_SCRIPT)) {
        snprintf(peers->node_note, sizeof peers->node_note, "skipped: cannot write %s", path);
        return;
    }
    char why[512] = "";
    if (client_node_try(peers, "@kubernetes/client-node", why, sizeof why)) {
        peers->node = true;
        snprintf(peers->node_note, sizeof peers->node_note, "@kubernetes/client-node %s",
                 peers->client_node_version);
        return;
    }
    /* The newest release may need a newer Node than the one installed. */
    char first[512];
    snprintf(first, sizeof first, "%s", why);
    if (strstr(why, "does not load") &&
        client_node_try(peers, "@kubernetes/client-node@1", why, sizeof why)) {
        peers->node = true;
        snprintf(peers->node_note, sizeof peers->node_note,
                 "@kubernetes/client-node %s (the newest 1.x: %.300s)", peers->client_node_version,
                 first);
        return;
    }
    snprintf(peers->node_note, sizeof peers->node_note, "skipped: %.500s", why);
}

struct kubectl_result {
    bool ran;
    bool ok;
    double seconds;
    double peak_bytes;
    char error[256];
};

static void run_kubectl(const struct peers *peers, const char *kubeconfig,
                        struct kubectl_result *out)
{
    memset(out, 0, sizeof *out);
    if (!peers->kubectl) return;
    char cache[512], err_path[512];
    snprintf(cache, sizeof cache, "%s/kube-cache", peers->dir);
    snprintf(err_path, sizeof err_path, "%s/kubectl.err", peers->dir);
    /* Discovery first (cached in --cache-dir), as a user's kubectl usually has it. */
    char *discover[] = { "kubectl", "--kubeconfig", (char *)kubeconfig, "--cache-dir", cache,
                         "api-resources", NULL };
    struct run_result result;
    run_command(discover, NULL, NULL, NULL, PEER_TIMEOUT_MS, &result);
    char *argv[] = { "kubectl", "--kubeconfig", (char *)kubeconfig, "--cache-dir", cache,
                     "get", "pods", "-A", "-o", "json", NULL };
    run_command(argv, NULL, NULL, err_path, PEER_TIMEOUT_MS, &result);
    out->ran = true;
    out->ok = result.exit_code == 0;
    out->seconds = result.seconds;
    out->peak_bytes = (double)result.maxrss_kib * 1024.0;
    if (!out->ok) {
        char line[200];
        last_line(err_path, NULL, line, sizeof line);
        snprintf(out->error, sizeof out->error, "%s (exit %d)",
                 result.timed_out ? "timed out" : line, result.exit_code);
    }
}

struct node_result {
    bool ran;
    bool ok;
    double seconds;        /* process wall time */
    double sync_seconds;   /* informer.start() until synced, as the script measured */
    double rss_before;     /* after loading the library, before the informer */
    double rss;            /* after sync */
    double rss_gc;         /* after sync and a full GC */
    double heap_used;
    double peak_bytes;     /* ru_maxrss */
    long count;
    char error[300];
};

static void run_node(const struct peers *peers, const char *kubeconfig, struct node_result *out)
{
    memset(out, 0, sizeof *out);
    if (!peers->node) return;
    char script[512], out_path[512], err_path[512];
    snprintf(script, sizeof script, "%s/informer.mjs", peers->dir);
    snprintf(out_path, sizeof out_path, "%s/node.out", peers->dir);
    snprintf(err_path, sizeof err_path, "%s/node.err", peers->dir);
    char *argv[] = { "node", "--expose-gc", "--max-old-space-size=8192", script, "run",
                     (char *)kubeconfig, (char *)SELECTOR, NULL };
    struct run_result result;
    run_command(argv, peers->dir, out_path, err_path, PEER_TIMEOUT_MS, &result);
    out->ran = true;
    out->seconds = result.seconds;
    out->peak_bytes = (double)result.maxrss_kib * 1024.0;
    char *text = read_text_file(out_path);
    cJSON *json = NULL;
    for (char *line = text ? strtok(text, "\n") : NULL; line && !json; line = strtok(NULL, "\n"))
        if (line[0] == '{') json = cJSON_Parse(line);
    free(text);
    if (result.exit_code != 0 || !json) {
        char line[200];
        last_line(err_path, NULL, line, sizeof line);
        snprintf(out->error, sizeof out->error, "%s (exit %d)",
                 result.timed_out ? "timed out" : line, result.exit_code);
        cJSON_Delete(json);
        return;
    }
    out->count = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "count"));
    out->sync_seconds = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "syncMs")) / 1e3;
    out->rss_before = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "rssBefore"));
    out->rss = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "rss"));
    out->rss_gc = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "rssGc"));
    out->heap_used = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "heapUsed"));
    const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "error"));
    out->ok = error == NULL;
    if (error) snprintf(out->error, sizeof out->error, "%s", error);
    cJSON_Delete(json);
}

/* ---- the informer side ------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *timer)
{
    (void)timer;
}

/* Runs the loop until done(data) or the timeout; returns done(data). */
static bool run_until(uv_loop_t *loop, bool (*done)(void *), void *data, uint64_t timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 20, 20);
    uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
    while (!done(data) && now_ns() < deadline)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return done(data);
}

static bool flag_set(void *data)
{
    return *(bool *)data;
}

static void set_flag(void *data)
{
    *(bool *)data = true;
}

/* What the handlers see. */
struct watch_state {
    struct shared *shared;
    uint64_t adds, updates, deletes;
    /* The update run being measured. */
    uint64_t expected;
    uint64_t seen;
    uint64_t last_seen_ns;
    uint64_t *latency_ns;
    uint64_t latency_count;
};

static void on_add(void *data, const struct object_meta *object)
{
    (void)object;
    ((struct watch_state *)data)->adds++;
}

static void on_update(void *data, const struct object_meta *old, const struct object_meta *now)
{
    (void)old;
    struct watch_state *state = data;
    state->updates++;
    uint64_t base = atomic_load_explicit(&state->shared->base_rv, memory_order_acquire);
    if (now->rv <= base || now->rv > base + state->expected) return;
    uint64_t t = now_ns();
    uint64_t written =
        atomic_load_explicit(&state->shared->write_ns[now->rv - base - 1], memory_order_acquire);
    if (written != 0 && t >= written) state->latency_ns[state->latency_count++] = t - written;
    state->seen++;
    state->last_seen_ns = t;
}

static void on_delete(void *data, const struct object_meta *object)
{
    (void)object;
    ((struct watch_state *)data)->deletes++;
}

static bool informer_is_synced(void *data)
{
    return informer_synced(data);
}

static bool all_seen(void *data)
{
    struct watch_state *state = data;
    return state->seen >= state->expected;
}

struct fetch {
    bool done;
    long status;
    long http_version;
    enum http_client_error error;
    char *body;
    size_t length;
    char message[200];
};

static void on_fetched(struct http_client_request *request, struct http_client_response *response,
                       void *data)
{
    (void)request;
    struct fetch *fetch = data;
    fetch->done = true;
    fetch->status = response->status;
    fetch->error = response->error;
    fetch->http_version = response->http_version;
    snprintf(fetch->message, sizeof fetch->message, "%s", response->error_message);
    fetch->length = response->body_length;
    if (response->error == HTTP_ERROR_NONE) fetch->body = http_client_response_take_body(response);
}

/* Everything measured at one size. */
struct figures {
    size_t pods;
    bool failed;
    char failure[300];
    double fill_seconds;
    /* The list. */
    double list_bytes;
    double fetch_seconds;
    long http_version;
    double parse_seconds;
    /* Informer syncs. */
    double sync_plain;                       /* best of SYNC_ROUNDS */
    double sync_tls, sync_tls_cpu;           /* best of SYNC_ROUNDS, and that run's CPU */
    double sync_tls_rounds[SYNC_ROUNDS];     /* every timed HTTPS run */
    double sync_measured, sync_measured_cpu; /* the HTTPS run that measures memory */
    uint64_t pages;
    double rss_before, rss_after, rss_trimmed, heap_delta;
    double projection_bytes, index_bytes, pool_bytes;
    size_t pool_strings;
    /* Peers. */
    struct kubectl_result kubectl;
    struct node_result node;
    /* Watch. */
    double live_seconds, live_cpu, live_server_seconds;
    uint64_t live_events;
    double live_p50, live_p99, live_max;
    double paced_p50, paced_p99, paced_max;
    uint64_t paced_events;
    double paced_seconds;
    double backlog_seconds, backlog_cpu, backlog_server_seconds;
    uint64_t backlog_events;
    uint64_t relists, watch_failures, bad_events;
};

/* Counts what the cache holds, with the caches' own accounting (allocations
 * as malloc holds them: usable size plus header). */
static void account_cache(const struct cache *cache, const struct string_pool *pool,
                          struct figures *out)
{
    size_t total = cache_memory_bytes(cache), index = cache_index_bytes(cache);
    out->projection_bytes = (double)(total - index);
    out->index_bytes = (double)index;
    out->pool_bytes = (double)string_pool_memory_bytes(pool);
    out->pool_strings = string_pool_count(pool);
}

struct client_side {
    uv_loop_t loop;
    struct http_client *http;
    struct kube_connection tls;
    struct kube_connection plain;
};

static int new_client(struct client_side *side, struct kube_connection *connection,
                      struct kube_client **out)
{
    /* The operator's client settings: the defaults (qps 50, burst 100, 30 s per request). */
    struct kube_client_options options = { .loop = &side->loop, .http = side->http,
                                           .connection = connection };
    return kube_client_new(&options, out);
}

static void close_client(struct client_side *side, struct kube_client *client)
{
    bool closed = false;
    kube_client_close(client, set_flag, &closed);
    run_until(&side->loop, flag_set, &closed, 10000);
}

static void close_informer(struct client_side *side, struct informer *informer)
{
    bool closed = false;
    informer_close(informer, set_flag, &closed);
    run_until(&side->loop, flag_set, &closed, 10000);
}

/* One informer synced from nothing on `connection` with a fresh client, pool
 * and cache, then closed: its wall time (0 when it did not sync), and its
 * process CPU in *cpu. */
static double time_one_sync(struct client_side *side, struct kube_connection *connection,
                            struct informer_options options,
                            const struct informer_handlers *handlers, double *cpu)
{
    struct string_pool pool;
    struct kube_client *client = NULL;
    struct informer *informer = NULL;
    double seconds = 0;
    string_pool_init(&pool);
    options.pool = &pool;
    if (new_client(side, connection, &client) == 0) {
        options.client = client;
        if (informer_new(&options, &informer) == 0 && informer_add_handlers(informer, handlers) == 0) {
            double cpu_start = cpu_seconds();
            uint64_t start = now_ns();
            if (informer_start(informer) == 0 &&
                run_until(&side->loop, informer_is_synced, informer, LOOP_TIMEOUT_MS)) {
                seconds = seconds_since(start);
                *cpu = cpu_seconds() - cpu_start;
            }
        }
        if (informer) close_informer(side, informer);
        close_client(side, client);
    }
    string_pool_free(&pool);
    malloc_trim(0);
    return seconds;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void percentiles(uint64_t *values, uint64_t count, double *p50, double *p99, double *max)
{
    *p50 = *p99 = *max = 0;
    if (count == 0) return;
    qsort(values, count, sizeof *values, compare_u64);
    *p50 = (double)values[count / 2] / 1e6;
    *p99 = (double)values[count * 99 / 100] / 1e6;
    *max = (double)values[count - 1] / 1e6;
}

static bool send_command(int fd, const struct command *command)
{
    return write_full(fd, command, sizeof *command);
}

/* One watch run: the server updates pods 0..count-1; the informer must see each. */
static bool watch_run(struct client_side *side, struct watch_state *state, int command_fd,
                      int ack_fd, const struct command *command, double *seconds, double *cpu,
                      double *server_seconds)
{
    struct shared *shared = state->shared;
    for (uint32_t i = 0; i < command->count; i++) atomic_store(&shared->write_ns[i], 0);
    state->expected = command->count;
    state->seen = 0;
    state->latency_count = 0;
    /* Until the server sets the run's base, no event can match. */
    atomic_store(&shared->base_rv, UINT64_MAX / 2);
    if (!send_command(command_fd, command)) return false;
    struct ack ack = { 0 };
    uint64_t start;
    double cpu_start;
    if (command->type == COMMAND_BACKLOG) {
        /* Not reading meanwhile: every event waits in the server's queues. */
        if (!read_full(ack_fd, &ack, sizeof ack, LOOP_TIMEOUT_MS)) return false;
        start = now_ns();
        cpu_start = cpu_seconds();
        run_until(&side->loop, all_seen, state, LOOP_TIMEOUT_MS);
    } else {
        cpu_start = cpu_seconds();
        run_until(&side->loop, all_seen, state, LOOP_TIMEOUT_MS);
        start = atomic_load(&shared->first_write_ns);
        if (!read_full(ack_fd, &ack, sizeof ack, LOOP_TIMEOUT_MS)) return false;
    }
    *cpu = cpu_seconds() - cpu_start;
    *seconds = state->seen && state->last_seen_ns > start
                   ? (double)(state->last_seen_ns - start) / 1e9
                   : 0;
    *server_seconds = ack.seconds;
    return ack.ok && state->seen == command->count;
}

static void fail(struct figures *figures, const char *what)
{
    if (!figures->failed) snprintf(figures->failure, sizeof figures->failure, "%s", what);
    figures->failed = true;
}

/* The informer process's side of one size. */
static void measure_client(struct figures *figures, const struct peers *peers,
                           const char *kubeconfig, int plain_port, struct shared *shared,
                           int command_fd, int ack_fd)
{
    struct client_side side = { 0 };
    char *error = NULL;
    if (uv_loop_init(&side.loop) != 0 || !(side.http = http_client_init(&side.loop, NULL))) {
        fail(figures, "cannot start the HTTP client");
        return;
    }
    if (!kube_credentials_load(kubeconfig, NULL, &side.tls, &error)) {
        fail(figures, error ? error : "cannot load the kubeconfig");
        free(error);
        goto out;
    }
    char plain_url[64];
    snprintf(plain_url, sizeof plain_url, "http://127.0.0.1:%d", plain_port);
    side.plain.server = strdup(plain_url);
    side.plain.token = strdup(TOKEN);
    side.plain.namespace = strdup("default");

    /* 1. The parsing floor: the whole list body once, then cJSON_Parse alone on it. */
    struct buffer path = { 0 };
    struct kube_list_options list_options = { .label_selector = SELECTOR };
    kube_list_path(&path, &kube_resource_pods, NULL, &list_options, false);
    struct http_client_profile *profile = http_client_profile_create(
        &(struct http_client_profile_options){ .base_url = side.tls.server,
                                               .bearer_token = side.tls.token,
                                               .ca_pem = side.tls.certificate_authority_data });
    struct fetch fetch = { 0 };
    struct http_client_request_options request = {
        .method = HTTP_CLIENT_GET, .url = buffer_string(&path), .profile = profile,
        .headers = (const char *const[]){ "Accept: application/json", NULL },
        .timeout_ms = LOOP_TIMEOUT_MS, .max_body_bytes = (size_t)4 << 30,
        .on_complete = on_fetched, .user_data = &fetch,
    };
    uint64_t start = now_ns();
    if (!profile || !http_client_request_start(side.http, &request)) fetch.done = true;
    run_until(&side.loop, flag_set, &fetch.done, LOOP_TIMEOUT_MS);
    figures->fetch_seconds = seconds_since(start);
    http_client_profile_unref(profile);
    buffer_free(&path);
    if (!fetch.body || fetch.status != 200) {
        char why[300];
        snprintf(why, sizeof why, "list fetch failed: status %ld, %s", fetch.status, fetch.message);
        fail(figures, why);
        free(fetch.body);
        goto out;
    }
    figures->list_bytes = (double)fetch.length;
    figures->http_version = fetch.http_version;
    figures->parse_seconds = 0;

    /* 2. The peers, one at a time, on the same server. */
    run_kubectl(peers, kubeconfig, &figures->kubectl);
    run_node(peers, kubeconfig, &figures->node);
    if (figures->node.ok && figures->node.count != (long)figures->pods) {
        figures->node.ok = false;
        snprintf(figures->node.error, sizeof figures->node.error, "saw %ld pods, not %zu",
                 figures->node.count, figures->pods);
    }

    /* 3. Rounds of: the parse floor, an informer over plain HTTP, one over
     * HTTPS (each informer from nothing, with a fresh client and cache).
     * Interleaved, so that a machine that speeds up or slows down over the
     * minutes of a run moves the floor and the syncs alike; best of
     * SYNC_ROUNDS each. */
    struct string_pool pool;
    struct watch_state state = { .shared = shared };
    struct informer_handlers handlers = { on_add, on_update, on_delete, &state };
    struct kube_client *client = NULL;
    struct informer *informer = NULL;
    struct informer_options options = {
        .loop = &side.loop, .resource = &kube_resource_pods, .kind = &object_kind_pod,
        .label_selector = SELECTOR,
    };
    for (int round = 0; round < SYNC_ROUNDS && !figures->failed; round++) {
        start = now_ns();
        cJSON *list = cJSON_ParseWithLength(fetch.body, fetch.length);
        double seconds = seconds_since(start);
        int items = list ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "items")) : -1;
        cJSON_Delete(list);
        malloc_trim(0);
        if (items != (int)figures->pods) {
            fail(figures, "the list body does not hold every pod");
            break;
        }
        if (figures->parse_seconds == 0 || seconds < figures->parse_seconds) figures->parse_seconds = seconds;
        double cpu = 0;
        seconds = time_one_sync(&side, &side.plain, options, &handlers, &cpu);
        if (seconds <= 0) fail(figures, "the plain-HTTP informer did not sync");
        else if (figures->sync_plain == 0 || seconds < figures->sync_plain) figures->sync_plain = seconds;
        seconds = time_one_sync(&side, &side.tls, options, &handlers, &cpu);
        if (seconds <= 0) fail(figures, "the HTTPS informer did not sync");
        figures->sync_tls_rounds[round] = seconds;
        if (figures->sync_tls == 0 || seconds < figures->sync_tls) {
            figures->sync_tls = seconds;
            figures->sync_tls_cpu = cpu;
        }
    }
    free(fetch.body);
    fetch.body = NULL;
    malloc_trim(0);
    if (figures->failed) goto out;

    /* 4. The measured informer: HTTPS, memory before and after. */
    string_pool_init(&pool);
    state.adds = 0;
    if (new_client(&side, &side.tls, &client) != 0) {
        fail(figures, "cannot make the kube client");
        goto out_pool;
    }
    options.client = client;
    options.pool = &pool;
    if (informer_new(&options, &informer) != 0 || informer_add_handlers(informer, &handlers) != 0) {
        fail(figures, "cannot make the informer");
        goto out_client;
    }
    malloc_trim(0);
    figures->rss_before = (double)rss_bytes();
    double heap_before = (double)heap_bytes();
    double cpu_start = cpu_seconds();
    start = now_ns();
    if (informer_start(informer) != 0 ||
        !run_until(&side.loop, informer_is_synced, informer, LOOP_TIMEOUT_MS)) {
        fail(figures, "the HTTPS informer did not sync");
        goto out_informer;
    }
    figures->sync_measured = seconds_since(start);
    figures->sync_measured_cpu = cpu_seconds() - cpu_start;
    figures->rss_after = (double)rss_bytes();
    figures->heap_delta = (double)heap_bytes() - heap_before;
    struct informer_stats stats;
    informer_get_stats(informer, &stats);
    figures->pages = stats.list_pages;
    const struct cache *cache = informer_cache(informer);
    if (cache_count(cache) != figures->pods || state.adds != figures->pods) {
        fail(figures, "the informer's cache does not hold every pod");
        goto out_informer;
    }
    account_cache(cache, &pool, figures);
    malloc_trim(0);
    figures->rss_trimmed = (double)rss_bytes();

    /* 5. Watch: the stream must be started (events after the list RV are replayed anyway). */
    for (int i = 0; i < 100; i++) {
        informer_get_stats(informer, &stats);
        if (stats.watches > 0) break;
        bool not_yet = false;
        run_until(&side.loop, flag_set, &not_yet, 10);
    }
    bool settle = false;
    run_until(&side.loop, flag_set, &settle, 300);
    size_t capacity = (size_t)atomic_load(&shared->capacity);
    state.latency_ns = calloc(capacity, sizeof *state.latency_ns);
    if (!state.latency_ns) {
        fail(figures, "out of memory");
        goto out_informer;
    }
    /* 5a. Live: the server writes batches of LIVE_BATCH as fast as it can while the informer reads. */
    struct command live = { .type = COMMAND_LIVE, .round = 1, .count = (uint32_t)figures->pods,
                            .batch = LIVE_BATCH, .interval_ms = 0 };
    if (!watch_run(&side, &state, command_fd, ack_fd, &live, &figures->live_seconds,
                   &figures->live_cpu, &figures->live_server_seconds))
        fail(figures, "the live watch run did not complete");
    figures->live_events = state.seen;
    percentiles(state.latency_ns, state.latency_count, &figures->live_p50, &figures->live_p99,
                &figures->live_max);
    /* 5b. Paced: small batches well under capacity, for latency without queueing. */
    uint32_t paced_count = figures->pods < PACED_COUNT ? (uint32_t)figures->pods : PACED_COUNT;
    struct command paced = { .type = COMMAND_LIVE, .round = 2, .count = paced_count,
                             .batch = PACED_BATCH, .interval_ms = PACED_INTERVAL_MS };
    double ignored_cpu, ignored_server;
    if (!figures->failed &&
        !watch_run(&side, &state, command_fd, ack_fd, &paced, &figures->paced_seconds,
                   &ignored_cpu, &ignored_server))
        fail(figures, "the paced watch run did not complete");
    figures->paced_events = state.seen;
    percentiles(state.latency_ns, state.latency_count, &figures->paced_p50, &figures->paced_p99,
                &figures->paced_max);
    /* 5c. Backlog: every update queued first, then the informer drains them on one core. */
    struct command backlog = { .type = COMMAND_BACKLOG, .round = 3,
                               .count = (uint32_t)figures->pods };
    if (!figures->failed &&
        !watch_run(&side, &state, command_fd, ack_fd, &backlog, &figures->backlog_seconds,
                   &figures->backlog_cpu, &figures->backlog_server_seconds))
        fail(figures, "the backlog watch run did not complete");
    figures->backlog_events = state.seen;
    informer_get_stats(informer, &stats);
    figures->relists = stats.lists - 1;
    figures->watch_failures = stats.failures;
    figures->bad_events = stats.bad_events;
    free(state.latency_ns);
out_informer:
    close_informer(&side, informer);
out_client:
    close_client(&side, client);
out_pool:
    string_pool_free(&pool);
out:
    if (side.http) {
        bool closed = false;
        http_client_close(side.http, set_flag, &closed);
        run_until(&side.loop, flag_set, &closed, 10000);
    }
    uv_run(&side.loop, UV_RUN_DEFAULT);
    uv_loop_close(&side.loop);
    kube_connection_free(&side.tls);
    kube_connection_free(&side.plain);
    malloc_trim(0);
}

/* One size: fork the server, measure, stop the server. */
static void measure(size_t pods, const struct peers *peers, struct shared *shared,
                    struct figures *figures)
{
    memset(figures, 0, sizeof *figures);
    figures->pods = pods;
    char kubeconfig[512];
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-%zu", peers->dir, pods);
    int commands[2], acks[2];
    if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(acks, O_CLOEXEC) != 0) {
        fail(figures, "pipe failed");
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(commands[1]);
        close(acks[0]);
        _exit(server_main(pods, kubeconfig, shared, commands[0], acks[1]));
    }
    close(commands[0]);
    close(acks[1]);
    if (pid < 0) {
        fail(figures, "fork failed");
        close(commands[1]);
        close(acks[0]);
        return;
    }
    struct ready ready = { 0 };
    if (!read_full(acks[0], &ready, sizeof ready, SERVER_READY_TIMEOUT_MS) || !ready.ok) {
        fail(figures, ready.error[0] ? ready.error : "the server process did not start");
    } else {
        figures->fill_seconds = ready.fill_seconds;
        measure_client(figures, peers, kubeconfig, ready.plain_port, shared, commands[1], acks[0]);
    }
    struct command stop = { .type = COMMAND_STOP };
    send_command(commands[1], &stop);
    close(commands[1]);
    close(acks[0]);
    for (int waited = 0;; waited += 10) {
        int status;
        if (waitpid(pid, &status, WNOHANG) != 0) break;
        if (waited > 20000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec pause = { 0, 10000000 };
        nanosleep(&pause, NULL);
    }
    unlink(kubeconfig);
}

/* ---- output ---------------------------------------------------------------------------------------- */

static const char *met(bool ok)
{
    return ok ? "MET" : "NOT MET";
}

static void print_figures(const struct figures *f, const struct peers *peers)
{
    double n = (double)f->pods;
    printf("\n== %zu pods (%zu clusters of %d, %d namespaces, %zu nodes); store filled in %.1f s "
           "(server process)\n",
           f->pods, f->pods / PODS_PER_CLUSTER, PODS_PER_CLUSTER, NAMESPACES,
           (f->pods + PODS_PER_NODE - 1) / PODS_PER_NODE, f->fill_seconds);
    if (f->failed) printf("  FAILED: %s (figures below may be incomplete)\n", f->failure);
    if (f->list_bytes <= 0) return;
    double json_per_pod = f->list_bytes / n;
    printf("  list         %.1f MiB of JSON, %.0f B/pod; whole list fetched over HTTPS (HTTP/%ld) "
           "in %.3f s\n",
           mib(f->list_bytes), json_per_pod, f->http_version, f->fetch_seconds);

    /* Sync. */
    printf("  sync         informer HTTPS %.3f s, best of %d (runs", f->sync_tls, SYNC_ROUNDS);
    for (int round = 0; round < SYNC_ROUNDS; round++) printf(" %.3f", f->sync_tls_rounds[round]);
    printf("; %" PRIu64 " pages of 500; informer process CPU %.3f s, the rest waiting for the "
           "server and the transfer)\n", f->pages, f->sync_tls_cpu);
    printf("                 (the memory run below: %.3f s, CPU %.3f s; rounds interleave floor, "
           "plain and HTTPS)\n", f->sync_measured, f->sync_measured_cpu);
    printf("                 vs cJSON_Parse floor (best of %d) %.3f s: %.2fx (CPU %.2fx)\n", SYNC_ROUNDS,
           f->parse_seconds, f->sync_tls / f->parse_seconds, f->sync_tls_cpu / f->parse_seconds);
    if (f->sync_plain > 0)
        printf("                 informer over plain HTTP %.3f s (best of %d): %.2fx the floor\n",
               f->sync_plain, SYNC_ROUNDS, f->sync_plain / f->parse_seconds);
    if (!peers->kubectl)
        printf("                 vs kubectl: skipped: kubectl not on PATH\n");
    else if (!f->kubectl.ok)
        printf("                 vs kubectl: failed: %s\n", f->kubectl.error);
    else
        printf("                 vs kubectl get pods -A -o json > /dev/null %.3f s (discovery "
               "cached): %.2fx\n",
               f->kubectl.seconds, f->sync_tls / f->kubectl.seconds);
    if (!peers->node)
        printf("                 vs client-node: %s\n", peers->node_note);
    else if (!f->node.ok)
        printf("                 vs client-node: failed: %s\n", f->node.error);
    else
        printf("                 vs client-node informer %.3f s to sync: %.2fx (process run %.3f s)\n",
               f->node.sync_seconds, f->sync_tls / f->node.sync_seconds, f->node.seconds);

    /* Memory. */
    double delta = f->rss_after - f->rss_before;
    printf("  memory       informer RSS +%.1f MiB (%.1f -> %.1f MiB process), heap in use +%.1f MiB; "
           "+%.1f MiB once malloc_trim(0) returned the freed list-processing memory\n",
           mib(delta), mib(f->rss_before), mib(f->rss_after), mib(f->heap_delta),
           mib(f->rss_trimmed - f->rss_before));
    if (peers->kubectl && f->kubectl.ok)
        printf("                 vs kubectl peak RSS %.1f MiB: %.4fx (%.0fx less); whole process "
               "%.4fx (%.0fx less)\n",
               mib(f->kubectl.peak_bytes), delta / f->kubectl.peak_bytes, f->kubectl.peak_bytes / delta,
               f->rss_after / f->kubectl.peak_bytes, f->kubectl.peak_bytes / f->rss_after);
    if (peers->node && f->node.ok) {
        double node_delta = f->node.rss_gc - f->node.rss_before;
        printf("                 vs client-node RSS %.1f MiB after sync+GC (%.1f before GC, peak "
               "%.1f, heap used %.1f; +%.1f MiB over its %.1f MiB before the informer)\n",
               mib(f->node.rss_gc), mib(f->node.rss), mib(f->node.peak_bytes), mib(f->node.heap_used),
               mib(node_delta), mib(f->node.rss_before));
        printf("                   delta vs delta %.4fx (%.0fx less); whole process %.4fx (%.0fx "
               "less)\n",
               delta / node_delta, node_delta / delta, f->rss_after / f->node.rss_gc,
               f->node.rss_gc / f->rss_after);
    }
    /* Bytes per pod. */
    double counted = (f->projection_bytes + f->index_bytes + f->pool_bytes) / n;
    printf("  bytes/pod    cache %.0f B/pod by RSS delta (%.0f by heap delta) vs JSON %.0f B/pod: "
           "%.3fx (%.1fx smaller)\n",
           delta / n, f->heap_delta / n, json_per_pod, (delta / n) / json_per_pod,
           json_per_pod / (delta / n));
    printf("                 counted here: projections %.0f + indexes %.0f + string pool %.0f "
           "(%zu strings, shared) = %.0f B/pod\n",
           f->projection_bytes / n, f->index_bytes / n, f->pool_bytes / n, f->pool_strings, counted);

    /* Watch. */
    if (f->live_events)
        printf("  watch live   %" PRIu64 " updates in batches of %d: %.3f s first write -> last "
               "handler = %.0f events/s (informer CPU %.3f s = %.0f events/CPU-s, busy %.0f%% of "
               "the time; the server took %.3f s to write them)\n"
               "                 store write -> handler latency p50 %.2f ms, p99 %.2f ms, max "
               "%.2f ms (queueing included)\n",
               f->live_events, LIVE_BATCH, f->live_seconds, (double)f->live_events / f->live_seconds,
               f->live_cpu, (double)f->live_events / f->live_cpu,
               100.0 * f->live_cpu / f->live_seconds, f->live_server_seconds, f->live_p50,
               f->live_p99, f->live_max);
    if (f->paced_events)
        printf("  watch paced  %" PRIu64 " updates, %d every %d ms (%.0f/s offered): latency p50 "
               "%.2f ms, p99 %.2f ms, max %.2f ms\n",
               f->paced_events, PACED_BATCH, PACED_INTERVAL_MS,
               PACED_BATCH * 1000.0 / PACED_INTERVAL_MS, f->paced_p50, f->paced_p99, f->paced_max);
    if (f->backlog_events)
        printf("  watch drain  %" PRIu64 " updates queued first (server wrote them in %.3f s), "
               "drained in %.3f s = %.0f events/s on one core (CPU %.3f s = %.0f events/CPU-s, "
               "busy %.0f%% of the time)\n",
               f->backlog_events, f->backlog_server_seconds, f->backlog_seconds,
               (double)f->backlog_events / f->backlog_seconds, f->backlog_cpu,
               (double)f->backlog_events / f->backlog_cpu,
               100.0 * f->backlog_cpu / f->backlog_seconds);
    if (f->relists || f->watch_failures || f->bad_events)
        printf("  WARNING      informer relisted %" PRIu64 " times, %" PRIu64 " failures, %" PRIu64
               " bad events during the watch runs\n",
               f->relists, f->watch_failures, f->bad_events);

    /* Targets. */
    double ratio = f->sync_tls / f->parse_seconds;
    printf("  targets      sync within 1.5x the parse floor: %s (%.2fx wall; %.2fx CPU)\n",
           met(ratio <= 1.5), ratio, f->sync_tls_cpu / f->parse_seconds);
    printf("               under 1 KiB of cache per pod: %s (%.0f B/pod by RSS delta; %.0f counted)\n",
           met(delta / n < 1024), delta / n, counted);
    if ((peers->kubectl && f->kubectl.ok) || (peers->node && f->node.ok)) {
        bool kubectl_ok = !(peers->kubectl && f->kubectl.ok) || f->kubectl.peak_bytes / delta >= 10;
        bool node_ok = !(peers->node && f->node.ok) ||
                       (f->node.rss_gc - f->node.rss_before) / delta >= 10;
        bool kubectl_whole = !(peers->kubectl && f->kubectl.ok) ||
                             f->kubectl.peak_bytes / f->rss_after >= 10;
        bool node_whole = !(peers->node && f->node.ok) || f->node.rss_gc / f->rss_after >= 10;
        printf("               at least 10x less memory than each peer measured: %s by the cache's "
               "RSS delta; %s process vs process\n",
               met(kubectl_ok && node_ok), met(kubectl_whole && node_whole));
    }
    fflush(stdout);
}

/* ---- main ------------------------------------------------------------------------------------------ */

static size_t parse_sizes(size_t *sizes)
{
    const char *text = getenv("BENCH_WATCH_PODS");
    if (!text || !*text) {
        sizes[0] = 10000;
        sizes[1] = 50000;
        return 2;
    }
    size_t count = 0;
    char *copy = strdup(text);
    for (char *item = strtok(copy, ","); item && count < MAX_SIZES; item = strtok(NULL, ",")) {
        long value = strtol(item, NULL, 10);
        if (value > 0 && value <= 1000000) sizes[count++] = (size_t)value;
    }
    free(copy);
    return count;
}

int main(void)
{
    uint64_t start = now_ns();
    log_set_level(LOG_ERROR);
    signal(SIGPIPE, SIG_IGN);
    size_t sizes[MAX_SIZES];
    size_t size_count = parse_sizes(sizes);
    size_t largest = 0;
    for (size_t i = 0; i < size_count; i++)
        if (sizes[i] > largest) largest = sizes[i];

    struct peers peers = { 0 };
    snprintf(peers.dir, sizeof peers.dir, "/tmp/bench_watch.XXXXXX");
    if (!mkdtemp(peers.dir)) {
        perror("mkdtemp");
        return 1;
    }
    size_t shared_size = sizeof(struct shared) + largest * sizeof(uint64_t);
    struct shared *shared =
        mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    atomic_store(&shared->capacity, largest);

    printf("bench_watch: the pod informer (watchers/informer.h, object_kind_pod, selector %s, "
           "pages of 500, default client token bucket)\n", SELECTOR);
    printf("  server: kubesim's api_server in a forked child process (own loop, own core), pods "
           "created directly in its store; loopback HTTPS (mbedTLS, bearer token) unless marked "
           "plain; %ld cores online\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("  preparing peers in %s ...\n", peers.dir);
    fflush(stdout);
    peers_prepare(&peers);
    printf("  kubectl: %s\n", peers.kubectl ? peers.kubectl_version : "skipped: not on PATH");
    printf("  client-node: %s%s%s\n", peers.node_note, peers.node ? " on Node " : "",
           peers.node ? peers.node_version : "");
    if (peers.node)
        printf("    (makeInformer on /api/v1/pods with the selector; node --expose-gc "
               "--max-old-space-size=8192; RSS read after sync, and after a forced GC)\n");
    fflush(stdout);

    static struct figures figures[MAX_SIZES];
    for (size_t i = 0; i < size_count; i++) {
        measure(sizes[i], &peers, shared, &figures[i]);
        print_figures(&figures[i], &peers);
    }
    /* What one more pod costs: the fixed list-processing memory cancels out between sizes. */
    const struct figures *small = NULL, *large = NULL;
    for (size_t i = 0; i < size_count; i++) {
        if (figures[i].failed || figures[i].rss_after <= 0) continue;
        if (!small || figures[i].pods < small->pods) small = &figures[i];
        if (!large || figures[i].pods > large->pods) large = &figures[i];
    }
    if (small && large && small != large) {
        double pods = (double)(large->pods - small->pods);
        double rss = ((large->rss_after - large->rss_before) - (small->rss_after - small->rss_before)) / pods;
        double trimmed = ((large->rss_trimmed - large->rss_before) -
                          (small->rss_trimmed - small->rss_before)) / pods;
        double heap = (large->heap_delta - small->heap_delta) / pods;
        printf("\n== marginal cache cost per pod, %zu -> %zu pods: RSS %.0f B/pod (%.0f after "
               "malloc_trim), heap %.0f B/pod: %s the 1 KiB target\n",
               small->pods, large->pods, rss, trimmed, heap, rss < 1024 ? "meets" : "misses");
    }

    char *cleanup[] = { "rm", "-rf", peers.dir, NULL };
    struct run_result result;
    run_command(cleanup, NULL, NULL, NULL, 60000, &result);
    munmap(shared, shared_size);
    printf("\nbench_watch: done in %.0f s\n", seconds_since(start));
    return 0;
}
