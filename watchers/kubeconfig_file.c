#include "watchers/kubeconfig_file.h"

#include <errno.h>
#include <mbedtls/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* Where parsing is, for messages. */
struct parse {
    const char *path;
    const char *directory;
    yaml_document_t *document;
    char **error;
};

static char *vformat(const char *format, va_list args)
{
    char *line = NULL;
    if (vasprintf(&line, format, args) < 0)
        return NULL;
    return line;
}

static char *format(const char *format, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *line = vformat(format, args);
    va_end(args);
    return line;
}

/* Sets "*error = kubeconfig PATH: <message>" and returns false. */
static bool fail_at(const char *path, char **error, const char *message, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail_at(const char *path, char **error, const char *message, ...)
{
    va_list args;
    va_start(args, message);
    char *detail = vformat(message, args);
    va_end(args);
    *error = detail ? format("kubeconfig %s: %s", path, detail) : NULL;
    free(detail);
    return false;
}

#define fail(parse, ...) fail_at((parse)->path, (parse)->error, __VA_ARGS__)

static yaml_node_t *node_at(const struct parse *parse, int index)
{
    return yaml_document_get_node(parse->document, index);
}

/* `key:` with nothing after it, `~` and `null` all mean "absent". */
static bool is_null(const yaml_node_t *node)
{
    if (node == NULL)
        return true;
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *value = (const char *)node->data.scalar.value;
    return value[0] == '\0' || strcmp(value, "~") == 0 || strcmp(value, "null") == 0 ||
           strcmp(value, "Null") == 0 || strcmp(value, "NULL") == 0;
}

static bool key_is(const struct parse *parse, const yaml_node_pair_t *pair, const char *name)
{
    const yaml_node_t *key = node_at(parse, pair->key);
    return key != NULL && key->type == YAML_SCALAR_NODE &&
           strcmp((const char *)key->data.scalar.value, name) == 0;
}

/* Copies a string value into *out (NULL when absent); a repeated key replaces it. */
static bool read_string(struct parse *parse, const yaml_node_t *node, const char *where,
                        const char *key, char **out)
{
    free(*out);
    *out = NULL;
    if (is_null(node))
        return true;
    /* Top-level keys have no enclosing place. */
    const char *dot = where[0] != '\0' ? "." : "";
    if (node->type != YAML_SCALAR_NODE)
        return fail(parse, "%s%s%s: expected a string", where, dot, key);
    const char *value = (const char *)node->data.scalar.value;
    size_t length = node->data.scalar.length;
    /* An escaped "\0" would silently cut the value short in every C string use. */
    if (memchr(value, '\0', length) != NULL)
        return fail(parse, "%s%s%s: contains a NUL byte", where, dot, key);
    *out = strndup(value, length);
    if (*out == NULL)
        return fail(parse, "out of memory");
    return true;
}

/* Like read_string, and a relative path is made relative to the file's directory. */
static bool read_path(struct parse *parse, const yaml_node_t *node, const char *where,
                      const char *key, char **out)
{
    if (!read_string(parse, node, where, key, out))
        return false;
    if (*out == NULL || (*out)[0] == '/')
        return true;
    char *resolved = format("%s/%s", parse->directory, *out);
    free(*out);
    *out = resolved;
    return resolved != NULL || fail(parse, "out of memory");
}

static bool read_base64(struct parse *parse, const yaml_node_t *node, const char *where,
                        const char *key, char **out, size_t *out_length)
{
    char *text = NULL;
    free(*out);
    *out = NULL;
    *out_length = 0;
    if (!read_string(parse, node, where, key, &text))
        return false;
    if (text == NULL || text[0] == '\0') {
        /* Empty data is no data, not an empty certificate. */
        free(text);
        return true;
    }
    size_t text_length = strlen(text);
    size_t needed = 0;
    int status = mbedtls_base64_decode(NULL, 0, &needed, (const unsigned char *)text, text_length);
    if (status == MBEDTLS_ERR_BASE64_INVALID_CHARACTER) {
        free(text);
        return fail(parse, "%s.%s: invalid base64", where, key);
    }
    unsigned char *bytes = malloc(needed + 1);
    if (bytes == NULL) {
        free(text);
        return fail(parse, "out of memory");
    }
    size_t written = 0;
    status = mbedtls_base64_decode(bytes, needed + 1, &written, (const unsigned char *)text,
                                   text_length);
    free(text);
    if (status != 0) {
        free(bytes);
        return fail(parse, "%s.%s: invalid base64", where, key);
    }
    bytes[written] = '\0';
    *out = (char *)bytes;
    *out_length = written;
    return true;
}

static bool read_bool(struct parse *parse, const yaml_node_t *node, const char *where,
                      const char *key, bool *out)
{
    *out = false;
    if (is_null(node))
        return true;
    /* YAML 1.1 booleans, which is what kubectl's YAML reader accepts. */
    static const char *const truths[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
    static const char *const lies[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
    if (node->type == YAML_SCALAR_NODE) {
        const char *value = (const char *)node->data.scalar.value;
        for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++) {
            if (strcmp(value, truths[i]) == 0) {
                *out = true;
                return true;
            }
            if (strcmp(value, lies[i]) == 0)
                return true;
        }
        return fail(parse, "%s.%s: expected true or false, got \"%s\"", where, key, value);
    }
    return fail(parse, "%s.%s: expected true or false", where, key);
}

/* A mapping node, or NULL for an absent one; false after reporting anything else. */
static bool expect_mapping(struct parse *parse, yaml_node_t *node, const char *where,
                           yaml_node_t **out)
{
    *out = NULL;
    if (is_null(node))
        return true;
    if (node->type != YAML_MAPPING_NODE)
        return fail(parse, "%s: expected a mapping", where);
    *out = node;
    return true;
}

#define EACH_PAIR(node, pair) \
    for (yaml_node_pair_t *pair = (node)->data.mapping.pairs.start; \
         pair < (node)->data.mapping.pairs.top; pair++)

static bool parse_cluster(struct parse *parse, yaml_node_t *node, const char *where,
                          struct kubeconfig_cluster *cluster)
{
    yaml_node_t *mapping = NULL;
    if (!expect_mapping(parse, node, where, &mapping))
        return false;
    if (mapping == NULL)
        return true;
    EACH_PAIR(mapping, pair) {
        yaml_node_t *value = node_at(parse, pair->value);
        bool ok = true;
        if (key_is(parse, pair, "server"))
            ok = read_string(parse, value, where, "server", &cluster->server);
        else if (key_is(parse, pair, "certificate-authority"))
            ok = read_path(parse, value, where, "certificate-authority",
                           &cluster->certificate_authority);
        else if (key_is(parse, pair, "certificate-authority-data"))
            ok = read_base64(parse, value, where, "certificate-authority-data",
                             &cluster->certificate_authority_data,
                             &cluster->certificate_authority_length);
        else if (key_is(parse, pair, "insecure-skip-tls-verify"))
            ok = read_bool(parse, value, where, "insecure-skip-tls-verify",
                           &cluster->insecure_skip_tls_verify);
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_user(struct parse *parse, yaml_node_t *node, const char *where,
                       struct kubeconfig_user *user)
{
    static const char *const unsupported[] = { "exec", "auth-provider", "username", "password" };
    yaml_node_t *mapping = NULL;
    if (!expect_mapping(parse, node, where, &mapping))
        return false;
    if (mapping == NULL)
        return true;
    EACH_PAIR(mapping, pair) {
        yaml_node_t *value = node_at(parse, pair->value);
        bool ok = true;
        if (key_is(parse, pair, "token"))
            ok = read_string(parse, value, where, "token", &user->token);
        else if (key_is(parse, pair, "tokenFile"))
            ok = read_path(parse, value, where, "tokenFile", &user->token_file);
        else if (key_is(parse, pair, "client-certificate"))
            ok = read_path(parse, value, where, "client-certificate", &user->client_certificate);
        else if (key_is(parse, pair, "client-certificate-data"))
            ok = read_base64(parse, value, where, "client-certificate-data",
                             &user->client_certificate_data, &user->client_certificate_length);
        else if (key_is(parse, pair, "client-key"))
            ok = read_path(parse, value, where, "client-key", &user->client_key);
        else if (key_is(parse, pair, "client-key-data"))
            ok = read_base64(parse, value, where, "client-key-data", &user->client_key_data,
                             &user->client_key_length);
        else {
            for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
                if (key_is(parse, pair, unsupported[i]) && !is_null(value) && user->unsupported == NULL)
                    user->unsupported = unsupported[i];
            }
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_context(struct parse *parse, yaml_node_t *node, const char *where,
                          struct kubeconfig_context *context)
{
    yaml_node_t *mapping = NULL;
    if (!expect_mapping(parse, node, where, &mapping))
        return false;
    if (mapping == NULL)
        return true;
    EACH_PAIR(mapping, pair) {
        yaml_node_t *value = node_at(parse, pair->value);
        bool ok = true;
        if (key_is(parse, pair, "cluster"))
            ok = read_string(parse, value, where, "cluster", &context->cluster);
        else if (key_is(parse, pair, "user"))
            ok = read_string(parse, value, where, "user", &context->user);
        else if (key_is(parse, pair, "namespace"))
            ok = read_string(parse, value, where, "namespace", &context->namespace);
        if (!ok)
            return false;
    }
    return true;
}

/*
 * The three lists share one shape: a sequence of {name: ..., <body>: {...}}.
 * `entries` is an array of structs `size` bytes each whose first member is
 * the `char *name`.
 */
enum list_kind { LIST_CLUSTERS, LIST_USERS, LIST_CONTEXTS };

static const char *const list_names[] = { "clusters", "users", "contexts" };
static const char *const body_names[] = { "cluster", "user", "context" };

static bool parse_list(struct parse *parse, yaml_node_t *node, enum list_kind kind,
                       void **entries_out, size_t *count_out)
{
    static const size_t sizes[] = { sizeof(struct kubeconfig_cluster), sizeof(struct kubeconfig_user),
                                    sizeof(struct kubeconfig_context) };
    const char *list = list_names[kind];
    if (is_null(node))
        return true;
    if (node->type != YAML_SEQUENCE_NODE)
        return fail(parse, "%s: expected a list", list);
    if (*entries_out != NULL)
        return fail(parse, "%s: given twice", list);
    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (count == 0)
        return true;
    char *entries = calloc(count, sizes[kind]);
    if (entries == NULL)
        return fail(parse, "out of memory");
    /* Hand the array over at once so kubeconfig_file_free cleans up after any failure. */
    *entries_out = entries;
    for (size_t i = 0; i < count; i++) {
        char *entry = entries + i * sizes[kind];
        char **name = (char **)entry;
        *count_out = i + 1;
        char where[64];
        snprintf(where, sizeof where, "%s[%zu]", list, i);
        yaml_node_t *mapping = NULL;
        if (!expect_mapping(parse, node_at(parse, node->data.sequence.items.start[i]), where, &mapping))
            return false;
        if (mapping == NULL)
            return fail(parse, "%s: expected a mapping", where);
        char body_where[80];
        snprintf(body_where, sizeof body_where, "%s.%s", where, body_names[kind]);
        EACH_PAIR(mapping, pair) {
            yaml_node_t *value = node_at(parse, pair->value);
            bool ok = true;
            if (key_is(parse, pair, "name"))
                ok = read_string(parse, value, where, "name", name);
            else if (key_is(parse, pair, body_names[kind])) {
                if (kind == LIST_CLUSTERS)
                    ok = parse_cluster(parse, value, body_where, (struct kubeconfig_cluster *)entry);
                else if (kind == LIST_USERS)
                    ok = parse_user(parse, value, body_where, (struct kubeconfig_user *)entry);
                else
                    ok = parse_context(parse, value, body_where, (struct kubeconfig_context *)entry);
            }
            if (!ok)
                return false;
        }
        if (*name == NULL || (*name)[0] == '\0')
            return fail(parse, "%s.name: missing", where);
        /* kubectl refuses duplicates too: which one is meant would be a guess. */
        for (size_t j = 0; j < i; j++) {
            char *other = *(char **)(entries + j * sizes[kind]);
            if (strcmp(other, *name) == 0)
                return fail(parse, "%s.name: duplicate name \"%s\"", where, *name);
        }
    }
    return true;
}

static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *directory;
    if (slash == NULL)
        directory = strdup(".");
    else if (slash == path)
        directory = strdup("/");
    else
        directory = strndup(path, (size_t)(slash - path));
    if (directory == NULL || directory[0] == '/')
        return directory;
    /* Absolute, so resolved paths do not depend on a later chdir. */
    char *cwd = getcwd(NULL, 0);
    if (cwd == NULL) {
        free(directory);
        return NULL;
    }
    char *absolute = strcmp(directory, ".") == 0 ? strdup(cwd) : format("%s/%s", cwd, directory);
    free(cwd);
    free(directory);
    return absolute;
}

static bool parse_document(struct parse *parse, struct kubeconfig *config)
{
    yaml_node_t *root = yaml_document_get_root_node(parse->document);
    if (is_null(root))
        return fail(parse, "file is empty");
    if (root->type != YAML_MAPPING_NODE)
        return fail(parse, "expected a mapping at the top level");
    EACH_PAIR(root, pair) {
        yaml_node_t *value = node_at(parse, pair->value);
        bool ok = true;
        if (key_is(parse, pair, "clusters"))
            ok = parse_list(parse, value, LIST_CLUSTERS, (void **)&config->clusters, &config->cluster_count);
        else if (key_is(parse, pair, "users"))
            ok = parse_list(parse, value, LIST_USERS, (void **)&config->users, &config->user_count);
        else if (key_is(parse, pair, "contexts"))
            ok = parse_list(parse, value, LIST_CONTEXTS, (void **)&config->contexts, &config->context_count);
        else if (key_is(parse, pair, "current-context"))
            ok = read_string(parse, value, "", "current-context", &config->current_context);
        if (!ok)
            return false;
    }
    return true;
}

struct kubeconfig *kubeconfig_file_parse(const char *path, const char *text, size_t length, char **error)
{
    *error = NULL;
    struct kubeconfig *config = calloc(1, sizeof *config);
    if (config == NULL) {
        fail_at(path, error, "out of memory");
        return NULL;
    }
    config->path = strdup(path);
    config->directory = directory_of(path);
    if (config->path == NULL || config->directory == NULL) {
        fail_at(path, error, "out of memory");
        kubeconfig_file_free(config);
        return NULL;
    }

    yaml_parser_t parser;
    yaml_document_t document;
    if (!yaml_parser_initialize(&parser)) {
        fail_at(path, error, "out of memory");
        kubeconfig_file_free(config);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
    if (!yaml_parser_load(&parser, &document)) {
        if (parser.error == YAML_MEMORY_ERROR)
            fail_at(path, error, "out of memory");
        else if (parser.error == YAML_READER_ERROR)
            fail_at(path, error, "byte %zu: YAML syntax error: %s", parser.problem_offset,
                    parser.problem ? parser.problem : "unreadable input");
        else if (parser.context != NULL)
            fail_at(path, error, "line %zu: YAML syntax error: %s (%s at line %zu)",
                    parser.problem_mark.line + 1, parser.problem ? parser.problem : "invalid",
                    parser.context, parser.context_mark.line + 1);
        else
            fail_at(path, error, "line %zu: YAML syntax error: %s", parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "invalid");
        yaml_parser_delete(&parser);
        kubeconfig_file_free(config);
        return NULL;
    }
    struct parse parse = { .path = path, .directory = config->directory, .document = &document, .error = error };
    bool ok = parse_document(&parse, config);
    yaml_document_delete(&document);
    yaml_parser_delete(&parser);
    if (!ok) {
        kubeconfig_file_free(config);
        return NULL;
    }
    return config;
}

struct kubeconfig *kubeconfig_file_load(const char *path, char **error)
{
    *error = NULL;
    char *text = NULL;
    size_t length = 0;
    if (!kube_credentials_read_file(path, &text, &length)) {
        fail_at(path, error, "cannot read: %s", strerror(errno));
        return NULL;
    }
    struct kubeconfig *config = kubeconfig_file_parse(path, text, length, error);
    free(text);
    return config;
}

void kubeconfig_file_free(struct kubeconfig *config)
{
    if (config == NULL)
        return;
    for (size_t i = 0; i < config->cluster_count; i++) {
        struct kubeconfig_cluster *cluster = &config->clusters[i];
        free(cluster->name);
        free(cluster->server);
        free(cluster->certificate_authority);
        free(cluster->certificate_authority_data);
    }
    for (size_t i = 0; i < config->user_count; i++) {
        struct kubeconfig_user *user = &config->users[i];
        free(user->name);
        free(user->token);
        free(user->token_file);
        free(user->client_certificate);
        free(user->client_certificate_data);
        free(user->client_key);
        free(user->client_key_data);
    }
    for (size_t i = 0; i < config->context_count; i++) {
        struct kubeconfig_context *context = &config->contexts[i];
        free(context->name);
        free(context->cluster);
        free(context->user);
        free(context->namespace);
    }
    free(config->clusters);
    free(config->users);
    free(config->contexts);
    free(config->current_context);
    free(config->path);
    free(config->directory);
    free(config);
}

static bool copy_bytes(const char *bytes, size_t length, char **out, size_t *out_length)
{
    *out = malloc(length + 1);
    if (*out == NULL)
        return false;
    memcpy(*out, bytes, length);
    (*out)[length] = '\0';
    if (out_length != NULL)
        *out_length = length;
    return true;
}

static bool copy_string(const char *text, char **out)
{
    if (text == NULL) {
        *out = NULL;
        return true;
    }
    *out = strdup(text);
    return *out != NULL;
}

/* Fills *data from embedded bytes when present, else from the file. */
static bool load_material(const struct kubeconfig *config, const char *where, const char *key,
                          const char *embedded, size_t embedded_length, const char *file,
                          char **data, size_t *data_length, char **file_out, char **error)
{
    if (embedded != NULL) {
        if (!copy_bytes(embedded, embedded_length, data, data_length))
            return fail_at(config->path, error, "out of memory");
        return true;
    }
    if (file == NULL)
        return true;
    if (!copy_string(file, file_out))
        return fail_at(config->path, error, "out of memory");
    if (!kube_credentials_read_file(file, data, data_length))
        return fail_at(config->path, error, "%s.%s: cannot read %s: %s", where, key, file,
                       strerror(errno));
    return true;
}

static bool resolve_into(const struct kubeconfig *config, const char *context_name,
                         struct kube_connection *out, char **error)
{
    const char *path = config->path;
    const char *name = context_name != NULL && context_name[0] != '\0' ? context_name
                                                                        : config->current_context;
    if (name == NULL || name[0] == '\0')
        return fail_at(path, error, "current-context is not set and no context was given");
    size_t context_index = 0;
    while (context_index < config->context_count &&
           strcmp(config->contexts[context_index].name, name) != 0)
        context_index++;
    if (context_index == config->context_count)
        return fail_at(path, error, "context \"%s\" not found", name);
    const struct kubeconfig_context *context = &config->contexts[context_index];

    if (context->cluster == NULL || context->cluster[0] == '\0')
        return fail_at(path, error, "contexts[%zu].context.cluster: missing (context \"%s\")",
                       context_index, name);
    size_t cluster_index = 0;
    while (cluster_index < config->cluster_count &&
           strcmp(config->clusters[cluster_index].name, context->cluster) != 0)
        cluster_index++;
    if (cluster_index == config->cluster_count)
        return fail_at(path, error, "cluster \"%s\" of context \"%s\" not found", context->cluster, name);
    const struct kubeconfig_cluster *cluster = &config->clusters[cluster_index];
    char where[64];
    snprintf(where, sizeof where, "clusters[%zu].cluster", cluster_index);

    if (cluster->server == NULL || cluster->server[0] == '\0')
        return fail_at(path, error, "%s.server: missing (cluster \"%s\")", where, cluster->name);
    if (strncmp(cluster->server, "https://", 8) != 0 && strncmp(cluster->server, "http://", 7) != 0)
        return fail_at(path, error, "%s.server: \"%s\" is not an http:// or https:// URL", where,
                       cluster->server);
    size_t server_length = strlen(cluster->server);
    /* The REST client appends "/api/...", so a trailing slash would double up. */
    while (server_length > 0 && cluster->server[server_length - 1] == '/')
        server_length--;
    if (!copy_bytes(cluster->server, server_length, &out->server, NULL))
        return fail_at(path, error, "out of memory");

    bool has_authority = cluster->certificate_authority != NULL || cluster->certificate_authority_data != NULL;
    if (cluster->insecure_skip_tls_verify && has_authority)
        return fail_at(path, error, "%s: certificate-authority and insecure-skip-tls-verify are both set",
                       where);
    out->insecure_skip_tls_verify = cluster->insecure_skip_tls_verify;
    if (!load_material(config, where, "certificate-authority", cluster->certificate_authority_data,
                       cluster->certificate_authority_length, cluster->certificate_authority,
                       &out->certificate_authority_data, &out->certificate_authority_length,
                       &out->certificate_authority_file, error))
        return false;

    if (context->user != NULL && context->user[0] != '\0') {
        size_t user_index = 0;
        while (user_index < config->user_count && strcmp(config->users[user_index].name, context->user) != 0)
            user_index++;
        if (user_index == config->user_count)
            return fail_at(path, error, "user \"%s\" of context \"%s\" not found", context->user, name);
        const struct kubeconfig_user *user = &config->users[user_index];
        snprintf(where, sizeof where, "users[%zu].user", user_index);
        if (user->unsupported != NULL)
            return fail_at(path, error, "%s.%s: not supported by this client (user \"%s\")", where,
                           user->unsupported, user->name);

        if (user->token_file != NULL) {
            if (!copy_string(user->token_file, &out->token_file))
                return fail_at(path, error, "out of memory");
            char *detail = NULL;
            out->token = kube_credentials_read_token(user->token_file, &detail);
            if (out->token == NULL) {
                fail_at(path, error, "%s.tokenFile: %s", where, detail ? detail : "out of memory");
                free(detail);
                return false;
            }
        } else if (user->token != NULL && user->token[0] != '\0') {
            if (!copy_string(user->token, &out->token))
                return fail_at(path, error, "out of memory");
        }

        bool has_certificate = user->client_certificate != NULL || user->client_certificate_data != NULL;
        bool has_key = user->client_key != NULL || user->client_key_data != NULL;
        if (has_certificate != has_key)
            return fail_at(path, error, "%s: %s without %s", where,
                           has_certificate ? "client-certificate" : "client-key",
                           has_certificate ? "client-key" : "client-certificate");
        if (!load_material(config, where, "client-certificate", user->client_certificate_data,
                           user->client_certificate_length, user->client_certificate,
                           &out->client_certificate_data, &out->client_certificate_length,
                           &out->client_certificate_file, error))
            return false;
        if (!load_material(config, where, "client-key", user->client_key_data, user->client_key_length,
                           user->client_key, &out->client_key_data, &out->client_key_length,
                           &out->client_key_file, error))
            return false;
    }

    const char *namespace = context->namespace != NULL && context->namespace[0] != '\0'
                                ? context->namespace : "default";
    if (!copy_string(namespace, &out->namespace))
        return fail_at(path, error, "out of memory");
    return true;
}

bool kubeconfig_file_resolve(const struct kubeconfig *config, const char *context,
                        struct kube_connection *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    if (resolve_into(config, context, out, error))
        return true;
    kube_connection_free(out);
    return false;
}

char *kubeconfig_file_default_path(void)
{
    const char *listed = getenv("KUBECONFIG");
    if (listed != NULL && listed[0] != '\0') {
        const char *colon = strchr(listed, ':');
        size_t length = colon ? (size_t)(colon - listed) : strlen(listed);
        if (length > 0)
            return strndup(listed, length);
    }
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return NULL;
    return format("%s/.kube/config", home);
}
