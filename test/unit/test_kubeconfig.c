#include "watchers/kube_credentials.h"
#include "watchers/kubeconfig_file.h"
#include "test/support/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* PEM-looking bytes; nothing here parses them as certificates. */
static const char ca_pem[] =
    "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mt\n"
    "-----END CERTIFICATE-----\n";
static const char client_pem[] =
    "-----BEGIN CERTIFICATE-----\nMIIBkTCCATegAwIBAgIIClientCertificateBytes==\n-----END CERTIFICATE-----\n";
static const char key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKeyBytesForTheClient==\n-----END EC PRIVATE KEY-----\n";

static char *path_in(const char *directory, const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", directory, name) < 0)
        return NULL;
    return path;
}

static bool write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (file == NULL)
        return false;
    bool ok = fputs(text, file) >= 0;
    return fclose(file) == 0 && ok;
}

static bool write_in(const char *directory, const char *name, const char *text)
{
    char *path = path_in(directory, name);
    bool ok = path != NULL && write_file(path, text);
    free(path);
    return ok;
}

static bool kubectl_available(void)
{
    const char *search = getenv("PATH");
    if (search == NULL)
        return false;
    char *copy = strdup(search);
    bool found = false;
    for (char *saved = NULL, *dir = strtok_r(copy, ":", &saved); dir && !found;
         dir = strtok_r(NULL, ":", &saved)) {
        char *candidate = path_in(dir, "kubectl");
        found = candidate != NULL && access(candidate, X_OK) == 0;
        free(candidate);
    }
    free(copy);
    return found;
}

/*
 * Runs `kubectl config ARGS...` (NULL-terminated) in `directory` with
 * KUBECONFIG=config; output goes to directory/kubectl.log, shown on failure.
 */
static bool kubectl(const char *directory, const char *config, ...)
{
    const char *argv[16] = { "kubectl", "config" };
    int argc = 2;
    va_list args;
    va_start(args, config);
    for (const char *arg = va_arg(args, const char *); arg != NULL && argc < 15;
         arg = va_arg(args, const char *))
        argv[argc++] = arg;
    va_end(args);
    argv[argc] = NULL;

    char *log_path = path_in(directory, "kubectl.log");
    if (log_path == NULL)
        return false;
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        free(log_path);
        return false;
    }
    if (child == 0) {
        int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log < 0 || chdir(directory) != 0 || setenv("KUBECONFIG", config, 1) != 0)
            _exit(126);
        dup2(log, 1);
        dup2(log, 2);
        execvp("kubectl", (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        char *output = NULL;
        size_t length = 0;
        if (kube_credentials_read_file(log_path, &output, &length))
            fprintf(stderr, "kubectl config %s failed:\n%s", argv[2], output);
        free(output);
    }
    free(log_path);
    return ok;
}

static bool file_equals(const char *data, size_t length, const char *expected)
{
    return data != NULL && length == strlen(expected) && memcmp(data, expected, length) == 0;
}

/* The temp dir, and a "kube" folder inside it that holds the config. */
static char *make_kube_dir(void)
{
    char *directory = path_in(test_temp_dir(), "kube");
    if (directory != NULL && mkdir(directory, 0700) != 0) {
        free(directory);
        return NULL;
    }
    return directory;
}

static bool resolve_file(const char *path, const char *context, struct kube_connection *out,
                         char **error)
{
    struct kubeconfig *config = kubeconfig_file_load(path, error);
    if (config == NULL)
        return false;
    bool ok = kubeconfig_file_resolve(config, context, out, error);
    kubeconfig_file_free(config);
    return ok;
}

static void kubectl_ca_file_and_token(void)
{
    if (!kubectl_available()) {
        test_skip("kubectl not found in PATH");
        return;
    }
    char *directory = make_kube_dir();
    REQUIRE(directory != NULL);
    char *config = path_in(directory, "config");
    char *ca_path = path_in(directory, "ca.pem");
    CHECK(write_in(directory, "ca.pem", ca_pem));
    /* Relative CA path as typed: it must resolve against the config's folder. */
    CHECK(kubectl(directory, config, "set-cluster", "dev", "--server=https://127.0.0.1:6443",
                  "--certificate-authority=ca.pem", NULL));
    CHECK(kubectl(directory, config, "set-credentials", "admin", "--token=s3cr3t.token", NULL));
    CHECK(kubectl(directory, config, "set-context", "dev", "--cluster=dev", "--user=admin",
                  "--namespace=tidb-admin", NULL));
    CHECK(kubectl(directory, config, "use-context", "dev", NULL));

    struct kube_connection connection;
    char *error = NULL;
    bool ok = resolve_file(config, NULL, &connection, &error);
    if (!ok)
        test_fail(__FILE__, __LINE__, "resolve: %s", error ? error : "(no message)");
    if (ok) {
        CHECK_STR(connection.server, "https://127.0.0.1:6443");
        CHECK_STR(connection.certificate_authority_file, ca_path);
        CHECK(file_equals(connection.certificate_authority_data, connection.certificate_authority_length, ca_pem));
        CHECK(!connection.insecure_skip_tls_verify);
        CHECK_STR(connection.token, "s3cr3t.token");
        CHECK(connection.token_file == NULL);
        CHECK(connection.client_certificate_data == NULL);
        CHECK(connection.client_key_data == NULL);
        CHECK_STR(connection.namespace, "tidb-admin");
    }
    kube_connection_free(&connection);
    free(error);
    free(ca_path);
    free(config);
    free(directory);
}

static void kubectl_embedded_certificates(void)
{
    if (!kubectl_available()) {
        test_skip("kubectl not found in PATH");
        return;
    }
    char *directory = make_kube_dir();
    REQUIRE(directory != NULL);
    char *config = path_in(directory, "config");
    CHECK(write_in(directory, "ca.pem", ca_pem));
    CHECK(write_in(directory, "client.pem", client_pem));
    CHECK(write_in(directory, "client-key.pem", key_pem));
    CHECK(kubectl(directory, config, "set-cluster", "prod", "--server=https://[fd00::10]:6443/",
                  "--certificate-authority=ca.pem", "--embed-certs", NULL));
    CHECK(kubectl(directory, config, "set-credentials", "operator", "--client-certificate=client.pem",
                  "--client-key=client-key.pem", "--embed-certs", NULL));
    CHECK(kubectl(directory, config, "set-context", "prod", "--cluster=prod", "--user=operator", NULL));
    CHECK(kubectl(directory, config, "use-context", "prod", NULL));
    /* The embedded copies must be what is used: the files are gone now. */
    char *paths[] = { path_in(directory, "ca.pem"), path_in(directory, "client.pem"),
                      path_in(directory, "client-key.pem") };
    for (size_t i = 0; i < 3; i++) {
        CHECK(paths[i] != NULL && unlink(paths[i]) == 0);
        free(paths[i]);
    }

    struct kube_connection connection;
    char *error = NULL;
    bool ok = resolve_file(config, NULL, &connection, &error);
    if (!ok)
        test_fail(__FILE__, __LINE__, "resolve: %s", error ? error : "(no message)");
    if (ok) {
        CHECK_STR(connection.server, "https://[fd00::10]:6443");
        CHECK(connection.certificate_authority_file == NULL);
        CHECK(file_equals(connection.certificate_authority_data, connection.certificate_authority_length, ca_pem));
        CHECK(connection.client_certificate_file == NULL);
        CHECK(file_equals(connection.client_certificate_data, connection.client_certificate_length, client_pem));
        CHECK(connection.client_key_file == NULL);
        CHECK(file_equals(connection.client_key_data, connection.client_key_length, key_pem));
        CHECK(connection.token == NULL);
        CHECK_STR(connection.namespace, "default");
    }
    kube_connection_free(&connection);
    free(error);
    free(config);
    free(directory);
}

static void kubectl_certificate_files_in_subfolder(void)
{
    if (!kubectl_available()) {
        test_skip("kubectl not found in PATH");
        return;
    }
    char *directory = make_kube_dir();
    REQUIRE(directory != NULL);
    char *config = path_in(directory, "config");
    char *certs = path_in(directory, "certs");
    REQUIRE(certs != NULL && mkdir(certs, 0700) == 0);
    CHECK(write_in(certs, "client.pem", client_pem));
    CHECK(write_in(certs, "client-key.pem", key_pem));
    CHECK(kubectl(directory, config, "set-cluster", "lab", "--server=https://lab.example:443",
                  "--insecure-skip-tls-verify=true", NULL));
    CHECK(kubectl(directory, config, "set-credentials", "me", "--client-certificate=certs/client.pem",
                  "--client-key=certs/client-key.pem", NULL));
    CHECK(kubectl(directory, config, "set-context", "lab", "--cluster=lab", "--user=me",
                  "--namespace=lab-ns", NULL));
    CHECK(kubectl(directory, config, "use-context", "lab", NULL));

    struct kube_connection connection;
    char *error = NULL;
    bool ok = resolve_file(config, NULL, &connection, &error);
    if (!ok)
        test_fail(__FILE__, __LINE__, "resolve: %s", error ? error : "(no message)");
    if (ok) {
        char *certificate = path_in(certs, "client.pem");
        char *key = path_in(certs, "client-key.pem");
        CHECK_STR(connection.server, "https://lab.example:443");
        CHECK(connection.insecure_skip_tls_verify);
        CHECK(connection.certificate_authority_data == NULL);
        CHECK_STR(connection.client_certificate_file, certificate);
        CHECK(file_equals(connection.client_certificate_data, connection.client_certificate_length, client_pem));
        CHECK_STR(connection.client_key_file, key);
        CHECK(file_equals(connection.client_key_data, connection.client_key_length, key_pem));
        CHECK_STR(connection.namespace, "lab-ns");
        free(certificate);
        free(key);
    }
    kube_connection_free(&connection);
    free(error);
    free(certs);
    free(config);
    free(directory);
}

static void kubectl_named_context_and_token_file(void)
{
    if (!kubectl_available()) {
        test_skip("kubectl not found in PATH");
        return;
    }
    char *directory = make_kube_dir();
    REQUIRE(directory != NULL);
    char *config = path_in(directory, "config");
    char *token_path = path_in(directory, "robot.token");
    CHECK(write_in(directory, "robot.token", "  robot-token-1\n"));
    CHECK(kubectl(directory, config, "set-cluster", "one", "--server=https://10.0.0.1:6443",
                  "--insecure-skip-tls-verify=true", NULL));
    CHECK(kubectl(directory, config, "set-cluster", "two", "--server=http://127.0.0.1:8080", NULL));
    CHECK(kubectl(directory, config, "set-credentials", "admin", "--token=admin-token", NULL));
    CHECK(kubectl(directory, config, "set", "users.robot.tokenFile", "robot.token", NULL));
    CHECK(kubectl(directory, config, "set-context", "first", "--cluster=one", "--user=admin", NULL));
    CHECK(kubectl(directory, config, "set-context", "second", "--cluster=two", "--user=robot",
                  "--namespace=ci", NULL));
    CHECK(kubectl(directory, config, "use-context", "first", NULL));

    struct kubeconfig *parsed = NULL;
    char *error = NULL;
    parsed = kubeconfig_file_load(config, &error);
    if (parsed == NULL)
        test_fail(__FILE__, __LINE__, "load: %s", error ? error : "(no message)");
    REQUIRE(parsed != NULL);
    CHECK_STR(parsed->current_context, "first");
    CHECK_INT(parsed->cluster_count, 2);
    CHECK_INT(parsed->user_count, 2);
    CHECK_INT(parsed->context_count, 2);

    struct kube_connection first, second;
    CHECK(kubeconfig_file_resolve(parsed, NULL, &first, &error));
    CHECK_STR(first.server, "https://10.0.0.1:6443");
    CHECK(first.insecure_skip_tls_verify);
    CHECK_STR(first.token, "admin-token");
    CHECK_STR(first.namespace, "default");

    CHECK(kubeconfig_file_resolve(parsed, "second", &second, &error));
    CHECK_STR(second.server, "http://127.0.0.1:8080");
    CHECK(!second.insecure_skip_tls_verify);
    CHECK_STR(second.token, "robot-token-1");
    CHECK_STR(second.token_file, token_path);
    CHECK_STR(second.namespace, "ci");

    /* The token from a tokenFile is re-read like a service-account token. */
    CHECK(write_in(directory, "robot.token", "robot-token-2\n"));
    CHECK_INT(kube_credentials_reload_token(&second, &error), KUBE_TOKEN_CHANGED);
    CHECK_STR(second.token, "robot-token-2");
    CHECK_INT(kube_credentials_reload_token(&first, &error), KUBE_TOKEN_UNCHANGED);
    CHECK_STR(first.token, "admin-token");

    kube_connection_free(&first);
    kube_connection_free(&second);
    kubeconfig_file_free(parsed);
    free(error);
    free(token_path);
    free(config);
    free(directory);
}

/* A kubeconfig every error case starts from; each case breaks one thing. */
struct broken_case {
    const char *name;
    const char *yaml;      /* NULL: the file does not exist */
    const char *context;
    const char *message;   /* after "kubeconfig PATH: " */
};

static void broken_files_report_file_and_field(void)
{
    static const char good_head[] =
        "apiVersion: v1\n"
        "kind: Config\n";
    static const struct broken_case cases[] = {
        { "missing file", NULL, NULL, "cannot read: No such file or directory" },
        { "empty file", "", NULL, "file is empty" },
        { "comments only", "# nothing here\n", NULL, "file is empty" },
        { "syntax error",
          "apiVersion: v1\n"
          "clusters:\n"
          "- name: a\n"
          "  cluster: {server: https://x:6443\n"
          "users: []\n",
          NULL,
          "line 5: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 4)" },
        { "tab indent", "clusters:\n\t- name: a\n", NULL,
          "line 2: YAML syntax error: found character that cannot start any token (while scanning for the next token at line 2)" },
        { "top level list", "- a\n- b\n", NULL, "expected a mapping at the top level" },
        { "clusters not a list", "clusters: {a: 1}\n", NULL, "clusters: expected a list" },
        { "entry not a mapping", "users:\n- just-a-name\n", NULL, "users[0]: expected a mapping" },
        { "clusters twice",
          "clusters:\n- name: a\n  cluster: {server: https://x}\nclusters:\n- name: b\n", NULL,
          "clusters: given twice" },
        { "current-context not a string", "current-context: [a]\n", NULL,
          "current-context: expected a string" },
        { "nameless cluster", "clusters:\n- cluster:\n    server: https://x\n", NULL,
          "clusters[0].name: missing" },
        { "duplicate context",
          "contexts:\n- name: a\n  context: {cluster: c}\n- name: a\n  context: {cluster: d}\n", NULL,
          "contexts[1].name: duplicate name \"a\"" },
        { "server not a string", "clusters:\n- name: a\n  cluster:\n    server: [1, 2]\n", NULL,
          "clusters[0].cluster.server: expected a string" },
        { "bad base64",
          "clusters:\n- name: a\n  cluster:\n    server: https://x\n"
          "- name: b\n  cluster:\n    server: https://y\n    certificate-authority-data: not*base64!\n",
          NULL, "clusters[1].cluster.certificate-authority-data: invalid base64" },
        { "bad key base64", "users:\n- name: u\n  user:\n    client-key-data: \"@@@@\"\n", NULL,
          "users[0].user.client-key-data: invalid base64" },
        { "bad bool", "clusters:\n- name: a\n  cluster:\n    insecure-skip-tls-verify: maybe\n", NULL,
          "clusters[0].cluster.insecure-skip-tls-verify: expected true or false, got \"maybe\"" },
        { "no current context",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "contexts:\n- name: a\n  context: {cluster: a}\ncurrent-context: \"\"\n",
          NULL, "current-context is not set and no context was given" },
        { "unknown context",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "contexts:\n- name: a\n  context: {cluster: a}\ncurrent-context: a\n",
          "dev", "context \"dev\" not found" },
        { "unknown current context", "current-context: gone\n", NULL, "context \"gone\" not found" },
        { "missing cluster",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "contexts:\n- name: dev\n  context: {cluster: b, user: u}\ncurrent-context: dev\n",
          NULL, "cluster \"b\" of context \"dev\" not found" },
        { "context without cluster",
          "contexts:\n- name: dev\n  context: {user: u}\ncurrent-context: dev\n",
          NULL, "contexts[0].context.cluster: missing (context \"dev\")" },
        { "missing user",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "users:\n- name: v\n  user: {token: t}\n"
          "contexts:\n- name: dev\n  context: {cluster: a, user: u}\ncurrent-context: dev\n",
          NULL, "user \"u\" of context \"dev\" not found" },
        { "missing server",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "- name: b\n  cluster:\n    insecure-skip-tls-verify: true\n"
          "contexts:\n- name: dev\n  context: {cluster: b}\ncurrent-context: dev\n",
          NULL, "clusters[1].cluster.server: missing (cluster \"b\")" },
        { "server without scheme",
          "clusters:\n- name: a\n  cluster: {server: \"10.0.0.1:6443\"}\n"
          "contexts:\n- name: dev\n  context: {cluster: a}\ncurrent-context: dev\n",
          NULL, "clusters[0].cluster.server: \"10.0.0.1:6443\" is not an http:// or https:// URL" },
        { "insecure with ca",
          "clusters:\n- name: a\n  cluster:\n    server: https://x\n    insecure-skip-tls-verify: true\n"
          "    certificate-authority-data: Y2EK\n"
          "contexts:\n- name: dev\n  context: {cluster: a}\ncurrent-context: dev\n",
          NULL, "clusters[0].cluster: certificate-authority and insecure-skip-tls-verify are both set" },
        { "exec plugin",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "users:\n- name: eks\n  user:\n    exec:\n      command: aws\n"
          "contexts:\n- name: dev\n  context: {cluster: a, user: eks}\ncurrent-context: dev\n",
          NULL, "users[0].user.exec: not supported by this client (user \"eks\")" },
        { "certificate without key",
          "clusters:\n- name: a\n  cluster: {server: https://x}\n"
          "users:\n- name: u\n  user:\n    client-certificate-data: Y2VydAo=\n"
          "contexts:\n- name: dev\n  context: {cluster: a, user: u}\ncurrent-context: dev\n",
          NULL, "users[0].user: client-certificate without client-key" },
    };
    const char *directory = test_temp_dir();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct broken_case *c = &cases[i];
        char name[64];
        snprintf(name, sizeof name, "broken-%zu.yaml", i);
        char *path = path_in(directory, name);
        REQUIRE(path != NULL);
        if (c->yaml != NULL) {
            /* The harmless head first for most cases, so line numbers stay as written. */
            bool plain = strncmp(c->name, "syntax", 6) == 0 || strncmp(c->name, "tab", 3) == 0 ||
                         strncmp(c->name, "top", 3) == 0 || strstr(c->name, "empty") != NULL ||
                         strstr(c->name, "comments") != NULL;
            char *text = NULL;
            CHECK(asprintf(&text, "%s%s", plain ? "" : good_head, c->yaml) >= 0);
            CHECK(write_file(path, text));
            free(text);
        }
        struct kube_connection connection;
        memset(&connection, 0x5a, sizeof connection);
        char *error = NULL;
        bool ok = resolve_file(path, c->context, &connection, &error);
        char *expected = NULL;
        CHECK(asprintf(&expected, "kubeconfig %s: %s", path, c->message) >= 0);
        if (ok) {
            test_fail(__FILE__, __LINE__, "%s: resolved, expected \"%s\"", c->name, expected);
            kube_connection_free(&connection);
        } else if (error == NULL || strcmp(error, expected) != 0) {
            test_fail(__FILE__, __LINE__, "%s:\n    got      \"%s\"\n    expected \"%s\"", c->name,
                      error ? error : "(null)", expected);
        }
        free(expected);
        free(error);
        free(path);
    }
}

static void unreadable_referenced_files_are_named(void)
{
    const char *directory = test_temp_dir();
    char *path = path_in(directory, "config");
    REQUIRE(path != NULL);
    CHECK(write_file(path,
                     "clusters:\n- name: a\n  cluster:\n    server: https://x/\n    certificate-authority: missing-ca.pem\n"
                     "- name: b\n  cluster: {server: https://y}\n"
                     "users:\n- name: u\n  user:\n    tokenFile: /nonexistent/token\n"
                     "contexts:\n- name: ca\n  context: {cluster: a}\n"
                     "- name: token\n  context: {cluster: b, user: u}\n"));
    struct kube_connection connection;
    char *error = NULL;
    char *expected = NULL;
    CHECK(!resolve_file(path, "ca", &connection, &error));
    CHECK(asprintf(&expected, "kubeconfig %s: clusters[0].cluster.certificate-authority: cannot read %s/missing-ca.pem: No such file or directory",
                   path, directory) >= 0);
    CHECK_STR(error, expected);
    free(expected);
    free(error);
    CHECK(!resolve_file(path, "token", &connection, &error));
    CHECK(asprintf(&expected, "kubeconfig %s: users[0].user.tokenFile: cannot read token file /nonexistent/token: No such file or directory",
                   path) >= 0);
    CHECK_STR(error, expected);
    free(expected);
    free(error);
    /* A failed resolve leaves nothing to free behind. */
    CHECK(connection.server == NULL && connection.namespace == NULL);
    free(path);
}

static void relative_config_path_resolves_from_cwd(void)
{
    const char *directory = test_temp_dir();
    char *previous = getcwd(NULL, 0);
    REQUIRE(previous != NULL);
    REQUIRE(chdir(directory) == 0);
    CHECK(mkdir("conf", 0700) == 0);
    CHECK(write_file("conf/ca.pem", ca_pem));
    CHECK(write_file("conf/config",
                     "clusters:\n- name: a\n  cluster: {server: https://x:1, certificate-authority: ca.pem}\n"
                     "contexts:\n- name: a\n  context: {cluster: a, namespace: ns}\ncurrent-context: a\n"));
    struct kubeconfig *config = NULL;
    char *error = NULL;
    config = kubeconfig_file_load("conf/config", &error);
    /* Paths are absolute, so a later chdir does not change what is read. */
    CHECK(chdir(previous) == 0);
    free(previous);
    REQUIRE(config != NULL);
    char *expected = NULL;
    CHECK(asprintf(&expected, "%s/conf/ca.pem", directory) >= 0);
    REQUIRE(config->cluster_count == 1);
    CHECK_STR(config->clusters[0].certificate_authority, expected);
    struct kube_connection connection;
    CHECK(kubeconfig_file_resolve(config, NULL, &connection, &error));
    CHECK(file_equals(connection.certificate_authority_data, connection.certificate_authority_length, ca_pem));
    CHECK_STR(connection.namespace, "ns");
    kube_connection_free(&connection);
    kubeconfig_file_free(config);
    free(expected);
    free(error);
}

static void default_path_uses_first_kubeconfig_entry(void)
{
    setenv("KUBECONFIG", "/a/config:/b/config", 1);
    setenv("HOME", "/home/tester", 1);
    char *path = kubeconfig_file_default_path();
    CHECK_STR(path, "/a/config");
    free(path);
    unsetenv("KUBECONFIG");
    path = kubeconfig_file_default_path();
    CHECK_STR(path, "/home/tester/.kube/config");
    free(path);
    unsetenv("HOME");
    CHECK(kubeconfig_file_default_path() == NULL);
}

/* Writes the service-account files the kubelet mounts into a pod. */
static char *make_service_account(const char *token, const char *namespace)
{
    char *directory = path_in(test_temp_dir(), "serviceaccount");
    if (directory == NULL || mkdir(directory, 0700) != 0) {
        free(directory);
        return NULL;
    }
    bool ok = write_in(directory, "ca.crt", ca_pem);
    if (token != NULL)
        ok = ok && write_in(directory, "token", token);
    if (namespace != NULL)
        ok = ok && write_in(directory, "namespace", namespace);
    if (!ok) {
        free(directory);
        return NULL;
    }
    return directory;
}

static void in_cluster_builds_server_url(void)
{
    static const struct {
        const char *host, *port, *server;
    } cases[] = {
        { "10.96.0.1", "443", "https://10.96.0.1:443" },
        { "fd00:10:96::1", "443", "https://[fd00:10:96::1]:443" },
        { "[fd00::1]", "6443", "https://[fd00::1]:6443" },
        { "kubernetes.default.svc", "6443", "https://kubernetes.default.svc:6443" },
    };
    char *directory = make_service_account("eyJhbGciOi.token\n", "tidb-admin\n");
    REQUIRE(directory != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("KUBERNETES_SERVICE_HOST", cases[i].host, 1);
        setenv("KUBERNETES_SERVICE_PORT", cases[i].port, 1);
        struct kube_connection connection;
        char *error = NULL;
        bool ok = kube_credentials_in_cluster(directory, &connection, &error);
        if (!ok) {
            test_fail(__FILE__, __LINE__, "%s: %s", cases[i].host, error ? error : "(null)");
            free(error);
            continue;
        }
        CHECK_STR(connection.server, cases[i].server);
        CHECK_STR(connection.token, "eyJhbGciOi.token");
        CHECK(file_equals(connection.certificate_authority_data, connection.certificate_authority_length, ca_pem));
        CHECK(strstr(connection.certificate_authority_file, "/serviceaccount/ca.crt") != NULL);
        CHECK(strstr(connection.token_file, "/serviceaccount/token") != NULL);
        CHECK_STR(connection.namespace, "tidb-admin");
        CHECK(!connection.insecure_skip_tls_verify);
        kube_connection_free(&connection);
    }
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    free(directory);
}

static void in_cluster_reports_what_is_missing(void)
{
    char *directory = make_service_account(NULL, NULL);
    REQUIRE(directory != NULL);
    struct kube_connection connection;
    char *error = NULL;

    unsetenv("KUBERNETES_SERVICE_HOST");
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    CHECK(!kube_credentials_in_cluster(directory, &connection, &error));
    CHECK_STR(error, "in-cluster config: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
    free(error);

    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    unsetenv("KUBERNETES_SERVICE_PORT");
    CHECK(!kube_credentials_in_cluster(directory, &connection, &error));
    CHECK_STR(error, "in-cluster config: KUBERNETES_SERVICE_PORT is not set (not running in a pod?)");
    free(error);

    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    char *expected = NULL;
    CHECK(!kube_credentials_in_cluster(directory, &connection, &error));
    CHECK(asprintf(&expected, "in-cluster config: cannot read token file %s/token: No such file or directory",
                   directory) >= 0);
    CHECK_STR(error, expected);
    free(expected);
    free(error);
    CHECK(connection.server == NULL && connection.token_file == NULL);

    CHECK(write_in(directory, "token", "\n"));
    CHECK(!kube_credentials_in_cluster(directory, &connection, &error));
    CHECK(asprintf(&expected, "in-cluster config: token file %s/token is empty", directory) >= 0);
    CHECK_STR(error, expected);
    free(expected);
    free(error);

    CHECK(write_in(directory, "token", "t"));
    char *ca = path_in(directory, "ca.crt");
    CHECK(ca != NULL && unlink(ca) == 0);
    CHECK(!kube_credentials_in_cluster(directory, &connection, &error));
    CHECK(asprintf(&expected, "in-cluster config: cannot read CA file %s: No such file or directory", ca) >= 0);
    CHECK_STR(error, expected);
    free(expected);
    free(error);
    free(ca);

    /* Without a namespace file the namespace is "default", as in client-go. */
    CHECK(write_in(directory, "ca.crt", ca_pem));
    CHECK(kube_credentials_in_cluster(directory, &connection, &error));
    CHECK_STR(connection.namespace, "default");
    kube_connection_free(&connection);

    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    free(directory);
}

static void in_cluster_token_reload(void)
{
    char *directory = make_service_account("first-token\n", "ns");
    REQUIRE(directory != NULL);
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    struct kube_connection connection;
    char *error = NULL;
    REQUIRE(kube_credentials_in_cluster(directory, &connection, &error));
    CHECK_STR(connection.token, "first-token");

    CHECK_INT(kube_credentials_reload_token(&connection, &error), KUBE_TOKEN_UNCHANGED);
    CHECK(error == NULL);
    CHECK_STR(connection.token, "first-token");

    /* The kubelet swaps the file for a rotated token. */
    CHECK(write_in(directory, "token", "second-token"));
    CHECK_INT(kube_credentials_reload_token(&connection, &error), KUBE_TOKEN_CHANGED);
    CHECK_STR(connection.token, "second-token");
    CHECK_INT(kube_credentials_reload_token(&connection, &error), KUBE_TOKEN_UNCHANGED);

    /* A failed read keeps the token in use and says why. */
    char *token_path = path_in(directory, "token");
    CHECK(token_path != NULL && unlink(token_path) == 0);
    CHECK_INT(kube_credentials_reload_token(&connection, &error), KUBE_TOKEN_FAILED);
    char *expected = NULL;
    CHECK(asprintf(&expected, "cannot read token file %s: No such file or directory", token_path) >= 0);
    CHECK_STR(error, expected);
    CHECK_STR(connection.token, "second-token");
    free(expected);
    free(error);
    CHECK(write_in(directory, "token", ""));
    CHECK_INT(kube_credentials_reload_token(&connection, &error), KUBE_TOKEN_FAILED);
    CHECK_STR(connection.token, "second-token");
    free(error);

    CHECK(write_in(directory, "token", "third-token\n"));
    CHECK_INT(kube_credentials_reload_token(&connection, &error), KUBE_TOKEN_CHANGED);
    CHECK_STR(connection.token, "third-token");

    kube_connection_free(&connection);
    CHECK(connection.token == NULL && connection.server == NULL);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    free(token_path);
    free(directory);
}

static void load_picks_source_in_order(void)
{
    const char *directory = test_temp_dir();
    char *explicit_path = path_in(directory, "explicit");
    char *listed_path = path_in(directory, "listed");
    char *home_kube = path_in(directory, ".kube");
    REQUIRE(explicit_path && listed_path && home_kube && mkdir(home_kube, 0700) == 0);
    static const char format_text[] =
        "clusters:\n- name: a\n  cluster: {server: \"%s\"}\n"
        "contexts:\n- name: a\n  context: {cluster: a}\n- name: b\n  context: {cluster: a, namespace: b}\n"
        "current-context: a\n";
    char *text = NULL;
    CHECK(asprintf(&text, format_text, "https://explicit") >= 0 && write_file(explicit_path, text));
    free(text);
    CHECK(asprintf(&text, format_text, "https://listed") >= 0 && write_file(listed_path, text));
    free(text);
    CHECK(asprintf(&text, format_text, "https://home") >= 0 && write_in(home_kube, "config", text));
    free(text);

    struct kube_connection connection;
    char *error = NULL;
    setenv("KUBECONFIG", listed_path, 1);
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("HOME", directory, 1);

    CHECK(kube_credentials_load(explicit_path, "b", &connection, &error));
    CHECK_STR(connection.server, "https://explicit");
    CHECK_STR(connection.namespace, "b");
    kube_connection_free(&connection);

    CHECK(kube_credentials_load(NULL, NULL, &connection, &error));
    CHECK_STR(connection.server, "https://listed");
    kube_connection_free(&connection);

    /* In a pod (no KUBECONFIG): the service account, here absent, so its error. */
    unsetenv("KUBECONFIG");
    CHECK(!kube_credentials_load(NULL, NULL, &connection, &error));
    CHECK_STR(error, "in-cluster config: cannot read token file "
                     "/var/run/secrets/kubernetes.io/serviceaccount/token: No such file or directory");
    free(error);

    unsetenv("KUBERNETES_SERVICE_HOST");
    CHECK(kube_credentials_load("", NULL, &connection, &error));
    CHECK_STR(connection.server, "https://home");
    kube_connection_free(&connection);

    unsetenv("HOME");
    CHECK(!kube_credentials_load(NULL, NULL, &connection, &error));
    CHECK_STR(error, "no kubeconfig: KUBECONFIG and HOME are not set and not running in a pod");
    free(error);

    unsetenv("KUBERNETES_SERVICE_PORT");
    free(explicit_path);
    free(listed_path);
    free(home_kube);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(kubectl_ca_file_and_token),
        TEST_CASE(kubectl_embedded_certificates),
        TEST_CASE(kubectl_certificate_files_in_subfolder),
        TEST_CASE(kubectl_named_context_and_token_file),
        TEST_CASE(broken_files_report_file_and_field),
        TEST_CASE(unreadable_referenced_files_are_named),
        TEST_CASE(relative_config_path_resolves_from_cwd),
        TEST_CASE(default_path_uses_first_kubeconfig_entry),
        TEST_CASE(in_cluster_builds_server_url),
        TEST_CASE(in_cluster_reports_what_is_missing),
        TEST_CASE(in_cluster_token_reload),
        TEST_CASE(load_picks_source_in_order),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
