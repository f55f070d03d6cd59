#include "watchers/kube_credentials.h"

#include "watchers/kubeconfig_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Kubeconfigs, certificates and tokens are far smaller; anything bigger is a mistake. */
#define READ_LIMIT (16u * 1024 * 1024)

static char *error_line(const char *format, ...) __attribute__((format(printf, 1, 2)));

static char *error_line(const char *format, ...)
{
    char *line = NULL;
    va_list args;
    va_start(args, format);
    if (vasprintf(&line, format, args) < 0)
        line = NULL;
    va_end(args);
    return line;
}

bool kube_credentials_read_file(const char *path, char **data, size_t *length)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat info;
    if (fstat(fd, &info) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return false;
    }
    if (S_ISDIR(info.st_mode)) {
        close(fd);
        errno = EISDIR;
        return false;
    }
    /* st_size is only a hint (0 for some special files), so read to EOF; the
     * spare byte past the NUL's lets the final zero-length read happen without growing. */
    size_t capacity = info.st_size > 0 && (uint64_t)info.st_size < READ_LIMIT
                          ? (size_t)info.st_size + 2 : 4096;
    size_t used = 0;
    char *buffer = malloc(capacity);
    if (buffer == NULL) {
        close(fd);
        errno = ENOMEM;
        return false;
    }
    for (;;) {
        if (used + 1 >= capacity) {
            if (used >= READ_LIMIT) {
                free(buffer);
                close(fd);
                errno = EFBIG;
                return false;
            }
            char *bigger = realloc(buffer, capacity * 2);
            if (bigger == NULL) {
                free(buffer);
                close(fd);
                errno = ENOMEM;
                return false;
            }
            buffer = bigger;
            capacity *= 2;
        }
        ssize_t got = read(fd, buffer + used, capacity - used - 1);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            free(buffer);
            close(fd);
            errno = saved;
            return false;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    if (used > READ_LIMIT) {
        free(buffer);
        errno = EFBIG;
        return false;
    }
    buffer[used] = '\0';
    *data = buffer;
    *length = used;
    return true;
}

void kube_connection_free(struct kube_connection *connection)
{
    free(connection->server);
    free(connection->certificate_authority_file);
    free(connection->certificate_authority_data);
    free(connection->token);
    free(connection->token_file);
    free(connection->client_certificate_file);
    free(connection->client_certificate_data);
    free(connection->client_key_file);
    free(connection->client_key_data);
    free(connection->namespace);
    memset(connection, 0, sizeof *connection);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Token files often end with a newline that must not go into the header. */
static char *trimmed_copy(const char *text, size_t length)
{
    while (length > 0 && is_space(text[0])) {
        text++;
        length--;
    }
    while (length > 0 && is_space(text[length - 1]))
        length--;
    return strndup(text, length);
}

char *kube_credentials_read_token(const char *path, char **error)
{
    *error = NULL;
    char *data = NULL;
    size_t length = 0;
    if (!kube_credentials_read_file(path, &data, &length)) {
        *error = error_line("cannot read token file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (memchr(data, '\0', length) != NULL) {
        free(data);
        *error = error_line("token file %s contains a NUL byte", path);
        return NULL;
    }
    char *token = trimmed_copy(data, length);
    free(data);
    if (token == NULL) {
        *error = error_line("out of memory reading token file %s", path);
        return NULL;
    }
    if (token[0] == '\0') {
        free(token);
        *error = error_line("token file %s is empty", path);
        return NULL;
    }
    return token;
}

/* Puts `prefix: ` in front of *error (keeping the line when memory runs out). */
static void prefix_error(char **error, const char *prefix)
{
    if (*error == NULL)
        return;
    char *longer = error_line("%s: %s", prefix, *error);
    if (longer != NULL) {
        free(*error);
        *error = longer;
    }
}

static char *join_path(const char *directory, const char *name)
{
    return error_line("%s/%s", directory, name);
}

bool kube_credentials_in_cluster(const char *service_account_dir, struct kube_connection *out,
                            char **error)
{
    static const char what[] = "in-cluster config";
    memset(out, 0, sizeof *out);
    *error = NULL;
    const char *directory = service_account_dir ? service_account_dir : KUBE_CREDENTIALS_SERVICE_ACCOUNT_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0') {
        *error = error_line("%s: %s is not set (not running in a pod?)", what,
                            host == NULL || host[0] == '\0' ? "KUBERNETES_SERVICE_HOST"
                                                            : "KUBERNETES_SERVICE_PORT");
        return false;
    }
    /* A bare IPv6 address needs brackets in a URL, or its colons read as a port. */
    bool bracket = strchr(host, ':') != NULL && host[0] != '[';
    out->server = error_line("https://%s%s%s:%s", bracket ? "[" : "", host, bracket ? "]" : "", port);
    out->token_file = join_path(directory, "token");
    out->certificate_authority_file = join_path(directory, "ca.crt");
    char *namespace_file = join_path(directory, "namespace");
    if (out->server == NULL || out->token_file == NULL || out->certificate_authority_file == NULL ||
        namespace_file == NULL) {
        free(namespace_file);
        kube_connection_free(out);
        *error = error_line("%s: out of memory", what);
        return false;
    }

    out->token = kube_credentials_read_token(out->token_file, error);
    if (out->token == NULL) {
        prefix_error(error, what);
        free(namespace_file);
        kube_connection_free(out);
        return false;
    }
    if (!kube_credentials_read_file(out->certificate_authority_file, &out->certificate_authority_data,
                               &out->certificate_authority_length)) {
        *error = error_line("%s: cannot read CA file %s: %s", what,
                            out->certificate_authority_file, strerror(errno));
        free(namespace_file);
        kube_connection_free(out);
        return false;
    }
    if (out->certificate_authority_length == 0) {
        *error = error_line("%s: CA file %s is empty", what, out->certificate_authority_file);
        free(namespace_file);
        kube_connection_free(out);
        return false;
    }

    char *data = NULL;
    size_t length = 0;
    if (kube_credentials_read_file(namespace_file, &data, &length)) {
        out->namespace = trimmed_copy(data, length);
        free(data);
        if (out->namespace != NULL && out->namespace[0] == '\0') {
            free(out->namespace);
            out->namespace = NULL;
        }
    } else if (errno != ENOENT) {
        *error = error_line("%s: cannot read namespace file %s: %s", what, namespace_file,
                            strerror(errno));
        free(namespace_file);
        kube_connection_free(out);
        return false;
    }
    free(namespace_file);
    if (out->namespace == NULL)
        out->namespace = strdup("default");
    if (out->namespace == NULL) {
        kube_connection_free(out);
        *error = error_line("%s: out of memory", what);
        return false;
    }
    return true;
}

enum kube_token_reload kube_credentials_reload_token(struct kube_connection *connection, char **error)
{
    *error = NULL;
    if (connection->token_file == NULL)
        return KUBE_TOKEN_UNCHANGED;
    char *token = kube_credentials_read_token(connection->token_file, error);
    if (token == NULL)
        return KUBE_TOKEN_FAILED;
    if (connection->token != NULL && strcmp(connection->token, token) == 0) {
        free(token);
        return KUBE_TOKEN_UNCHANGED;
    }
    free(connection->token);
    connection->token = token;
    return KUBE_TOKEN_CHANGED;
}

static bool load_kubeconfig(const char *path, const char *context, struct kube_connection *out,
                            char **error)
{
    struct kubeconfig *config = kubeconfig_file_load(path, error);
    if (config == NULL)
        return false;
    bool ok = kubeconfig_file_resolve(config, context, out, error);
    kubeconfig_file_free(config);
    return ok;
}

bool kube_credentials_load(const char *kubeconfig_path, const char *context,
                      struct kube_connection *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    if (kubeconfig_path != NULL && kubeconfig_path[0] != '\0')
        return load_kubeconfig(kubeconfig_path, context, out, error);
    const char *listed = getenv("KUBECONFIG");
    const char *service_host = getenv("KUBERNETES_SERVICE_HOST");
    if ((listed == NULL || listed[0] == '\0') && service_host != NULL && service_host[0] != '\0')
        return kube_credentials_in_cluster(NULL, out, error);
    char *path = kubeconfig_file_default_path();
    if (path == NULL) {
        *error = error_line("no kubeconfig: KUBECONFIG and HOME are not set and not running in a pod");
        return false;
    }
    bool ok = load_kubeconfig(path, context, out, error);
    free(path);
    return ok;
}
