/*
 * kube_credentials: where the API server is and how to authenticate to it.
 *
 * Owns `struct kube_connection`, the settings the REST client needs whatever
 * their source, and the in-cluster source (a pod's service account). The
 * kubeconfig file source lives in watchers/kubeconfig_file.h and fills the same
 * struct; kube_credentials_load picks between them the way controller-runtime
 * does.
 *
 * Everything here runs at start-up, before the loop, and reads small files
 * synchronously; kube_credentials_reload_token reads one small file and is cheap
 * enough to call from the loop every minute and after a 401.
 *
 * Errors come back as one line without newline in `*error`, which the caller
 * frees (`*error` is NULL only when even that allocation failed). Nothing is
 * printed.
 */
#ifndef WATCHERS_KUBE_CREDENTIALS_H
#define WATCHERS_KUBE_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_CREDENTIALS_SERVICE_ACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * Every string is owned by the struct (kube_connection_free) and NUL-terminated;
 * NULL means "not configured". Certificate and key material is always loaded
 * into the *_data fields (from the file or from the embedded data), so the
 * HTTP client uses *_data only; *_file records where it came from.
 */
struct kube_connection {
    char *server;                      /* "https://host:port" (maybe a path), no trailing '/' */
    char *certificate_authority_file;  /* CA bundle path, when it came from a file */
    char *certificate_authority_data;  /* PEM; NULL = the system's trusted CAs */
    size_t certificate_authority_length;
    bool insecure_skip_tls_verify;
    char *token;                       /* bearer token, surrounding whitespace removed */
    char *token_file;                  /* re-read by kube_credentials_reload_token when set */
    char *client_certificate_file;
    char *client_certificate_data;     /* PEM */
    size_t client_certificate_length;
    char *client_key_file;
    char *client_key_data;             /* PEM */
    size_t client_key_length;
    char *namespace;                   /* never NULL once filled: "default" when unset */
};

/* Frees every field and zeroes the struct; a zeroed struct is valid input. */
void kube_connection_free(struct kube_connection *connection);

/*
 * The pod's own credentials: server from KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT (an IPv6 host is bracketed), token and CA from
 * `service_account_dir` (NULL = KUBE_CREDENTIALS_SERVICE_ACCOUNT_DIR) files
 * "token" and "ca.crt" (both required), namespace from its "namespace" file
 * ("default" when that file is absent, as client-go does).
 * On failure `out` is left zeroed.
 */
bool kube_credentials_in_cluster(const char *service_account_dir, struct kube_connection *out,
                            char **error);

enum kube_token_reload {
    KUBE_TOKEN_UNCHANGED,  /* also when there is no token_file */
    KUBE_TOKEN_CHANGED,    /* connection->token now holds the new token */
    KUBE_TOKEN_FAILED,     /* *error set; the old token is kept, as client-go does */
};

/* Re-reads connection->token_file (bound service-account tokens rotate). */
enum kube_token_reload kube_credentials_reload_token(struct kube_connection *connection, char **error);

/*
 * Start-up choice of source, in controller-runtime's order:
 * `kubeconfig_path` when given; else $KUBECONFIG (first entry); else the
 * in-cluster config when KUBERNETES_SERVICE_HOST is set; else
 * $HOME/.kube/config. `context` (NULL = current-context) applies to
 * kubeconfig files only.
 */
bool kube_credentials_load(const char *kubeconfig_path, const char *context,
                      struct kube_connection *out, char **error);

/*
 * Reads a token file: surrounding whitespace (the usual trailing newline) is
 * removed; an empty file is an error. The caller frees the token. `*error`
 * reads like "cannot read token file PATH: REASON" (no source prefix).
 */
char *kube_credentials_read_token(const char *path, char **error);

/*
 * Reads a whole small file into a NUL-terminated buffer the caller frees.
 * Returns false with errno set on failure (EFBIG above 16 MiB).
 */
bool kube_credentials_read_file(const char *path, char **data, size_t *length);

#endif
