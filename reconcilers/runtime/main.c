/*
 * tidb-operator: the operator's entry point.
 *
 * Parses flags, resolves where the API server is (--kubeconfig, $KUBECONFIG,
 * in-cluster service account, ~/.kube/config), serves /metrics, /healthz and
 * /readyz, and runs the loop until SIGTERM/SIGINT, when every component
 * stops in order and the process exits 0.
 *
 * Exit codes: 0 after a clean stop, 1 when the stop deadline forced it or
 * the runtime failed, 2 for bad flags or configuration (one clear line).
 */
#include "reactor/flags.h"
#include "reactor/health.h"
#include "reactor/http_client.h"
#include "reactor/http_server.h"
#include "watchers/kube_credentials.h"
#include "reactor/log.h"
#include "reactor/loop.h"
#include "reactor/metrics.h"
#include "reactor/metrics_http.h"
#include "reactor/process_metrics.h"
#include "reconcilers/runtime/controller.h"
#include "reconcilers/runtime/leader_election.h"
#include "reconcilers/runtime/manager.h"
#include "watchers/kube_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct settings {
    const char *kubeconfig;
    const char *context;
    const char *metrics_address;
    const char *log_level;
    uint64_t stop_deadline_ms;
    const char *namespace;
    int workers;
    bool leader_elect;
    const char *lease_namespace;
    const char *lease_name;
    const char *identity;
    uint64_t lease_duration_ms;
    uint64_t renew_deadline_ms;
    uint64_t retry_period_ms;
    uint64_t pd_fast_ms;
    uint64_t pd_slow_ms;
    uint64_t tikv_failover_period_ms;
    uint64_t tidb_failover_period_ms;
    int qps;
    int burst;
};

struct runtime {
    struct loop loop;
    struct settings settings;
    struct kube_connection connection;
    struct metrics_registry *registry;
    struct health *health;
    struct http_server *metrics_server;
    struct http_client *client;
    struct kube_client *kube;
    /* The lease has its own connections and rate limit, so renewals never
     * queue behind a burst of cluster writes. */
    struct http_client *lease_http;
    struct kube_client *lease_kube;
    struct manager *manager;
    struct controller *controller;
    struct leader_election *election;
    struct health_condition *leader_condition;
    struct metrics_gauge *leader_gauge;
    char identity[256];
};

/* Splits "host:port" ("[::1]:8080" for IPv6); false when malformed. */
static bool split_address(const char *address, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address) return false;
    size_t host_length = (size_t)(colon - address);
    const char *host_start = address;
    if (address[0] == '[' && colon[-1] == ']') { host_start++; host_length -= 2; }
    if (host_length == 0 || host_length >= host_size) return false;
    memcpy(host, host_start, host_length);
    host[host_length] = '\0';
    char *end = NULL;
    long value = strtol(colon + 1, &end, 10);
    if (!end || *end != '\0' || end == colon + 1 || value < 0 || value > 65535) return false;
    *port = (int)value;
    return true;
}

static void on_metrics_server_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->metrics_server = NULL;
    loop_stop_done(&runtime->loop);
}

static void stop_metrics_server(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    http_server_close(runtime->metrics_server, on_metrics_server_closed, runtime);
}

static void on_client_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->client = NULL;
    loop_stop_done(&runtime->loop);
}

static void stop_client(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    http_client_close(runtime->client, on_client_closed, runtime);
}

static void on_kube_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->kube = NULL;
    loop_stop_done(&runtime->loop);
}

static void stop_kube(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    kube_client_close(runtime->kube, on_kube_closed, runtime);
}

static void on_lease_http_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->lease_http = NULL;
    loop_stop_done(&runtime->loop);
}

static void stop_lease_http(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    http_client_close(runtime->lease_http, on_lease_http_closed, runtime);
}

static void on_lease_kube_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->lease_kube = NULL;
    loop_stop_done(&runtime->loop);
}

static void stop_lease_kube(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    kube_client_close(runtime->lease_kube, on_lease_kube_closed, runtime);
}

static void on_manager_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->manager = NULL;
    loop_stop_done(&runtime->loop);
}

/* After the controller (registered before it): the caches go last. */
static void stop_manager(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    manager_close(runtime->manager, on_manager_closed, runtime);
}

static void on_controller_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->controller = NULL;
    loop_stop_done(&runtime->loop);
}

static void stop_controller(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    controller_close(runtime->controller, on_controller_closed, runtime);
}

static void on_election_closed(void *data)
{
    struct runtime *runtime = data;
    runtime->election = NULL;
    loop_stop_done(&runtime->loop);
}

/* Releases the lease (so a standby takes over at once) before the rest stops. */
static void stop_election(struct loop *loop, void *data)
{
    (void)loop;
    struct runtime *runtime = data;
    leader_election_close(runtime->election, on_election_closed, runtime);
}

static bool may_write(void *data)
{
    struct runtime *runtime = data;
    return !runtime->settings.leader_elect || leader_election_is_leader(runtime->election);
}

static void on_started_leading(void *data)
{
    struct runtime *runtime = data;
    if (runtime->leader_gauge) metrics_gauge_set(runtime->leader_gauge, 1);
    if (runtime->leader_condition) health_condition_set(runtime->leader_condition, true);
    if (runtime->controller) controller_set_leading(runtime->controller, true);
}

static void on_stopped_leading(void *data)
{
    struct runtime *runtime = data;
    if (runtime->leader_gauge) metrics_gauge_set(runtime->leader_gauge, 0);
    if (runtime->leader_condition) health_condition_set(runtime->leader_condition, false);
    if (runtime->controller) controller_set_leading(runtime->controller, false);
}

static void on_new_leader(const char *identity, void *data)
{
    (void)data;
    log_info("leader observed", "holder=%s", identity[0] ? identity : "(none)");
}

static int start_control(struct runtime *runtime)
{
    const struct settings *settings = &runtime->settings;
    struct kube_client_options kube_options = {
        .loop = &runtime->loop.uv, .http = runtime->client, .connection = &runtime->connection,
        .metrics = runtime->registry, .qps = (double)settings->qps, .burst = (unsigned)settings->burst,
    };
    int rc = kube_client_new(&kube_options, &runtime->kube);
    if (rc != 0) {
        fprintf(stderr, "tidb-operator: cannot create the Kubernetes client: %s\n", uv_strerror(rc));
        return 1;
    }
    loop_on_stop(&runtime->loop, "kube-client", stop_kube, runtime);
    struct manager_options manager_options = {
        .loop = &runtime->loop.uv, .client = runtime->kube, .metrics = runtime->registry,
        .health = runtime->health, .namespace = settings->namespace,
    };
    rc = manager_start(&manager_options, &runtime->manager);
    if (rc != 0) {
        fprintf(stderr, "tidb-operator: cannot start the informers: %s\n", uv_strerror(rc));
        return 1;
    }
    loop_on_stop(&runtime->loop, "informer-manager", stop_manager, runtime);
    struct controller_options controller_options = {
        .loop = &runtime->loop.uv, .manager = runtime->manager, .client = runtime->kube,
        .http = runtime->client, .metrics = runtime->registry,
        .workers = (unsigned)settings->workers, .pd_fast_interval_ms = settings->pd_fast_ms,
        .pd_slow_interval_ms = settings->pd_slow_ms,
        .failover_period_ms = { [TC_TIKV] = settings->tikv_failover_period_ms,
                                [TC_TIDB] = settings->tidb_failover_period_ms },
        /* One second of the client's rate in flight: a cluster's action never
         * waits in the client's token bucket behind more than that. */
        .max_actions_in_flight = (size_t)settings->qps,
        .may_write = settings->leader_elect ? may_write : NULL, .data = runtime,
    };
    rc = controller_start(&controller_options, &runtime->controller);
    if (rc != 0) {
        fprintf(stderr, "tidb-operator: cannot start the controller: %s\n", uv_strerror(rc));
        return 1;
    }
    loop_on_stop(&runtime->loop, "controller", stop_controller, runtime);
    if (!settings->leader_elect) return 0;

    runtime->lease_http = http_client_init(&runtime->loop.uv, NULL);
    if (!runtime->lease_http) {
        fprintf(stderr, "tidb-operator: out of memory at start-up\n");
        return 1;
    }
    loop_on_stop(&runtime->loop, "lease-http-client", stop_lease_http, runtime);
    struct kube_client_options lease_options = {
        .loop = &runtime->loop.uv, .http = runtime->lease_http, .connection = &runtime->connection,
        .qps = 5, .burst = 10, .max_attempts = 2, .request_timeout_ms = settings->retry_period_ms * 2,
    };
    rc = kube_client_new(&lease_options, &runtime->lease_kube);
    if (rc != 0) {
        fprintf(stderr, "tidb-operator: cannot create the lease client: %s\n", uv_strerror(rc));
        return 1;
    }
    loop_on_stop(&runtime->loop, "lease-kube-client", stop_lease_kube, runtime);
    runtime->leader_gauge = metrics_gauge(runtime->registry, "tidb_operator_leader",
                                          "1 while this replica holds the leader lease.");
    runtime->leader_condition = health_add_condition(runtime->health, "leader", false);
    const char *identity = settings->identity;
    if (!identity || !*identity) {
        char host[200] = "tidb-operator";
        gethostname(host, sizeof host - 1);
        snprintf(runtime->identity, sizeof runtime->identity, "%s_%d", host, (int)getpid());
        identity = runtime->identity;
    }
    struct leader_election_options election_options = {
        .loop = &runtime->loop.uv, .client = runtime->lease_kube,
        .namespace = settings->lease_namespace && *settings->lease_namespace ? settings->lease_namespace
                                                                            : runtime->connection.namespace,
        .name = settings->lease_name, .identity = identity,
        .lease_duration_ms = settings->lease_duration_ms, .renew_deadline_ms = settings->renew_deadline_ms,
        .retry_period_ms = settings->retry_period_ms,
        .on_started_leading = on_started_leading, .on_stopped_leading = on_stopped_leading,
        .on_new_leader = on_new_leader, .data = runtime,
    };
    rc = leader_election_start(&election_options, &runtime->election);
    if (rc != 0) {
        fprintf(stderr, "tidb-operator: leader election: invalid durations (need lease > renew deadline > 1.2 x retry period)\n");
        return 2;
    }
    /* Registered last, so it runs first: the lease goes before anything else stops. */
    loop_on_stop(&runtime->loop, "leader-election", stop_election, runtime);
    log_info("leader election", "lease=%s/%s identity=%s", election_options.namespace,
             settings->lease_name, identity);
    return 0;
}

static int start_metrics_server(struct runtime *runtime)
{
    char host[256];
    int port = 0;
    if (!split_address(runtime->settings.metrics_address, host, sizeof host, &port)) {
        fprintf(stderr, "tidb-operator: flag --metrics-address: invalid value \"%s\": expected host:port\n",
                runtime->settings.metrics_address);
        return 2;
    }
    struct http_server_options options = { .host = host, .port = port };
    int rc = http_server_start(&runtime->loop.uv, &options, &runtime->metrics_server);
    if (rc != 0) {
        fprintf(stderr, "tidb-operator: cannot serve metrics on %s: %s\n",
                runtime->settings.metrics_address, uv_strerror(rc));
        return 1;
    }
    if (metrics_http_mount(runtime->metrics_server, runtime->registry, runtime->health) != 0) {
        fprintf(stderr, "tidb-operator: out of memory mounting /metrics\n");
        return 1;
    }
    loop_on_stop(&runtime->loop, "metrics-server", stop_metrics_server, runtime);
    log_info("serving metrics", "address=%s:%d", host, http_server_port(runtime->metrics_server));
    return 0;
}

static int parse_settings(int argc, char **argv, struct settings *settings)
{
    const struct flag table[] = {
        { "kubeconfig", FLAG_STRING, NULL,
          "kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)",
          &settings->kubeconfig },
        { "context", FLAG_STRING, NULL, "kubeconfig context (default: current-context)",
          &settings->context },
        { "metrics-address", FLAG_STRING, "0.0.0.0:8080",
          "host:port serving /metrics, /healthz and /readyz", &settings->metrics_address },
        { "log-level", FLAG_STRING, "info", "debug, info, warn or error", &settings->log_level },
        { "stop-deadline", FLAG_DURATION, "20s",
          "how long a stop may take before remaining work is cut off", &settings->stop_deadline_ms },
        { "namespace", FLAG_STRING, NULL, "watch only this namespace (default: all)", &settings->namespace },
        { "workers", FLAG_INT, "4", "clusters reconciled at once", &settings->workers },
        { "leader-elect", FLAG_BOOL, "true", "elect a leader among replicas with a Lease",
          &settings->leader_elect },
        { "leader-elect-namespace", FLAG_STRING, NULL,
          "namespace of the Lease (default: the operator's namespace)", &settings->lease_namespace },
        { "leader-elect-name", FLAG_STRING, "tidb-controller-manager", "name of the Lease",
          &settings->lease_name },
        { "identity", FLAG_STRING, NULL, "this replica's identity (default: hostname_pid)",
          &settings->identity },
        { "lease-duration", FLAG_DURATION, "15s", "how long a lease holds without renewal",
          &settings->lease_duration_ms },
        { "renew-deadline", FLAG_DURATION, "10s", "the leader steps down if it cannot renew within this",
          &settings->renew_deadline_ms },
        { "retry-period", FLAG_DURATION, "2s", "how often candidates retry and the leader renews",
          &settings->retry_period_ms },
        { "pd-poll-fast", FLAG_DURATION, "2s", "PD polling period while a cluster is changing",
          &settings->pd_fast_ms },
        { "pd-poll-slow", FLAG_DURATION, "30s", "PD polling period while a cluster is steady",
          &settings->pd_slow_ms },
        { "tikv-failover-period", FLAG_DURATION, "5m",
          "a TiKV store Down in PD this long is replaced (a store whose node is gone: at once)",
          &settings->tikv_failover_period_ms },
        { "tidb-failover-period", FLAG_DURATION, "5m", "a TiDB pod not ready this long is replaced",
          &settings->tidb_failover_period_ms },
        { "kube-api-qps", FLAG_INT, "50", "requests per second to the API server (also the actions in flight at once)", &settings->qps },
        { "kube-api-burst", FLAG_INT, "100", "burst of requests to the API server", &settings->burst },
    };
    const struct flag_set set = {
        .program = "tidb-operator",
        .summary = "Runs TiDB clusters described by TidbCluster objects (pingcap.com/v1alpha1).",
        .flags = table,
        .count = sizeof table / sizeof table[0],
    };
    struct flags_outcome outcome = {0};
    enum flags_status status = flags_parse(&set, argc, argv, stdout, &outcome);
    int rc = 0;
    if (status == FLAGS_HELP) {
        rc = -1;
    } else if (status == FLAGS_ERROR) {
        fprintf(stderr, "tidb-operator: %s\n", outcome.error);
        rc = 2;
    } else if (settings->workers < 1 || settings->workers > 1000) {
        fprintf(stderr, "tidb-operator: flag --workers: invalid value \"%d\": expected 1 to 1000\n", settings->workers);
        rc = 2;
    } else if (settings->burst < 1 || settings->qps < 1) {
        fprintf(stderr, "tidb-operator: flags --kube-api-qps and --kube-api-burst must be at least 1\n");
        rc = 2;
    } else if (outcome.positional_count > 0) {
        fprintf(stderr, "tidb-operator: unexpected argument \"%s\"\n", outcome.positional[0]);
        rc = 2;
    } else {
        enum log_level level;
        if (!log_parse_level(settings->log_level, &level)) {
            fprintf(stderr, "tidb-operator: flag --log-level: invalid value \"%s\": expected debug, info, warn or error\n",
                    settings->log_level);
            rc = 2;
        } else {
            log_set_level(level);
        }
    }
    flags_outcome_free(&outcome);
    return rc;
}

int main(int argc, char **argv)
{
    static struct runtime runtime;
    int rc = parse_settings(argc, argv, &runtime.settings);
    if (rc != 0) return rc < 0 ? 0 : rc;

    char *error = NULL;
    if (!kube_credentials_load(runtime.settings.kubeconfig, runtime.settings.context,
                          &runtime.connection, &error)) {
        fprintf(stderr, "tidb-operator: %s\n", error ? error : "out of memory");
        free(error);
        return 2;
    }
    log_info("api server", "server=%s namespace=%s", runtime.connection.server,
             runtime.connection.namespace);

    if (loop_init(&runtime.loop, runtime.settings.stop_deadline_ms) != 0) {
        fprintf(stderr, "tidb-operator: cannot start the event loop\n");
        kube_connection_free(&runtime.connection);
        return 1;
    }
    runtime.registry = metrics_registry_create();
    runtime.health = health_create();
    runtime.client = http_client_init(&runtime.loop.uv, NULL);
    if (!runtime.registry || !runtime.health || !runtime.client ||
        !process_metrics_register(runtime.registry)) {
        fprintf(stderr, "tidb-operator: out of memory at start-up\n");
        rc = 1;
    } else {
        loop_on_stop(&runtime.loop, "http-client", stop_client, &runtime);
        rc = start_metrics_server(&runtime);
        if (rc == 0) rc = start_control(&runtime);
    }
    if (rc != 0) {
        loop_request_stop(&runtime.loop);
        loop_run(&runtime.loop);
    } else {
        rc = loop_run(&runtime.loop);
        log_info("stopped", "exit_code=%d", rc);
    }
    loop_close(&runtime.loop);
    health_free(runtime.health);
    metrics_registry_free(runtime.registry);
    kube_connection_free(&runtime.connection);
    return rc;
}
