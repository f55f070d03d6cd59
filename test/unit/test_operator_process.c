/* The tidb-operator binary as a user runs it: flags, configuration errors,
 * the observability endpoints, and an orderly stop on SIGTERM. */
#include "test/support/process.h"
#include "test/support/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static const char *operator_binary(void)
{
    const char *path = binary_under_test("TIDB_OPERATOR_BIN");
    if (!path) test_skip("TIDB_OPERATOR_BIN is not set (run through `zig build test`)");
    return path;
}

static char *write_file(const char *name, const char *content)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", test_temp_dir(), name) < 0) return NULL;
    FILE *file = fopen(path, "w");
    if (!file) { free(path); return NULL; }
    fputs(content, file);
    fclose(file);
    return path;
}

static const char valid_kubeconfig[] =
    "apiVersion: v1\nkind: Config\ncurrent-context: sim\n"
    "clusters:\n- name: sim\n  cluster:\n    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n"
    "users:\n- name: admin\n  user:\n    token: secret\n"
    "contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: admin\n";

static void operator_help_lists_flags(void)
{
    const char *binary = operator_binary();
    if (!binary) return;
    char *output = NULL;
    char *argv[] = { (char *)binary, "--help", NULL };
    CHECK_INT(command_run(argv, 5000, &output), 0);
    CHECK(strstr(output, "--kubeconfig") != NULL);
    CHECK(strstr(output, "--metrics-address") != NULL);
    free(output);
}

static void operator_rejects_bad_flags_in_one_line(void)
{
    const char *binary = operator_binary();
    if (!binary) return;
    struct { const char *flag; const char *message; } cases[] = {
        { "--no-such-flag", "tidb-operator: unknown flag --no-such-flag\n" },
        { "--log-level=loud", "tidb-operator: flag --log-level: invalid value \"loud\": expected debug, info, warn or error\n" },
        { "--stop-deadline=soon", "tidb-operator: flag --stop-deadline: invalid value \"soon\": expected a duration like 500ms, 15s, 2m or 1h\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *output = NULL;
        char *argv[] = { (char *)binary, (char *)cases[i].flag, NULL };
        CHECK_INT(command_run(argv, 5000, &output), 2);
        CHECK_STR(output, cases[i].message);
        free(output);
    }
}

static void operator_names_file_and_field_of_broken_kubeconfig(void)
{
    const char *binary = operator_binary();
    if (!binary) return;
    char *path = write_file("config",
        "apiVersion: v1\nkind: Config\ncurrent-context: sim\nclusters:\n- name: sim\n  cluster:\n"
        "    certificate-authority-data: '%%%'\n    server: https://127.0.0.1:6443\n"
        "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: sim\n  context: {cluster: sim, user: u}\n");
    REQUIRE(path);
    char *output = NULL;
    char *argv[] = { (char *)binary, "--kubeconfig", path, NULL };
    CHECK_INT(command_run(argv, 5000, &output), 2);
    char expected[1024];
    snprintf(expected, sizeof expected,
             "tidb-operator: kubeconfig %s: clusters[0].cluster.certificate-authority-data: invalid base64\n", path);
    CHECK_STR(output, expected);
    free(output);
    free(path);
}

static void operator_serves_metrics_and_stops_on_sigterm(void)
{
    const char *binary = operator_binary();
    if (!binary) return;
    char *config = write_file("config", valid_kubeconfig);
    REQUIRE(config);
    int port = free_port();
    char address[64];
    snprintf(address, sizeof address, "--metrics-address=127.0.0.1:%d", port);
    char *argv[] = { (char *)binary, "--kubeconfig", config, address, NULL };
    struct child child;
    REQUIRE(child_start(&child, argv, NULL));

    char *body = NULL;
    CHECK_INT(http_get_when_up(port, "/healthz", 10000, &body), 200);
    CHECK_STR(body, "ok");
    free(body);
    /* Nothing answers at the kubeconfig's server: not ready, and it says why. */
    CHECK_INT(http_get_blocking(port, "/readyz", &body), 503);
    CHECK(body && strstr(body, "[-]caches-synced failed") != NULL);
    CHECK(body && strstr(body, "[-]leader failed") != NULL);
    free(body);
    CHECK_INT(http_get_blocking(port, "/metrics", &body), 200);
    CHECK(body && strstr(body, "# TYPE process_resident_memory_bytes gauge") != NULL);
    CHECK(body && strstr(body, "process_start_time_seconds ") != NULL);
    /* The executor's budget: nothing in flight or queued yet. */
    CHECK(body && strstr(body, "\ntidb_operator_actions_in_flight 0\n") != NULL);
    CHECK(body && strstr(body, "\ntidb_operator_actions_queued 0\n") != NULL);

    /* The exposition passes promtool when it is installed. */
    char *metrics_path = body ? write_file("metrics.txt", body) : NULL;
    free(body);
    if (metrics_path && system("command -v promtool >/dev/null 2>&1") == 0) {
        char command[1200];
        snprintf(command, sizeof command, "promtool check metrics < %s > %s.out 2>&1", metrics_path, metrics_path);
        CHECK_INT(system(command), 0);
    }
    free(metrics_path);

    kill(child.pid, SIGTERM);
    int code = -1;
    CHECK(child_wait(&child, 10000, &code));
    CHECK_INT(code, 0);
    char *output = child_output(&child);
    CHECK(strstr(output, "msg=\"stop requested\" signal=SIGTERM") != NULL);
    CHECK(strstr(output, "msg=\"stopped\" exit_code=0") != NULL);
    free(output);
    child_kill(&child);
    /* The port is released: nothing answers any more. */
    CHECK_INT(http_get_blocking(port, "/healthz", NULL), -1);
    free(config);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(operator_help_lists_flags),
        TEST_CASE(operator_rejects_bad_flags_in_one_line),
        TEST_CASE(operator_names_file_and_field_of_broken_kubeconfig),
        TEST_CASE(operator_serves_metrics_and_stops_on_sigterm),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
