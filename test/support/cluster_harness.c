#include "cluster_harness.h"
#include "test.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#define SIM_START_TIMEOUT_MS 20000
#define OPERATOR_HEALTH_TIMEOUT_MS 10000
#define REQUEST_TIMEOUT_MS 10000

/* ---- time ---- */

int64_t harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* ---- leftovers: every child pid is remembered until reaped ---- */

#define TRACKED_MAX 32
static pid_t tracked[TRACKED_MAX];
static bool hooks_installed;

static void kill_tracked(void)
{
    for (size_t i = 0; i < TRACKED_MAX; i++) {
        if (tracked[i] > 0) {
            kill(tracked[i], SIGKILL);
            waitpid(tracked[i], NULL, 0);
            tracked[i] = 0;
        }
    }
}

static void on_fatal_signal(int signal_number)
{
    kill_tracked();
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void track(pid_t pid)
{
    if (!hooks_installed) {
        hooks_installed = true;
        atexit(kill_tracked);
        signal(SIGINT, on_fatal_signal);
        signal(SIGTERM, on_fatal_signal);
        signal(SIGABRT, on_fatal_signal);
        signal(SIGSEGV, on_fatal_signal);
        signal(SIGPIPE, SIG_IGN);
    }
    for (size_t i = 0; i < TRACKED_MAX; i++) {
        if (tracked[i] == 0) {
            tracked[i] = pid;
            return;
        }
    }
}

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < TRACKED_MAX; i++)
        if (tracked[i] == pid) tracked[i] = 0;
}

static bool child_start_tracked(struct child *child, char *const argv[], char *const env[])
{
    if (!child_start(child, argv, env)) return false;
    track(child->pid);
    return true;
}

static void child_kill_tracked(struct child *child)
{
    pid_t pid = child->pid;
    child_kill(child);
    untrack(pid);
}

/* SIGTERM, wait, SIGKILL. True when it exited by itself with status 0. */
static bool child_term_tracked(struct child *child, int timeout_ms)
{
    if (child->pid <= 0) return false;
    pid_t pid = child->pid;
    kill(pid, SIGTERM);
    int code = -1;
    bool ended = child_wait(child, timeout_ms, &code);
    if (!ended) child_kill(child);
    untrack(pid);
    return ended && code == 0;
}

/* ---- YAML ---- */

static bool plain_is(const char *text, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(text, words[i]) == 0) return true;
    return false;
}

static cJSON *yaml_scalar_json(const yaml_node_t *node)
{
    const char *text = (const char *)node->data.scalar.value;
    size_t length = node->data.scalar.length;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return cJSON_CreateString(text);
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
    static const char *const trues[] = { "true", "True", "TRUE", NULL };
    static const char *const falses[] = { "false", "False", "FALSE", NULL };
    if (plain_is(text, nulls)) return cJSON_CreateNull();
    if (plain_is(text, trues)) return cJSON_CreateTrue();
    if (plain_is(text, falses)) return cJSON_CreateFalse();
    /* Numbers: an optional sign, digits, an optional fraction and exponent. */
    const char *p = text;
    if (*p == '-' || *p == '+') p++;
    bool digits = false;
    while (*p >= '0' && *p <= '9') { p++; digits = true; }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') { p++; digits = true; }
    }
    if (digits && (*p == 'e' || *p == 'E')) {
        const char *exponent = p + 1;
        if (*exponent == '-' || *exponent == '+') exponent++;
        if (*exponent >= '0' && *exponent <= '9') {
            p = exponent;
            while (*p >= '0' && *p <= '9') p++;
        }
    }
    if (digits && (size_t)(p - text) == length) return cJSON_CreateNumber(strtod(text, NULL));
    return cJSON_CreateString(text);
}

static cJSON *yaml_node_to_json(yaml_document_t *document, yaml_node_t *node, int depth)
{
    if (!node || depth > 64) return NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return yaml_scalar_json(node);
    case YAML_SEQUENCE_NODE: {
        cJSON *array = cJSON_CreateArray();
        for (yaml_node_item_t *item = node->data.sequence.items.start;
             array && item < node->data.sequence.items.top; item++) {
            cJSON *value = yaml_node_to_json(document, yaml_document_get_node(document, *item), depth + 1);
            if (!value) { cJSON_Delete(array); return NULL; }
            cJSON_AddItemToArray(array, value);
        }
        return array;
    }
    case YAML_MAPPING_NODE: {
        cJSON *object = cJSON_CreateObject();
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             object && pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *key = yaml_document_get_node(document, pair->key);
            if (!key || key->type != YAML_SCALAR_NODE) { cJSON_Delete(object); return NULL; }
            cJSON *value = yaml_node_to_json(document, yaml_document_get_node(document, pair->value), depth + 1);
            if (!value) { cJSON_Delete(object); return NULL; }
            const char *name = (const char *)key->data.scalar.value;
            cJSON_DeleteItemFromObjectCaseSensitive(object, name);
            cJSON_AddItemToObject(object, name, value);
        }
        return object;
    }
    default:
        return NULL;
    }
}

cJSON *e2e_yaml_to_json(const char *text, size_t length, char *error, size_t error_size)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
    cJSON *documents = cJSON_CreateArray();
    for (;;) {
        yaml_document_t document;
        if (!yaml_parser_load(&parser, &document)) {
            snprintf(error, error_size, "YAML line %zu: %s", parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "parse error");
            cJSON_Delete(documents);
            documents = NULL;
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&document);
        if (!root) {
            yaml_document_delete(&document);
            break;
        }
        cJSON *json = yaml_node_to_json(&document, root, 0);
        yaml_document_delete(&document);
        if (!json) {
            snprintf(error, error_size, "YAML: unsupported node (non-scalar key or too deep)");
            cJSON_Delete(documents);
            documents = NULL;
            break;
        }
        if (cJSON_IsNull(json)) cJSON_Delete(json); /* an empty document ("---" alone) */
        else cJSON_AddItemToArray(documents, json);
    }
    yaml_parser_delete(&parser);
    return documents;
}

bool e2e_repo_path(const char *relative, char *out, size_t size)
{
    if (relative[0] == '/') return (size_t)snprintf(out, size, "%s", relative) < size;
    const char *marker = strstr(__FILE__, "test/support/");
    int prefix = marker ? (int)(marker - __FILE__) : 0;
    return (size_t)snprintf(out, size, "%.*s%s", prefix, __FILE__, relative) < size;
}

static char *file_read(const char *path, size_t *length)
{
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    char *data = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&data, &size);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0) fwrite(chunk, 1, n, out);
    fclose(file);
    fclose(out);
    if (length) *length = size;
    return data;
}

char *e2e_repo_file_read(const char *relative, size_t *length)
{
    char path[1024];
    if (!e2e_repo_path(relative, path, sizeof path)) return NULL;
    char *data = file_read(path, length);
    if (!data && relative[0] != '/') data = file_read(relative, length); /* from the cwd */
    return data;
}

/* ---- the binaries ---- */

const char *harness_skip_reason(void)
{
    const char *valgrind = getenv("TEST_UNDER_VALGRIND");
    if (valgrind && valgrind[0] && strcmp(valgrind, "0") != 0)
        return "end-to-end scenarios spawn kubesim and operators: not run under valgrind";
    if (!binary_under_test("KUBESIM_BIN")) return "KUBESIM_BIN is not set (run through zig build e2e)";
    if (!binary_under_test("TIDB_OPERATOR_BIN"))
        return "TIDB_OPERATOR_BIN is not set (run through zig build e2e)";
    return NULL;
}

/* "key=value" out of a whitespace-separated line. */
static bool line_value(const char *line, const char *key, char *out, size_t size)
{
    size_t key_length = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p++) {
        if ((p == line || p[-1] == ' ') && p[key_length] == '=') {
            const char *value = p + key_length + 1;
            size_t n = strcspn(value, " \r\n");
            if (n >= size) return false;
            memcpy(out, value, n);
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

static bool read_token(struct harness *h)
{
    size_t length = 0;
    char *text = file_read(h->kubeconfig, &length);
    if (!text) return false;
    char error[256];
    cJSON *documents = e2e_yaml_to_json(text, length, error, sizeof error);
    free(text);
    bool ok = false;
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(documents, 0), "users");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(users, 0), "user");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(user, "token");
    if (cJSON_IsString(token) && strlen(token->valuestring) < sizeof h->token) {
        snprintf(h->token, sizeof h->token, "%s", token->valuestring);
        ok = true;
    }
    cJSON_Delete(documents);
    return ok;
}

static bool sim_has_flag(const char *kubesim_bin, const char *flag)
{
    char *argv[] = { (char *)kubesim_bin, "--help", NULL };
    char *output = NULL;
    command_run(argv, 5000, &output);
    char needle[80];
    snprintf(needle, sizeof needle, "--%s ", flag);
    bool found = output && strstr(output, needle);
    free(output);
    return found;
}

bool harness_sim_start(struct harness *h, const char *kubesim_bin, const char *work_dir,
                       const struct sim_options *options)
{
    struct sim_options defaults = { 0 };
    if (!options) options = &defaults;
    const char *dir = work_dir ? work_dir : test_temp_dir();
    if (!dir) return false;
    snprintf(h->work_dir, sizeof h->work_dir, "%s", dir);
    snprintf(h->kubeconfig, sizeof h->kubeconfig, "%s/kubeconfig", dir);
    h->speed = options->speed > 0 ? options->speed : 10;
    char speed[32];
    snprintf(speed, sizeof speed, "%g", h->speed);

    char *argv[24];
    size_t n = 0;
    argv[n++] = (char *)kubesim_bin;
    argv[n++] = "--listen=127.0.0.1:0";
    argv[n++] = "--admin-listen=127.0.0.1:0";
    argv[n++] = "--kubeconfig-out";
    argv[n++] = h->kubeconfig;
    bool has_world = sim_has_flag(kubesim_bin, "world");
    if (sim_has_flag(kubesim_bin, "proxy-listen")) argv[n++] = "--proxy-listen=127.0.0.1:0";
    if (has_world) {
        argv[n++] = "--world";
        argv[n++] = (char *)(options->world ? options->world : "default");
    }
    if (sim_has_flag(kubesim_bin, "speed")) {
        argv[n++] = "--speed";
        argv[n++] = speed;
    }
    if (options->world_config && sim_has_flag(kubesim_bin, "world-config")) {
        argv[n++] = "--world-config";
        argv[n++] = (char *)options->world_config;
    }
    if (options->data_dir) {
        argv[n++] = "--data-dir";
        argv[n++] = (char *)options->data_dir;
    }
    if (options->log_level) {
        argv[n++] = "--log-level";
        argv[n++] = (char *)options->log_level;
    }
    argv[n] = NULL;
    if (!child_start_tracked(&h->sim, argv, NULL)) {
        fprintf(stdout, "  cannot start %s\n", kubesim_bin);
        return false;
    }
    h->sim_running = true;
    int64_t deadline = harness_now_ms() + SIM_START_TIMEOUT_MS;
    while (harness_now_ms() < deadline) {
        char *output = child_output(&h->sim);
        const char *line = output ? strstr(output, "kubesim api=") : NULL;
        if (line && strchr(line, '\n')) {
            bool ok = line_value(line, "api", h->api_url, sizeof h->api_url) &&
                      line_value(line, "admin", h->admin_url, sizeof h->admin_url);
            if (!line_value(line, "proxy", h->proxy_url, sizeof h->proxy_url) ||
                strcmp(h->proxy_url, "-") == 0)
                h->proxy_url[0] = '\0';
            free(output);
            if (!ok || !read_token(h)) {
                fprintf(stdout, "  kubesim ready line or kubeconfig unreadable\n");
                return false;
            }
            return true;
        }
        free(output);
        int code;
        if (child_wait(&h->sim, 0, &code)) {
            untrack(h->sim.pid);
            h->sim_running = false;
            char *log = child_output(&h->sim);
            fprintf(stdout, "  kubesim exited with %d: %s\n", code, log);
            free(log);
            return false;
        }
        harness_sleep_ms(20);
    }
    fprintf(stdout, "  kubesim printed no ready line within %d ms\n", SIM_START_TIMEOUT_MS);
    return false;
}

bool harness_sim_running(struct harness *h, int *code)
{
    if (!h->sim_running) return false;
    pid_t pid = h->sim.pid;
    int status = 0;
    if (child_wait(&h->sim, 0, &status)) {
        untrack(pid);
        h->sim_running = false;
        if (code) *code = status;
        return false;
    }
    return true;
}

bool harness_sim_stop(struct harness *h, int timeout_ms)
{
    if (!h->sim_running) return false;
    h->sim_running = false;
    return child_term_tracked(&h->sim, timeout_ms);
}

bool harness_operator_has_flag(const char *flag)
{
    static char *help;
    if (!help) {
        const char *binary = binary_under_test("TIDB_OPERATOR_BIN");
        if (!binary) return false;
        char *argv[] = { (char *)binary, "--help", NULL };
        command_run(argv, 5000, &help);
        if (!help) return false;
    }
    char needle[80];
    snprintf(needle, sizeof needle, "--%s ", flag);
    return strstr(help, needle) != NULL;
}

static bool operator_launch(struct harness *h, struct operator_proc *op, const char *binary,
                            const struct operator_options *options)
{
    struct operator_options defaults = { 0 };
    if (!options) options = &defaults;
    if (options->leader_elect && !harness_operator_has_flag("leader-elect")) {
        fprintf(stdout, "  the operator has no --leader-elect flag\n");
        return false;
    }
    op->metrics_port = free_port();
    char metrics[64], kubeconfig[600], identity[100], lease[64], renew[64], retry[64], fast[64],
        slow[64], level[64];
    snprintf(metrics, sizeof metrics, "--metrics-address=127.0.0.1:%d", op->metrics_port);
    snprintf(kubeconfig, sizeof kubeconfig, "--kubeconfig=%s", h->kubeconfig);
    snprintf(identity, sizeof identity, "--identity=%s", op->identity);
    snprintf(lease, sizeof lease, "--lease-duration=%s", options->lease_duration ? options->lease_duration : "3s");
    snprintf(renew, sizeof renew, "--renew-deadline=%s", options->renew_deadline ? options->renew_deadline : "2s");
    snprintf(retry, sizeof retry, "--retry-period=%s", options->retry_period ? options->retry_period : "500ms");
    snprintf(fast, sizeof fast, "--pd-poll-fast=%s", options->pd_poll_fast ? options->pd_poll_fast : "300ms");
    snprintf(slow, sizeof slow, "--pd-poll-slow=%s", options->pd_poll_slow ? options->pd_poll_slow : "2s");
    const char *level_override = getenv("E2E_OPERATOR_LOG_LEVEL");
    snprintf(level, sizeof level, "--log-level=%s",
             level_override ? level_override : options->log_level ? options->log_level : "info");
    char *argv[20];
    size_t n = 0;
    argv[n++] = (char *)binary;
    argv[n++] = kubeconfig;
    argv[n++] = metrics;
    argv[n++] = level;
    if (harness_operator_has_flag("identity")) argv[n++] = identity;
    if (harness_operator_has_flag("pd-poll-fast")) argv[n++] = fast;
    if (harness_operator_has_flag("pd-poll-slow")) argv[n++] = slow;
    if (options->leader_elect) {
        argv[n++] = "--leader-elect=true";
        if (harness_operator_has_flag("lease-duration")) argv[n++] = lease;
        if (harness_operator_has_flag("renew-deadline")) argv[n++] = renew;
        if (harness_operator_has_flag("retry-period")) argv[n++] = retry;
    } else if (harness_operator_has_flag("leader-elect")) {
        argv[n++] = "--leader-elect=false";
    }
    for (size_t i = 0; i < sizeof options->extra / sizeof options->extra[0] && options->extra[i]; i++)
        argv[n++] = (char *)options->extra[i];
    argv[n] = NULL;
    static char http_proxy[200], no_proxy[] = "no_proxy=127.0.0.1,localhost",
                no_proxy_upper[] = "NO_PROXY=127.0.0.1,localhost", https_proxy[] = "https_proxy=";
    snprintf(http_proxy, sizeof http_proxy, "http_proxy=%s", h->proxy_url);
    char *env[] = { http_proxy, no_proxy, no_proxy_upper, https_proxy, NULL };
    if (!child_start_tracked(&op->child, argv, h->proxy_url[0] ? env : env + 1)) return false;
    op->started = true;
    char *body = NULL;
    int status = http_get_when_up(op->metrics_port, "/healthz", OPERATOR_HEALTH_TIMEOUT_MS, &body);
    free(body);
    if (status <= 0) {
        fprintf(stdout, "  operator %s did not serve /healthz within %d ms\n", op->identity,
                OPERATOR_HEALTH_TIMEOUT_MS);
        return false;
    }
    return true;
}

static struct operator_options operator_saved_options[HARNESS_MAX_OPERATORS];

struct operator_proc *harness_operator_start_bin(struct harness *h, const char *operator_bin,
                                                 const struct operator_options *options)
{
    if (!operator_bin || h->operator_count >= HARNESS_MAX_OPERATORS) return NULL;
    size_t index = h->operator_count++;
    struct operator_proc *op = &h->operators[index];
    memset(op, 0, sizeof *op);
    if (options && options->identity)
        snprintf(op->identity, sizeof op->identity, "%s", options->identity);
    else
        snprintf(op->identity, sizeof op->identity, "operator-%zu", index);
    operator_saved_options[index] = options ? *options : (struct operator_options){ 0 };
    operator_saved_options[index].identity = NULL;
    return operator_launch(h, op, operator_bin, &operator_saved_options[index]) ? op : NULL;
}

struct operator_proc *harness_operator_start(struct harness *h, const struct operator_options *options)
{
    return harness_operator_start_bin(h, binary_under_test("TIDB_OPERATOR_BIN"), options);
}

bool harness_operator_restart(struct harness *h, struct operator_proc *op)
{
    size_t index = (size_t)(op - h->operators);
    if (index >= h->operator_count) return false;
    if (op->child.pid > 0) harness_operator_kill(op);
    return operator_launch(h, op, binary_under_test("TIDB_OPERATOR_BIN"), &operator_saved_options[index]);
}

void harness_operator_kill(struct operator_proc *op)
{
    if (op->child.pid > 0) child_kill_tracked(&op->child);
}

bool harness_operator_term(struct operator_proc *op, int timeout_ms)
{
    return child_term_tracked(&op->child, timeout_ms);
}

void harness_operator_signal(struct operator_proc *op, int signal_number)
{
    if (op->child.pid > 0) kill(op->child.pid, signal_number);
}

bool harness_operator_wait(struct operator_proc *op, int timeout_ms, int *code)
{
    pid_t pid = op->child.pid;
    if (pid <= 0) return false;
    if (!child_wait(&op->child, timeout_ms, code)) return false;
    untrack(pid);
    return true;
}

bool harness_operator_running(struct operator_proc *op)
{
    if (op->child.pid <= 0) return false;
    int code;
    pid_t pid = op->child.pid;
    if (child_wait(&op->child, 0, &code)) {
        untrack(pid);
        return false;
    }
    return true;
}

bool harness_operator_metric(struct operator_proc *op, const char *sample, double *value)
{
    char *body = NULL;
    int status = http_get_blocking(op->metrics_port, "/metrics", &body);
    bool found = false;
    size_t length = strlen(sample);
    for (const char *line = body; status == 200 && line && *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, sample, length) == 0 && line[length] == ' ') {
            *value = strtod(line + length + 1, NULL);
            found = true;
            break;
        }
        line = end ? end + 1 : NULL;
    }
    free(body);
    return found;
}

static void dump_tail(const char *title, const struct child *child, int lines)
{
    char *log = child_output(child);
    if (!log) return;
    size_t length = strlen(log);
    const char *start = log + length;
    int seen = 0;
    while (start > log) {
        if (start[-1] == '\n' && ++seen > lines) break;
        start--;
    }
    fprintf(stdout, "  ---- last %d lines of %s (%s) ----\n", lines, title, child->output_path);
    for (const char *line = start; *line;) {
        const char *end = strchr(line, '\n');
        int n = end ? (int)(end - line) : (int)strlen(line);
        fprintf(stdout, "  | %.*s\n", n > 400 ? 400 : n, line);
        line = end ? end + 1 : line + n;
    }
    free(log);
}

void harness_dump_logs(struct harness *h, int lines)
{
    int code = 0;
    if (h->sim_running && !harness_sim_running(h, &code)) {
        if (code > 128) fprintf(stdout, "  kubesim had ended: killed by signal %d\n", code - 128);
        else fprintf(stdout, "  kubesim had ended: exit code %d\n", code);
    }
    if (h->sim.output_path[0]) dump_tail("kubesim", &h->sim, lines);
    for (size_t i = 0; i < h->operator_count; i++)
        if (h->operators[i].started) dump_tail(h->operators[i].identity, &h->operators[i].child, lines);
}

void harness_stop_all(struct harness *h)
{
    for (size_t i = 0; i < h->operator_count; i++)
        if (h->operators[i].child.pid > 0) harness_operator_term(&h->operators[i], 5000);
    harness_sim_stop(h, 5000);
}

void harness_run(void (*body)(struct harness *h), const struct sim_options *options)
{
    const char *reason = harness_skip_reason();
    if (reason) {
        test_skip("%s", reason);
        return;
    }
    struct harness *h = calloc(1, sizeof *h);
    if (!h) {
        test_fail(__FILE__, __LINE__, "out of memory");
        return;
    }
    if (!harness_sim_start(h, binary_under_test("KUBESIM_BIN"), NULL, options))
        test_fail(__FILE__, __LINE__, "kubesim did not start");
    else
        body(h);
    if (test_failed()) {
        const char *lines = getenv("E2E_LOG_LINES");
        harness_dump_logs(h, lines ? atoi(lines) : 30);
    }
    harness_stop_all(h);
    free(h);
}

/* ---- HTTP (libcurl easy) ---- */

static void curl_global(void)
{
    static bool done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = true;
        atexit(curl_global_cleanup);
    }
}

static size_t collect(char *data, size_t size, size_t count, void *user)
{
    fwrite(data, size, count, (FILE *)user);
    return count;
}

/* One blocking request; `proxy` NULL: direct. */
static int http_request(const char *method, const char *url, const char *proxy,
                        const char *authorization, const char *content_type, const char *body,
                        char **response)
{
    curl_global();
    if (response) *response = NULL;
    CURL *curl = curl_easy_init();
    if (!curl) return -1;
    char *data = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&data, &size);
    struct curl_slist *headers = NULL;
    char header[512];
    if (authorization) {
        snprintf(header, sizeof header, "Authorization: %s", authorization);
        headers = curl_slist_append(headers, header);
    }
    if (content_type) {
        snprintf(header, sizeof header, "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, header);
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L); /* our own simulator's CA */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    if (proxy) curl_easy_setopt(curl, CURLOPT_PROXY, proxy);
    else curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode rc = curl_easy_perform(curl);
    long status = -1;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    fclose(out);
    if (response) *response = data;
    else free(data);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return (int)status;
}

int e2e_request(struct harness *h, const char *method, const char *path, const char *body,
                 char **response)
{
    char url[2048], authorization[300];
    snprintf(url, sizeof url, "%s%s", h->api_url, path);
    snprintf(authorization, sizeof authorization, "Bearer %s", h->token);
    const char *type = NULL;
    if (body) type = strcmp(method, "PATCH") == 0 ? "application/merge-patch+json" : "application/json";
    return http_request(method, url, NULL, authorization, type, body, response);
}

cJSON *e2e_get(struct harness *h, const char *path, int *status)
{
    char *response = NULL;
    int code = e2e_request(h, "GET", path, NULL, &response);
    if (status) *status = code;
    cJSON *json = code == 200 && response ? cJSON_Parse(response) : NULL;
    free(response);
    return json;
}

int e2e_create(struct harness *h, const char *path, const cJSON *object, char **response)
{
    char *text = cJSON_PrintUnformatted(object);
    int code = e2e_request(h, "POST", path, text, response);
    free(text);
    return code;
}

int e2e_delete(struct harness *h, const char *path)
{
    return e2e_request(h, "DELETE", path, NULL, NULL);
}

int e2e_merge_patch(struct harness *h, const char *path, const char *patch_json)
{
    return e2e_request(h, "PATCH", path, patch_json, NULL);
}

struct kind_route {
    const char *kind, *plural;
    bool namespaced;
};

static const struct kind_route kind_routes[] = {
    { "CustomResourceDefinition", "customresourcedefinitions", false },
    { "TidbCluster", "tidbclusters", true },
    { "Namespace", "namespaces", false },
    { "Node", "nodes", false },
    { "PersistentVolume", "persistentvolumes", false },
    { "StorageClass", "storageclasses", false },
    { "Pod", "pods", true },
    { "Service", "services", true },
    { "ConfigMap", "configmaps", true },
    { "Secret", "secrets", true },
    { "PersistentVolumeClaim", "persistentvolumeclaims", true },
    { "Event", "events", true },
    { "Lease", "leases", true },
};

bool e2e_collection_path(const char *api_version, const char *kind, const char *namespace,
                          char *out, size_t size)
{
    for (size_t i = 0; i < sizeof kind_routes / sizeof kind_routes[0]; i++) {
        if (strcmp(kind_routes[i].kind, kind) != 0) continue;
        const char *prefix = strchr(api_version, '/') ? "/apis/" : "/api/";
        int n;
        if (kind_routes[i].namespaced)
            n = snprintf(out, size, "%s%s/namespaces/%s/%s", prefix, api_version,
                         namespace ? namespace : "default", kind_routes[i].plural);
        else
            n = snprintf(out, size, "%s%s/%s", prefix, api_version, kind_routes[i].plural);
        return n > 0 && (size_t)n < size;
    }
    return false;
}

int e2e_apply(struct harness *h, const cJSON *object, const char *namespace, char **response)
{
    if (response) *response = NULL;
    const char *api_version = e2e_jpath_str(object, "apiVersion");
    const char *kind = e2e_jpath_str(object, "kind");
    const char *name = e2e_jpath_str(object, "metadata.name");
    const char *object_namespace = e2e_jpath_str(object, "metadata.namespace");
    char path[1024];
    if (!api_version || !kind || !name ||
        !e2e_collection_path(api_version, kind, object_namespace ? object_namespace : namespace,
                              path, sizeof path))
        return -1;
    int code = e2e_create(h, path, object, response);
    if (code != 409) return code;
    if (response) { free(*response); *response = NULL; }
    char item[1200];
    snprintf(item, sizeof item, "%s/%s", path, name);
    cJSON *existing = e2e_get(h, item, &code);
    if (!existing) return code;
    cJSON *copy = cJSON_Duplicate(object, true);
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    const char *version = e2e_jpath_str(existing, "metadata.resourceVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "resourceVersion");
    if (version) cJSON_AddStringToObject(metadata, "resourceVersion", version);
    char *text = cJSON_PrintUnformatted(copy);
    code = e2e_request(h, "PUT", item, text, response);
    free(text);
    cJSON_Delete(copy);
    cJSON_Delete(existing);
    return code;
}

static bool crd_served(struct harness *h, const cJSON *crd)
{
    const char *group = e2e_jpath_str(crd, "spec.group");
    const char *plural = e2e_jpath_str(crd, "spec.names.plural");
    const cJSON *versions = e2e_jpath(crd, "spec.versions");
    const char *version = e2e_jpath_str(cJSON_GetArrayItem(versions, 0), "name");
    if (!group || !plural || !version) return true;
    char path[512];
    snprintf(path, sizeof path, "/apis/%s/%s/%s", group, version, plural);
    for (int64_t deadline = harness_now_ms() + 5000; harness_now_ms() < deadline;
         harness_sleep_ms(50)) {
        int status = 0;
        cJSON *list = e2e_get(h, path, &status);
        cJSON_Delete(list);
        if (status == 200) return true;
    }
    fprintf(stdout, "  %s is not served 5 s after its CRD was created\n", path);
    return false;
}

bool harness_apply_yaml(struct harness *h, const char *yaml, const char *namespace)
{
    char error[256];
    cJSON *documents = e2e_yaml_to_json(yaml, strlen(yaml), error, sizeof error);
    if (!documents) {
        fprintf(stdout, "  %s\n", error);
        return false;
    }
    bool ok = true;
    const cJSON *document;
    cJSON_ArrayForEach(document, documents) {
        char *response = NULL;
        int code = e2e_apply(h, document, namespace, &response);
        if (code != 200 && code != 201) {
            fprintf(stdout, "  apply %s/%s: HTTP %d %s\n", e2e_jpath_str(document, "kind"),
                    e2e_jpath_str(document, "metadata.name"), code, response ? response : "");
            ok = false;
        } else if (strcmp(e2e_jpath_str(document, "kind"), "CustomResourceDefinition") == 0) {
            ok = crd_served(h, document) && ok;
        }
        free(response);
    }
    cJSON_Delete(documents);
    return ok;
}

bool harness_apply_file(struct harness *h, const char *file, const char *namespace)
{
    char *text = e2e_repo_file_read(file, NULL);
    if (!text) {
        fprintf(stdout, "  cannot read %s\n", file);
        return false;
    }
    bool ok = harness_apply_yaml(h, text, namespace);
    free(text);
    return ok;
}

int harness_admin_post(struct harness *h, const char *path, const char *body, char **response)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", h->admin_url, path);
    return http_request("POST", url, NULL, NULL, body ? "application/json" : NULL, body, response);
}

void e2e_print_events(struct harness *h, const char *namespace, int max)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", namespace);
    cJSON *events = e2e_list(h, path);
    int count = cJSON_GetArraySize(events);
    for (int i = count > max ? count - max : 0; i < count; i++) {
        const cJSON *event = cJSON_GetArrayItem(events, i);
        printf("  event %s %s: %s\n", e2e_jpath_str(event, "type") ? e2e_jpath_str(event, "type") : "?",
               e2e_jpath_str(event, "reason") ? e2e_jpath_str(event, "reason") : "?",
               e2e_jpath_str(event, "message") ? e2e_jpath_str(event, "message") : "?");
    }
    cJSON_Delete(events);
}

bool e2e_world_config(const char *json, struct sim_options *options, char *path, size_t size)
{
    snprintf(path, size, "%s/world.json", test_temp_dir());
    FILE *file = fopen(path, "w");
    if (!file) {
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
        return false;
    }
    bool ok = fputs(json, file) >= 0 && fputc('\n', file) != EOF;
    ok = fclose(file) == 0 && ok;
    if (!ok)
        test_fail(__FILE__, __LINE__, "cannot write %s", path);
    options->world_config = path;
    return ok;
}

int harness_admin_delete(struct harness *h, const char *path)
{
    char url[1024], *response = NULL;
    snprintf(url, sizeof url, "%s%s", h->admin_url, path);
    int status = http_request("DELETE", url, NULL, NULL, NULL, NULL, &response);
    free(response);
    return status;
}

cJSON *harness_proxy_get(struct harness *h, const char *url, int *status)
{
    if (status) *status = -1;
    if (!h->proxy_url[0]) return NULL;
    char *response = NULL;
    int code = http_request("GET", url, h->proxy_url, NULL, NULL, NULL, &response);
    if (status) *status = code;
    cJSON *json = code == 200 && response ? cJSON_Parse(response) : NULL;
    free(response);
    return json;
}

/* ---- waiting ---- */

bool harness_wait(struct harness *h, harness_predicate predicate, void *data, int timeout_ms,
                  int poll_ms, char *why, size_t why_size)
{
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        if (why_size) why[0] = '\0';
        if (predicate(h, data, why, why_size)) return true;
        if (harness_now_ms() >= deadline) return false;
        harness_sleep_ms(poll_ms > 0 ? poll_ms : 200);
    }
}

/* ---- JSON helpers ---- */

const cJSON *e2e_jpath(const cJSON *object, const char *path)
{
    char segment[128];
    const cJSON *node = object;
    while (node && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof segment) return NULL;
        memcpy(segment, path, n);
        segment[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, segment);
        path += n;
        if (*path == '.') path++;
    }
    return node;
}

const char *e2e_jpath_str(const cJSON *object, const char *path)
{
    const cJSON *node = e2e_jpath(object, path);
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

int e2e_jpath_count(const cJSON *object, const char *path)
{
    const cJSON *node = e2e_jpath(object, path);
    return (cJSON_IsObject(node) || cJSON_IsArray(node)) ? cJSON_GetArraySize(node) : 0;
}

const cJSON *e2e_tc_condition(const cJSON *tc, const char *type)
{
    const cJSON *condition;
    cJSON_ArrayForEach(condition, e2e_jpath(tc, "status.conditions")) {
        const char *t = e2e_jpath_str(condition, "type");
        if (t && strcmp(t, type) == 0) return condition;
    }
    return NULL;
}

/* ---- cluster views ---- */

static cJSON *list_items(struct harness *h, const char *namespace, const char *plural,
                         const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s?labelSelector=app.kubernetes.io%%2Finstance%%3D%s",
             namespace, plural, name);
    cJSON *list = e2e_get(h, path, NULL);
    if (!list) return NULL;
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(list, "items");
    cJSON_Delete(list);
    return items ? items : cJSON_CreateArray();
}

bool e2e_cluster_view_load(struct harness *h, const char *namespace, const char *name, bool with_pd,
                       struct e2e_cluster_view *view)
{
    memset(view, 0, sizeof *view);
    char path[512];
    snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/%s/tidbclusters/%s",
             namespace, name);
    view->tc = e2e_get(h, path, NULL);
    view->pods = list_items(h, namespace, "pods", name);
    view->pvcs = list_items(h, namespace, "persistentvolumeclaims", name);
    view->services = list_items(h, namespace, "services", name);
    view->configmaps = list_items(h, namespace, "configmaps", name);
    if (with_pd) {
        char url[512];
        snprintf(url, sizeof url, "http://%s-pd.%s:2379/pd/api/v1/members", name, namespace);
        view->pd_members = harness_proxy_get(h, url, NULL);
        snprintf(url, sizeof url, "http://%s-pd.%s:2379/pd/api/v1/stores", name, namespace);
        view->pd_stores = harness_proxy_get(h, url, NULL);
    }
    return view->pods && view->pvcs && view->services && view->configmaps;
}

void e2e_cluster_view_free(struct e2e_cluster_view *view)
{
    cJSON_Delete(view->tc);
    cJSON_Delete(view->pods);
    cJSON_Delete(view->pvcs);
    cJSON_Delete(view->services);
    cJSON_Delete(view->configmaps);
    cJSON_Delete(view->pd_members);
    cJSON_Delete(view->pd_stores);
    memset(view, 0, sizeof *view);
}

static bool pod_running_ready(const cJSON *pod)
{
    const char *phase = e2e_jpath_str(pod, "status.phase");
    if (!phase || strcmp(phase, "Running") != 0) return false;
    if (e2e_jpath(pod, "metadata.deletionTimestamp")) return false;
    const cJSON *condition;
    cJSON_ArrayForEach(condition, e2e_jpath(pod, "status.conditions")) {
        const char *type = e2e_jpath_str(condition, "type");
        const char *status = e2e_jpath_str(condition, "status");
        if (type && status && strcmp(type, "Ready") == 0) return strcmp(status, "True") == 0;
    }
    return false;
}

static const char *component_of(const cJSON *object)
{
    const cJSON *labels = e2e_jpath(object, "metadata.labels");
    const cJSON *component = cJSON_GetObjectItemCaseSensitive(labels, "app.kubernetes.io/component");
    return cJSON_IsString(component) ? component->valuestring : "";
}

int e2e_cluster_count_pods(const cJSON *pods, const char *component, bool running_ready)
{
    int count = 0;
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        if (component && strcmp(component_of(pod), component) != 0) continue;
        if (running_ready && !pod_running_ready(pod)) continue;
        count++;
    }
    return count;
}

static bool list_has_name(const cJSON *items, const char *name)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, items) {
        const char *n = e2e_jpath_str(item, "metadata.name");
        if (n && strcmp(n, name) == 0) return true;
    }
    return false;
}

#define WHY(...) do { snprintf(why, why_size, __VA_ARGS__); goto done; } while (0)

const struct e2e_cluster_expect harness_basic_cluster = { "default", "basic", 3, 3, 2, false };

bool e2e_cluster_is_ready(struct harness *h, const struct e2e_cluster_expect *expect, char *why,
                      size_t why_size)
{
    const char *ns = expect->namespace ? expect->namespace : "default";
    const char *name = expect->name ? expect->name : "basic";
    struct e2e_cluster_view view;
    bool ok = false;
    if (!e2e_cluster_view_load(h, ns, name, true, &view)) WHY("the API did not answer the lists");
    if (!view.tc) WHY("TidbCluster %s/%s not found", ns, name);

    static const char *const components[] = { "pd", "tikv", "tidb" };
    int wanted[] = { expect->pd, expect->tikv, expect->tidb };
    char member[256];
    /* Exactly the expected pods, each Running and Ready. */
    for (int c = 0; c < 3; c++) {
        int total = e2e_cluster_count_pods(view.pods, components[c], false);
        int ready = e2e_cluster_count_pods(view.pods, components[c], true);
        if (total != wanted[c] || ready != wanted[c])
            WHY("%s pods: %d exist, %d Running+Ready, want %d", components[c], total, ready, wanted[c]);
        for (int i = 0; i < wanted[c]; i++) {
            snprintf(member, sizeof member, "%s-%s-%d", name, components[c], i);
            if (!list_has_name(view.pods, member)) WHY("pod %s missing", member);
        }
    }
    if (cJSON_GetArraySize(view.pods) != expect->pd + expect->tikv + expect->tidb)
        WHY("%d pods carry instance=%s, want %d", cJSON_GetArraySize(view.pods), name,
            expect->pd + expect->tikv + expect->tidb);
    /* PVCs: one per PD and TiKV member (TiDB only when asked), no others. */
    int pvcs = expect->pd + expect->tikv + (expect->tidb_pvc ? expect->tidb : 0);
    for (int c = 0; c < 3; c++) {
        if (c == 2 && !expect->tidb_pvc) continue;
        for (int i = 0; i < wanted[c]; i++) {
            snprintf(member, sizeof member, "%s-%s-%s-%d", components[c], name, components[c], i);
            if (!list_has_name(view.pvcs, member)) WHY("PVC %s missing", member);
        }
    }
    if (cJSON_GetArraySize(view.pvcs) != pvcs)
        WHY("%d PVCs, want %d", cJSON_GetArraySize(view.pvcs), pvcs);
    /* Services. */
    const char *services[] = { "pd", "pd-peer", "tikv-peer", "tidb", "tidb-peer" };
    for (size_t i = 0; i < 5; i++) {
        if (i >= 3 && expect->tidb == 0) continue;
        snprintf(member, sizeof member, "%s-%s", name, services[i]);
        if (!list_has_name(view.services, member)) WHY("service %s missing", member);
    }
    /* PD, through the proxy. */
    if (!view.pd_members) WHY("PD members not reachable through the proxy");
    if (e2e_jpath_count(view.pd_members, "members") != expect->pd)
        WHY("PD reports %d members, want %d", e2e_jpath_count(view.pd_members, "members"), expect->pd);
    if (!e2e_jpath_str(view.pd_members, "leader.name")) WHY("PD reports no leader");
    if (!view.pd_stores) WHY("PD stores not reachable through the proxy");
    int up = 0;
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(view.pd_stores, "stores")) {
        const char *state = e2e_jpath_str(store, "store.state_name");
        if (state && strcmp(state, "Up") == 0) up++;
    }
    if (up != expect->tikv) WHY("PD reports %d Up stores, want %d", up, expect->tikv);
    /* The TidbCluster's status. */
    const cJSON *tc = view.tc;
    if (e2e_jpath_count(tc, "status.pd.members") != expect->pd)
        WHY("status.pd.members has %d, want %d", e2e_jpath_count(tc, "status.pd.members"), expect->pd);
    int status_up = 0;
    cJSON_ArrayForEach(store, e2e_jpath(tc, "status.tikv.stores")) {
        const char *state = e2e_jpath_str(store, "state");
        if (state && strcmp(state, "Up") == 0) status_up++;
    }
    if (status_up != expect->tikv)
        WHY("status.tikv.stores has %d Up, want %d", status_up, expect->tikv);
    if (e2e_jpath_count(tc, "status.tidb.members") != expect->tidb)
        WHY("status.tidb.members has %d, want %d", e2e_jpath_count(tc, "status.tidb.members"), expect->tidb);
    const cJSON *ready = e2e_tc_condition(tc, "Ready");
    const char *ready_status = e2e_jpath_str(ready, "status");
    if (!ready_status || strcmp(ready_status, "True") != 0)
        WHY("condition Ready is %s (%s: %s)", ready_status ? ready_status : "absent",
            e2e_jpath_str(ready, "reason") ? e2e_jpath_str(ready, "reason") : "-",
            e2e_jpath_str(ready, "message") ? e2e_jpath_str(ready, "message") : "-");
    const cJSON *generation = e2e_jpath(tc, "metadata.generation");
    const cJSON *observed = e2e_jpath(tc, "status.observedGeneration");
    if (!cJSON_IsNumber(generation) || !cJSON_IsNumber(observed) ||
        generation->valuedouble != observed->valuedouble)
        WHY("status.observedGeneration %g != metadata.generation %g",
            cJSON_IsNumber(observed) ? observed->valuedouble : -1.0,
            cJSON_IsNumber(generation) ? generation->valuedouble : -1.0);
    ok = true;
done:
    e2e_cluster_view_free(&view);
    return ok;
}

static bool ready_predicate(struct harness *h, void *data, char *why, size_t why_size)
{
    return e2e_cluster_is_ready(h, data, why, why_size);
}

bool harness_wait_ready(struct harness *h, const struct e2e_cluster_expect *expect, int timeout_ms,
                        char *why, size_t why_size)
{
    return harness_wait(h, ready_predicate, (void *)expect, timeout_ms, 500, why, why_size);
}

/* ---- more helpers ---- */

cJSON *e2e_list(struct harness *h, const char *path)
{
    cJSON *list = e2e_get(h, path, NULL);
    if (!list) return NULL;
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(list, "items");
    cJSON_Delete(list);
    return items ? items : cJSON_CreateArray();
}

cJSON *e2e_repo_yaml_first(const char *relative)
{
    size_t length = 0;
    char *text = e2e_repo_file_read(relative, &length);
    if (!text) return NULL;
    char error[256];
    cJSON *documents = e2e_yaml_to_json(text, length, error, sizeof error);
    free(text);
    cJSON *first = documents ? cJSON_DetachItemFromArray(documents, 0) : NULL;
    cJSON_Delete(documents);
    return first;
}

cJSON *e2e_basic_cluster_object(void)
{
    return e2e_repo_yaml_first("examples/basic/tidb-cluster.yaml");
}

int e2e_create_cluster(struct harness *h, cJSON *tc, const char *namespace, const char *name,
                       char **response)
{
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(tc, "metadata");
    if (!metadata) metadata = cJSON_AddObjectToObject(tc, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "name");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "namespace");
    cJSON_AddStringToObject(metadata, "name", name);
    cJSON_AddStringToObject(metadata, "namespace", namespace);
    char path[256];
    snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/%s/tidbclusters", namespace);
    return e2e_create(h, path, tc, response);
}

static bool text_has(const char *text, const char *needle)
{
    return text && strstr(text, needle) != NULL;
}

bool e2e_tc_mentions(struct harness *h, const char *namespace, const char *name,
                     const char *needle, char *where, size_t where_size)
{
    char path[512];
    snprintf(path, sizeof path, "/apis/pingcap.com/v1alpha1/namespaces/%s/tidbclusters/%s", namespace, name);
    cJSON *tc = e2e_get(h, path, NULL);
    bool found = false;
    char seen[1024] = "";
    size_t used = 0;
    const cJSON *condition;
    cJSON_ArrayForEach(condition, e2e_jpath(tc, "status.conditions")) {
        const char *message = e2e_jpath_str(condition, "message");
        const char *reason = e2e_jpath_str(condition, "reason");
        if (text_has(message, needle) || text_has(reason, needle)) {
            snprintf(where, where_size, "condition %s: %s", e2e_jpath_str(condition, "type"),
                     message ? message : reason);
            found = true;
            break;
        }
        if (used < sizeof seen)
            used += (size_t)snprintf(seen + used, sizeof seen - used, "[condition %s %s %s: %s] ",
                                     e2e_jpath_str(condition, "type"), e2e_jpath_str(condition, "status"),
                                     reason ? reason : "-", message ? message : "-");
    }
    cJSON_Delete(tc);
    if (!found) {
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", namespace);
        cJSON *events = e2e_list(h, path);
        const cJSON *event;
        cJSON_ArrayForEach(event, events) {
            const char *object = e2e_jpath_str(event, "involvedObject.name");
            const char *kind = e2e_jpath_str(event, "involvedObject.kind");
            if (!object || strcmp(object, name) != 0 || !kind || strcmp(kind, "TidbCluster") != 0) continue;
            const char *message = e2e_jpath_str(event, "message");
            if (text_has(message, needle)) {
                snprintf(where, where_size, "event %s: %s", e2e_jpath_str(event, "reason"), message);
                found = true;
                break;
            }
            if (used < sizeof seen)
                used += (size_t)snprintf(seen + used, sizeof seen - used, "[event %s: %s] ",
                                         e2e_jpath_str(event, "reason"), message ? message : "-");
        }
        cJSON_Delete(events);
    }
    if (!found) snprintf(where, where_size, "%s", seen[0] ? seen : "no conditions, no events");
    return found;
}

int e2e_count_instance_objects(struct harness *h, const char *namespace, const char *name,
                               const char *plural)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s?labelSelector=app.kubernetes.io%%2Finstance%%3D%s",
             namespace, plural, name);
    cJSON *items = e2e_list(h, path);
    int count = items ? cJSON_GetArraySize(items) : -1;
    cJSON_Delete(items);
    return count;
}

double harness_operator_metric_sum(struct operator_proc *op, const char *family)
{
    char *body = NULL;
    int status = http_get_blocking(op->metrics_port, "/metrics", &body);
    double sum = 0;
    size_t length = strlen(family);
    for (const char *line = body; status == 200 && line && *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, family, length) == 0 && (line[length] == ' ' || line[length] == '{')) {
            const char *value = line[length] == '{' ? strstr(line, "} ") : line + length;
            if (value) sum += strtod(value + (line[length] == '{' ? 2 : 1), NULL);
        }
        line = end ? end + 1 : NULL;
    }
    free(body);
    return sum;
}

bool e2e_lease_holder(struct harness *h, char *holder, size_t size, char *lease_name, size_t name_size)
{
    cJSON *leases = e2e_list(h, "/apis/coordination.k8s.io/v1/leases");
    if (!leases) return false;
    const cJSON *chosen = NULL, *lease;
    cJSON_ArrayForEach(lease, leases) {
        const char *name = e2e_jpath_str(lease, "metadata.name");
        if (name && (strstr(name, "tidb") || strstr(name, "operator"))) { chosen = lease; break; }
        if (!chosen && e2e_jpath_str(lease, "spec.holderIdentity")) chosen = lease;
    }
    if (chosen) {
        const char *identity = e2e_jpath_str(chosen, "spec.holderIdentity");
        snprintf(holder, size, "%s", identity ? identity : "");
        snprintf(lease_name, name_size, "%s", e2e_jpath_str(chosen, "metadata.name"));
    }
    cJSON_Delete(leases);
    return chosen != NULL;
}

/* ---- identities and readiness, for scenarios that must find nothing changed ---- */

char *e2e_object_identities(struct harness *h, const char *path)
{
    cJSON *items = e2e_list(h, path);
    if (!items) return NULL;
    size_t size = 16;
    const cJSON *item;
    cJSON_ArrayForEach(item, items) size += 160;
    char *out = calloc(1, size);
    size_t used = 0;
    cJSON_ArrayForEach(item, items) {
        const char *name = e2e_jpath_str(item, "metadata.name");
        const char *uid = e2e_jpath_str(item, "metadata.uid");
        const char *volume = e2e_jpath_str(item, "spec.volumeName");
        bool deleting = e2e_jpath(item, "metadata.deletionTimestamp") != NULL;
        if (out) used += (size_t)snprintf(out + used, size - used, "%s=%s%s%s%s,", name ? name : "?",
                                          uid ? uid : "?", volume ? "@" : "", volume ? volume : "",
                                          deleting ? "(deleting)" : "");
    }
    cJSON_Delete(items);
    return out;
}

bool e2e_cluster_not_ready(struct harness *h, void *data, char *why, size_t why_size)
{
    struct e2e_not_ready *seen = data;
    cJSON *tc = e2e_get(h, "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/basic", NULL);
    const cJSON *ready = e2e_tc_condition(tc, "Ready");
    const char *status = e2e_jpath_str(ready, "status");
    bool down = status && strcmp(status, "False") == 0;
    snprintf(seen->reason, sizeof seen->reason, "%s", e2e_jpath_str(ready, "reason") ? e2e_jpath_str(ready, "reason") : "");
    snprintf(seen->message, sizeof seen->message, "%s",
             e2e_jpath_str(ready, "message") ? e2e_jpath_str(ready, "message") : "");
    snprintf(why, why_size, "Ready=%s (%s: %s)", status ? status : "?", seen->reason, seen->message);
    cJSON_Delete(tc);
    return down;
}

static const char *const basic_pods_path =
    "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Finstance%3Dbasic";
static const char *const basic_claims_path =
    "/api/v1/namespaces/default/persistentvolumeclaims?labelSelector=app.kubernetes.io%2Finstance%3Dbasic";

bool e2e_identities_read(struct harness *h, struct e2e_identities *out)
{
    out->pods = e2e_object_identities(h, basic_pods_path);
    out->claims = e2e_object_identities(h, basic_claims_path);
    if (out->pods && out->claims) return true;
    test_fail(__FILE__, __LINE__, "cannot list the pods and claims of default/basic");
    return false;
}

void e2e_identities_check_same(struct harness *h, const struct e2e_identities *before, const char *file,
                               int line)
{
    struct e2e_identities now = { 0 };
    if (!e2e_identities_read(h, &now)) {
        e2e_identities_free(&now);
        return;
    }
    if (strcmp(now.pods, before->pods) != 0)
        test_fail(file, line, "pods changed:\n  before %s\n  now    %s", before->pods, now.pods);
    if (strcmp(now.claims, before->claims) != 0)
        test_fail(file, line, "claims changed:\n  before %s\n  now    %s", before->claims, now.claims);
    e2e_identities_free(&now);
}

void e2e_identities_free(struct e2e_identities *identities)
{
    free(identities->pods);
    free(identities->claims);
    identities->pods = identities->claims = NULL;
}

bool harness_bring_up_basic(struct harness *h, int timeout_ms)
{
    char why[512];
    if (!harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL) ||
        !harness_operator_start(h, NULL) || !harness_apply_file(h, "examples/basic/tidb-cluster.yaml", "default")) {
        test_fail(__FILE__, __LINE__, "cannot start the operator or apply the example");
        return false;
    }
    if (harness_wait_ready(h, &harness_basic_cluster, timeout_ms, why, sizeof why)) return true;
    test_fail(__FILE__, __LINE__, "not Ready within %d s: %s", timeout_ms / 1000, why);
    return false;
}

bool e2e_milestone_reached(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct e2e_milestone *m = data;
    cJSON *pods = e2e_list(h, basic_pods_path);
    int count = pods ? e2e_cluster_count_pods(pods, m->component, false) : -1;
    cJSON_Delete(pods);
    snprintf(why, why_size, "%s: %d %s pods, want %d", m->what, count, m->component, m->pods);
    return count >= m->pods;
}
