/*
 * dst_pd_wire: the HTTP exchange between the operator's side (pd/pd_decode)
 * and a cluster's PD model (test/sim/pd_http), in a file of its own
 * because the two headers name store states alike (dst_internal.h).
 */
#include "test/dst/dst_internal.h"

#include "test/sim/pd_http.h"
#include "test/sim/pd_model.h"

#include <string.h>

bool dst_pd_serve(struct pd_model *model, const char *method, const char *path, const char *query,
                  const char *body, int *status, char **body_out, size_t *length, bool *garbage)
{
    pd_model_advance(model);
    struct pd_http_request request = { .method = method, .path = path, .query = query, .body = body,
                                       .body_length = body ? strlen(body) : 0 };
    struct pd_http_response response = { 0 };
    *status = 0;
    *body_out = NULL;
    *length = 0;
    *garbage = pd_model_garbage(model);
    if (!pd_http_serve_pd(model, &request, &response))
        return false;
    *status = response.status;
    *body_out = response.body; /* taken */
    *length = response.length;
    return true;
}
