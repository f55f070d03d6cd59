/*
 * kubeconfig_file: reads a kubeconfig file (the YAML kubectl writes) with libyaml
 * into a typed `struct kubeconfig`, and resolves one context of it into a
 * `struct kube_connection` (watchers/kube_credentials.h).
 *
 * What is understood: clusters (server, certificate-authority,
 * certificate-authority-data, insecure-skip-tls-verify), users (token,
 * tokenFile, client-certificate, client-key and their -data forms), contexts
 * (cluster, user, namespace) and current-context. Other keys are ignored,
 * except user credentials this client cannot use (exec, auth-provider,
 * username, password): resolving a context whose user has one fails rather
 * than connecting without credentials.
 *
 * Relative file paths in the file are taken relative to the kubeconfig's own
 * directory, as kubectl does; the struct holds them already resolved.
 * Base64 data is decoded while parsing, so a bad value is reported with its
 * place in the file.
 *
 * Only one file is read: of a colon-separated $KUBECONFIG list only the first
 * entry is used (kubectl would merge them all).
 *
 * Files are read synchronously: this runs at start-up, before the loop.
 * Errors are one line naming the file and the field, e.g.
 *   kubeconfig /home/me/.kube/config: context "dev" not found
 *   kubeconfig /home/me/.kube/config: clusters[0].cluster.certificate-authority-data: invalid base64
 *   kubeconfig /home/me/.kube/config: line 7: YAML syntax error: ...
 * returned in `*error` for the caller to free (NULL only when even that
 * allocation failed). Nothing is printed.
 */
#ifndef WATCHERS_KUBECONFIG_FILE_H
#define WATCHERS_KUBECONFIG_FILE_H

#include "watchers/kube_credentials.h"

#include <stdbool.h>
#include <stddef.h>

/* Strings are owned by the enclosing struct kubeconfig; NULL = absent. */
struct kubeconfig_cluster {
    char *name;
    char *server;
    char *certificate_authority;       /* path, resolved against the file's directory */
    char *certificate_authority_data;  /* decoded bytes, NUL-terminated */
    size_t certificate_authority_length;
    bool insecure_skip_tls_verify;
};

struct kubeconfig_user {
    char *name;
    char *token;
    char *token_file;                  /* resolved path */
    char *client_certificate;          /* resolved path */
    char *client_certificate_data;     /* decoded */
    size_t client_certificate_length;
    char *client_key;                  /* resolved path */
    char *client_key_data;             /* decoded */
    size_t client_key_length;
    const char *unsupported;           /* e.g. "exec" when the user has such a key (static) */
};

struct kubeconfig_context {
    char *name;
    char *cluster;
    char *user;
    char *namespace;
};

struct kubeconfig {
    char *path;            /* as given, for messages */
    char *directory;       /* absolute directory relative paths are resolved against */
    char *current_context;
    struct kubeconfig_cluster *clusters;
    size_t cluster_count;
    struct kubeconfig_user *users;
    size_t user_count;
    struct kubeconfig_context *contexts;
    size_t context_count;
};

/* Reads and parses the file at `path`. NULL and `*error` on failure. */
struct kubeconfig *kubeconfig_file_load(const char *path, char **error);

/* Parses `text` as if read from `path` (used for messages and relative paths). */
struct kubeconfig *kubeconfig_file_parse(const char *path, const char *text, size_t length,
                                    char **error);

void kubeconfig_file_free(struct kubeconfig *config);

/*
 * Fills `out` from the context named `context` (NULL or "" = current-context):
 * its cluster's server and CA, its user's credentials (files are read now),
 * its namespace ("default" when unset). A tokenFile is kept in
 * out->token_file so the token can be re-read later; when a user has both
 * token and tokenFile, the file wins, as it does in client-go at run time.
 * On failure `out` is left zeroed.
 */
bool kubeconfig_file_resolve(const struct kubeconfig *config, const char *context,
                        struct kube_connection *out, char **error);

/*
 * The path to read when none is given: the first entry of $KUBECONFIG, else
 * $HOME/.kube/config. NULL when neither variable is set (or out of memory).
 * The caller frees the result.
 */
char *kubeconfig_file_default_path(void);

#endif
