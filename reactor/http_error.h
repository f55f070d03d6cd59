/*
 * http_error: the kinds of transport failure an HTTP request can end with,
 * apart from the client (reactor/http_client.h) so that pure code (PD
 * decoders, the planner) can name them without pulling in the event loop
 * or libcurl.
 */
#ifndef REACTOR_HTTP_ERROR_H
#define REACTOR_HTTP_ERROR_H

enum http_client_error {
    HTTP_ERROR_NONE = 0,
    HTTP_ERROR_CONNECT,    /* refused, unreachable, proxy refused */
    HTTP_ERROR_DNS,        /* name (or proxy name) did not resolve */
    HTTP_ERROR_TLS,        /* handshake, certificate verification, bad cert/key */
    HTTP_ERROR_TIMEOUT,    /* total timeout, connect timeout or idle timeout */
    HTTP_ERROR_CANCELLED,  /* http_client_request_cancel, on_data returned false, client closed */
    HTTP_ERROR_TOO_LARGE,  /* buffered body beyond max_body_bytes */
    HTTP_ERROR_PROTOCOL,   /* malformed response, HTTP/2 framing error */
    HTTP_ERROR_NETWORK,    /* connection lost after it was established */
    HTTP_ERROR_INTERNAL,   /* out of memory, bad option, other libcurl failure */
};

/* "none", "connect", "dns", ... (for logs and metrics labels). */
const char *http_client_error_name(enum http_client_error error);

#endif
