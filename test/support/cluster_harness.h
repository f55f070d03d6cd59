/*
 * cluster_harness: end-to-end scenarios against the real programs — the
 * kubesim binary (API server, simulated world, PD simulator behind its HTTP
 * proxy) and one or more tidb-operator binaries — as a user would run them.
 *
 * Blocking by design (test code only): libcurl easy handles, fork/exec
 * through test/support/process.h, polling with bounded waits. Every wait has
 * a timeout and says what it was still waiting for when it gives up.
 *
 *   static void body(struct harness *h) {
 *       REQUIRE(harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL));
 *       REQUIRE(harness_operator_start(h, NULL) != NULL);
 *       REQUIRE(harness_apply_file(h, "examples/basic/tidb-cluster.yaml", "default"));
 *       char why[512];
 *       CHECK(harness_wait_ready(h, &basic_expect, 120000, why, sizeof why));
 *   }
 *   static void bringup(void) { harness_run(body, NULL); }
 *
 * harness_run skips the case (with a reason) under valgrind or when a binary
 * is missing, starts kubesim, runs the body, and ALWAYS stops every process
 * it started (SIGTERM, bounded wait, SIGKILL); on failure it prints the tail
 * of each process's log. Children are also killed from an atexit hook and
 * on SIGINT/SIGTERM/SIGABRT/SIGSEGV of the test program, so no leftovers.
 */
#ifndef TEST_SUPPORT_CLUSTER_HARNESS_H
#define TEST_SUPPORT_CLUSTER_HARNESS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "test/support/process.h"

#define HARNESS_MAX_OPERATORS 4

/* ---- YAML ---- */

/* Every document of a YAML text as cJSON (an array of documents; NULL on a
 * parse error, with the reason in `error`). Plain scalars become null, bool,
 * numbers or strings as YAML 1.1/Kubernetes reads them; quoted ones stay
 * strings. */
cJSON *e2e_yaml_to_json(const char *text, size_t length, char *error, size_t error_size);
/* A file of the repository ("examples/basic/tidb-cluster.yaml") as text
 * (malloc'd), or any absolute path; NULL when unreadable. */
char *e2e_repo_file_read(const char *relative, size_t *length);
/* The first document of a repository YAML file as cJSON (caller owns), or
 * NULL when unreadable or not YAML. */
cJSON *e2e_repo_yaml_first(const char *relative);
/* The absolute path of a repository file (static buffer per call site not
 * needed: written into `out`). */
bool e2e_repo_path(const char *relative, char *out, size_t size);

/* ---- processes ---- */

struct sim_options {
    double speed;           /* --speed; 0: 10 */
    const char *world;      /* --world; NULL: "default" */
    const char *data_dir;   /* NULL: none */
    const char *log_level;  /* NULL: default */
    const char *world_config; /* extra `--world-config FILE` when the flag exists; NULL: none */
    bool inherit_output;    /* demo: kubesim's output is not captured (ignored by tests) */
};

struct operator_options {
    const char *identity;        /* --identity; NULL: "operator-N" */
    bool leader_elect;           /* --leader-elect plus the lease timings below */
    const char *lease_duration;  /* NULL: "3s" */
    const char *renew_deadline;  /* NULL: "2s" */
    const char *retry_period;    /* NULL: "500ms" */
    const char *pd_poll_fast;    /* NULL: "300ms" */
    const char *pd_poll_slow;    /* NULL: "2s" */
    const char *log_level;       /* NULL: "info" */
    const char *extra[4];        /* more flags ("--tidb-failover-period=30s"); NULL ends */
};

struct operator_proc {
    struct child child;
    int metrics_port;
    char identity[64];
    bool started;
};

struct harness {
    struct child sim;
    bool sim_running;
    char api_url[128];      /* https://127.0.0.1:P */
    char admin_url[128];    /* http://127.0.0.1:Q */
    char proxy_url[128];    /* http://127.0.0.1:R, "" when kubesim has no proxy */
    char kubeconfig[512];
    char token[256];
    char work_dir[512];     /* where the kubeconfig and logs live */
    double speed;
    struct operator_proc operators[HARNESS_MAX_OPERATORS];
    size_t operator_count;
};

/* Why a scenario cannot run here (valgrind, binary missing), or NULL. */
const char *harness_skip_reason(void);

/* Starts kubesim in `work_dir` (NULL: the case's temp dir), waits for its
 * ready line (20 s) and reads the token from the kubeconfig. */
bool harness_sim_start(struct harness *h, const char *kubesim_bin, const char *work_dir,
                       const struct sim_options *options);
/* Is kubesim still running? (reaps it when it ended; *code gets its exit status) */
bool harness_sim_running(struct harness *h, int *code);
/* SIGTERM, up to `timeout_ms`, then SIGKILL. True when it exited by itself with 0. */
bool harness_sim_stop(struct harness *h, int timeout_ms);

/* Starts one more operator (metrics on a free port; env http_proxy and
 * no_proxy). Flags the binary does not list in --help are left out (except
 * --leader-elect: NULL when leader election is asked for and unsupported).
 * Waits until its /healthz answers (10 s). NULL on failure. */
struct operator_proc *harness_operator_start(struct harness *h, const struct operator_options *options);
struct operator_proc *harness_operator_start_bin(struct harness *h, const char *operator_bin,
                                                 const struct operator_options *options);
/* kill -9 and reap. */
void harness_operator_kill(struct operator_proc *op);
/* SIGTERM; true when it exited with 0 within timeout_ms (else it is killed). */
bool harness_operator_term(struct operator_proc *op, int timeout_ms);
/* Sends SIGTERM and returns at once. */
void harness_operator_signal(struct operator_proc *op, int signal_number);
/* Waits up to timeout_ms for it to exit; true with its exit code (128+signal). */
bool harness_operator_wait(struct operator_proc *op, int timeout_ms, int *code);
/* Restarts a stopped operator with the same options and identity. */
bool harness_operator_restart(struct harness *h, struct operator_proc *op);
bool harness_operator_running(struct operator_proc *op);
/* Does the operator binary list `--flag` in its --help? (cached) */
bool harness_operator_has_flag(const char *flag);
/* The value of an unlabelled or labelled sample on its /metrics ("name" or
 * "name{a=\"b\"}"); false when absent or unreachable. */
bool harness_operator_metric(struct operator_proc *op, const char *sample, double *value);

/* Stops every operator and kubesim (bounded); safe to call twice. */
void harness_stop_all(struct harness *h);
/* Prints the last `lines` lines of each process's log (on failure). */
void harness_dump_logs(struct harness *h, int lines);

/* The whole case: skip checks, kubesim start (options may be NULL), body,
 * logs on failure, stop. */
void harness_run(void (*body)(struct harness *h), const struct sim_options *options);

/* ---- the API (HTTPS, bearer token) ---- */

/* One request; returns the HTTP status (-1: no answer) and the body in
 * *response (malloc'd; may be NULL). `body` is JSON (content type
 * application/json, or application/merge-patch+json for PATCH). */
int e2e_request(struct harness *h, const char *method, const char *path, const char *body,
                 char **response);
/* GET as JSON; NULL unless 200 (the status in *status when given). */
cJSON *e2e_get(struct harness *h, const char *path, int *status);
/* POST the object; returns the status, the answer in *response (may be NULL). */
int e2e_create(struct harness *h, const char *path, const cJSON *object, char **response);
/* Creates, or on 409 replaces (GET resourceVersion, PUT). Returns the status of the last call. */
int e2e_apply(struct harness *h, const cJSON *object, const char *namespace, char **response);
int e2e_delete(struct harness *h, const char *path);
int e2e_merge_patch(struct harness *h, const char *path, const char *patch_json);
/* The collection path of an object ("/apis/pingcap.com/v1alpha1/namespaces/ns/tidbclusters")
 * from its apiVersion and kind; false for a kind it does not know. */
bool e2e_collection_path(const char *api_version, const char *kind, const char *namespace,
                          char *out, size_t size);

/* Applies every document of a YAML file (repository-relative or absolute).
 * `namespace` for namespaced kinds without metadata.namespace (NULL: default).
 * After a CRD, waits (5 s) until its resource is served. */
bool harness_apply_file(struct harness *h, const char *file, const char *namespace);
/* Applies a YAML text the same way. */
bool harness_apply_yaml(struct harness *h, const char *yaml, const char *namespace);

/* ---- admin, proxy ---- */

/* POST to the admin listener (body may be NULL); returns the status. */
int harness_admin_post(struct harness *h, const char *path, const char *body, char **response);
/* Prints the last `max` Events of `namespace` ("  event TYPE REASON: message"),
 * for a failed case's story. */
void e2e_print_events(struct harness *h, const char *namespace, int max);
/* Writes `json` as a world config file in the case's temp dir and points
 * `options->world_config` at it (`path` holds the name); false (a test
 * failure recorded) when it cannot be written. */
bool e2e_world_config(const char *json, struct sim_options *options, char *path, size_t size);
/* DELETE on the admin listener (e.g. /world/nodes/N: the node is gone); the status. */
int harness_admin_delete(struct harness *h, const char *path);
/* GET through kubesim's proxy, e.g. "http://basic-pd.default:2379/pd/api/v1/members". */
cJSON *harness_proxy_get(struct harness *h, const char *url, int *status);

/* ---- waiting ---- */

/* A predicate: true when satisfied; otherwise it writes what is missing into `why`. */
typedef bool (*harness_predicate)(struct harness *h, void *data, char *why, size_t why_size);
/* Polls every poll_ms (0: 200) until `predicate` holds or timeout_ms passes;
 * on timeout `why` holds the last reason. */
bool harness_wait(struct harness *h, harness_predicate predicate, void *data, int timeout_ms,
                  int poll_ms, char *why, size_t why_size);

/* ---- cluster end state ---- */

struct e2e_cluster_expect {
    const char *namespace;  /* NULL: default */
    const char *name;       /* NULL: basic */
    int pd, tikv, tidb;     /* replicas */
    bool tidb_pvc;          /* TiDB members have PVCs too */
};

/* Everything of one cluster seen through the API and the proxy. */
struct e2e_cluster_view {
    cJSON *tc;        /* the TidbCluster, NULL when absent */
    cJSON *pods;      /* items of pods with instance=<name> */
    cJSON *pvcs;
    cJSON *services;
    cJSON *configmaps;
    cJSON *pd_members;  /* PD /members through the proxy, NULL when unreachable */
    cJSON *pd_stores;   /* PD /stores */
};
bool e2e_cluster_view_load(struct harness *h, const char *namespace, const char *name, bool with_pd,
                       struct e2e_cluster_view *view);
void e2e_cluster_view_free(struct e2e_cluster_view *view);

/* Counts pods of a component (label app.kubernetes.io/component) in the list;
 * `running_ready`: only those Running with condition Ready=True. */
int e2e_cluster_count_pods(const cJSON *pods, const char *component, bool running_ready);
/* The condition `type` of the TidbCluster's status (NULL when absent). */
const cJSON *e2e_tc_condition(const cJSON *tc, const char *type);
/* A string at a dotted path ("status.pd.phase"), or NULL. */
const char *e2e_jpath_str(const cJSON *object, const char *path);
const cJSON *e2e_jpath(const cJSON *object, const char *path);
/* Count of entries in an object or array at `path` (0 when absent). */
int e2e_jpath_count(const cJSON *object, const char *path);

/* The full end state of a Ready cluster: exactly the expected pods (names
 * <c>-pd-0.., all Running and Ready, no others), PVCs for PD and TiKV,
 * services, PD members with a leader and Up stores via the proxy, status
 * (pd.members, tikv.stores Up, Ready=True, observedGeneration=generation). */
bool e2e_cluster_is_ready(struct harness *h, const struct e2e_cluster_expect *expect, char *why,
                      size_t why_size);
bool harness_wait_ready(struct harness *h, const struct e2e_cluster_expect *expect, int timeout_ms,
                        char *why, size_t why_size);
/* Expectation of examples/basic/tidb-cluster.yaml in `default`. */
extern const struct e2e_cluster_expect harness_basic_cluster;

/* Monotonic milliseconds. */
int64_t harness_now_ms(void);
void harness_sleep_ms(int ms);

/* ---- more helpers ---- */

/* The items of a list path ("/api/v1/namespaces/default/events"), NULL when the
 * API did not answer 200. */
cJSON *e2e_list(struct harness *h, const char *path);
/* examples/basic/tidb-cluster.yaml as an object (caller owns), NULL if unreadable. */
cJSON *e2e_basic_cluster_object(void);
/* Sets metadata.name and metadata.namespace of a TidbCluster object and POSTs it;
 * returns the status, the answer in *response (may be NULL). */
int e2e_create_cluster(struct harness *h, cJSON *tc, const char *namespace, const char *name,
                       char **response);
/* Does the TidbCluster's status (any condition's message or reason) or an
 * Event about it (involvedObject.name = name) contain `needle`? `where`
 * receives the text that matched, or a summary of what was seen. */
bool e2e_tc_mentions(struct harness *h, const char *namespace, const char *name,
                     const char *needle, char *where, size_t where_size);
/* Objects (pods, services, PVCs, configmaps) labelled instance=<name>; -1 on error. */
int e2e_count_instance_objects(struct harness *h, const char *namespace, const char *name,
                               const char *plural);
/* Sum of every sample of a metric family on the operator's /metrics (0 when absent). */
double harness_operator_metric_sum(struct operator_proc *op, const char *family);
/* The operator's Lease (any namespace; the first whose name mentions
 * "tidb" or "operator", else the first with a holder): its holderIdentity
 * ("" when none) and name; false when the API failed or there is no Lease. */
bool e2e_lease_holder(struct harness *h, char *holder, size_t size, char *lease_name, size_t name_size);

/* "name=uid@volume,..." of every item of a list path, in the list's order
 * ("(deleting)" marks one with a deletionTimestamp): equal strings mean
 * nothing was deleted, recreated or rebound in between. Caller frees; NULL
 * when the API did not answer. */
char *e2e_object_identities(struct harness *h, const char *path);

/* The pods and claims of default/basic, as e2e_object_identities strings. */
struct e2e_identities {
    char *pods;
    char *claims;
};
/* False (and a failure recorded) when the API did not answer. */
bool e2e_identities_read(struct harness *h, struct e2e_identities *out);
/* Records a failure at file:line unless default/basic's pods and claims
 * are exactly those of `before` (nothing deleted, recreated or rebound). */
void e2e_identities_check_same(struct harness *h, const struct e2e_identities *before, const char *file,
                               int line);
void e2e_identities_free(struct e2e_identities *identities);

/* The CRD, one operator and examples/basic/tidb-cluster.yaml, then the
 * exact Ready end state within timeout_ms; false with a failure recorded. */
bool harness_bring_up_basic(struct harness *h, int timeout_ms);

/* A point of default/basic's bring-up: at least `pods` pods of `component`
 * exist (any phase). `what` names it in the reason ("first TiKV pod"). */
struct e2e_milestone {
    const char *what;
    const char *component;
    int pods;
};
/* A harness_predicate (data: struct e2e_milestone). */
bool e2e_milestone_reached(struct harness *h, void *data, char *why, size_t why_size);

/* What the Ready condition of default/basic said when it was last read. */
struct e2e_not_ready {
    char reason[64];
    char message[256];
};
/* A harness_predicate: default/basic says Ready=False (data: struct
 * e2e_not_ready, filled on every call). */
bool e2e_cluster_not_ready(struct harness *h, void *data, char *why, size_t why_size);

#endif
