#include "test/sim/simulation.h"

#include "reactor/log.h"
#include "reactor/http_server.h"
#include "test/sim/pd_model.h"
#include "test/sim/pd_world.h"
#include "test/sim/proxy.h"
#include "test/sim/world.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct simulation {
    uv_loop_t *loop;
    struct kubesim *kubesim;
    struct world *world;
    struct pd_world *pd_world;
    struct proxy *proxy;
    char proxy_url[64];
    void (*stopped)(void *data);
    void *stopped_data;
};

static bool split_address(const char *address, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= host_size) return false;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    char *end = NULL;
    long value = strtol(colon + 1, &end, 10);
    if (!end || *end || value < 0 || value > 65535) return false;
    *port = (int)value;
    return true;
}

static void reply(struct http_request *request, int status, const char *error)
{
    char body[512];
    if (error) snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", error);
    else snprintf(body, sizeof body, "{\"ok\":true}\n");
    http_response_send_text(request, status, "application/json", body);
}

/* /world/nodes/<name>/<verb>, /world/pods/<ns>/<pod>/crash */
static void on_world_admin(struct http_request *request, void *data)
{
    struct simulation *sim = data;
    if (!sim->world) { reply(request, 404, "the simulation runs without a world"); return; }
    const char *path = http_request_path(request);
    const char *method = http_request_method(request);
    char first[128] = "", second[256] = "", third[64] = "";
    if (sscanf(path, "/world/nodes/%127[^/]/%63s", first, third) == 2 && strcmp(method, "POST") == 0) {
        bool ok = strcmp(third, "fail") == 0 ? world_fail_node(sim->world, first)
                : strcmp(third, "recover") == 0 ? world_recover_node(sim->world, first) : false;
        /* The machine's processes stop (or start again) at once. */
        if (ok && sim->pd_world)
            ok = pd_world_set_node_down(sim->pd_world, first, strcmp(third, "fail") == 0);
        reply(request, ok ? 200 : 404, ok ? NULL : "no such node or action");
        return;
    }
    if (sscanf(path, "/world/nodes/%127s", first) == 1 && strcmp(method, "DELETE") == 0 && !strchr(first, '/')) {
        bool ok = world_delete_node(sim->world, first);
        reply(request, ok ? 200 : 404, ok ? NULL : "no such node");
        return;
    }
    if (sscanf(path, "/world/pods/%127[^/]/%255[^/]/%63s", first, second, third) == 3 &&
        strcmp(third, "crash") == 0 && strcmp(method, "POST") == 0) {
        bool ok = world_crash_pod(sim->world, first, second, NULL);
        reply(request, ok ? 200 : 404, ok ? NULL : "no such running pod");
        return;
    }
    reply(request, 404, "unknown world admin path");
}

/* POST /pd/<ns>/<cluster>/faults {"delayMs":N,"failing":bool,"garbage":bool,"leaderless":bool} */
static void on_pd_admin(struct http_request *request, void *data)
{
    struct simulation *sim = data;
    char ns[128] = "", cluster[128] = "", tail[32] = "";
    if (!sim->pd_world || sscanf(http_request_path(request), "/pd/%127[^/]/%127[^/]/%31s", ns, cluster, tail) != 3 ||
        strcmp(tail, "faults") != 0) {
        reply(request, 404, "unknown PD admin path");
        return;
    }
    struct pd_model *model = pd_world_find(sim->pd_world, ns, cluster);
    if (!model) { reply(request, 404, "no simulated PD for that cluster"); return; }
    size_t length = 0;
    const char *body = http_request_body(request, &length);
    cJSON *faults = cJSON_ParseWithLength(body, length);
    if (!cJSON_IsObject(faults)) {
        cJSON_Delete(faults);
        reply(request, 400, "body must be a JSON object");
        return;
    }
    const cJSON *delay = cJSON_GetObjectItemCaseSensitive(faults, "delayMs");
    const cJSON *failing = cJSON_GetObjectItemCaseSensitive(faults, "failing");
    const cJSON *leaderless = cJSON_GetObjectItemCaseSensitive(faults, "leaderless");
    if (cJSON_IsNumber(delay)) pd_model_set_delay_ms(model, delay->valuedouble > 0 ? (uint64_t)delay->valuedouble : 0);
    if (cJSON_IsBool(failing)) pd_model_set_failing(model, cJSON_IsTrue(failing), NULL);
    if (cJSON_IsBool(leaderless)) pd_model_set_leaderless(model, cJSON_IsTrue(leaderless));
    const cJSON *garbage = cJSON_GetObjectItemCaseSensitive(faults, "garbage");
    if (cJSON_IsBool(garbage)) pd_model_set_garbage(model, cJSON_IsTrue(garbage));
    cJSON_Delete(faults);
    reply(request, 200, NULL);
}

static int fail(char **error, const char *format, const char *detail)
{
    if (asprintf(error, format, detail) < 0) *error = NULL;
    return -1;
}

int simulation_start(uv_loop_t *loop, const struct simulation_options *options,
                     struct simulation **out, char **error)
{
    *out = NULL;
    *error = NULL;
    struct simulation *sim = calloc(1, sizeof *sim);
    if (!sim) return fail(error, "%s", "out of memory");
    sim->loop = loop;
    *out = sim;
    if (kubesim_start(loop, &options->kubesim, &sim->kubesim, error) != 0) return -1;
    struct store *store = kubesim_store(sim->kubesim);
    double speed = options->speed > 0 ? options->speed : 1.0;
    if (options->world) {
        struct world_options world_options;
        world_config_default(&world_options);
        if (options->world_config && *options->world_config) {
            char *text = NULL;
            FILE *file = fopen(options->world_config, "r");
            if (!file) {
                world_options_free(&world_options);
                return fail(error, "cannot read --world-config %s", options->world_config);
            }
            fseek(file, 0, SEEK_END);
            long size = ftell(file);
            fseek(file, 0, SEEK_SET);
            text = calloc(1, (size_t)(size > 0 ? size : 0) + 1);
            if (text && size > 0 && fread(text, 1, (size_t)size, file) != (size_t)size) size = -1;
            fclose(file);
            char message[256] = "";
            world_options_free(&world_options);
            bool parsed = text && size >= 0 && world_config_parse(text, &world_options, message, sizeof message);
            free(text);
            if (!parsed) return fail(error, "bad --world-config: %s", message[0] ? message : "unreadable");
        }
        sim->world = world_start(loop, store, clock_system(), &world_options);
        world_options_free(&world_options);
        if (!sim->world) return fail(error, "%s", "cannot start the simulated world");
        world_set_speed(sim->world, speed);
    }
    if (options->proxy_listen && *options->proxy_listen) {
        struct pd_world_options pd_options = { .store = store, .loop = loop, .speed = speed };
        sim->pd_world = pd_world_start(&pd_options);
        if (!sim->pd_world) return fail(error, "%s", "cannot start the simulated PD world");
        char host[128];
        int port = 0;
        if (!split_address(options->proxy_listen, host, sizeof host, &port))
            return fail(error, "bad --proxy-listen %s: expected host:port", options->proxy_listen);
        struct proxy_options proxy_options = { .host = host, .port = port, .lookup = pd_world_lookup,
                                               .lookup_data = sim->pd_world };
        if (proxy_start(loop, &proxy_options, &sim->proxy) != 0)
            return fail(error, "cannot listen on --proxy-listen %s", options->proxy_listen);
        snprintf(sim->proxy_url, sizeof sim->proxy_url, "http://%s:%d", host, proxy_port(sim->proxy));
    }
    struct api_server *api = kubesim_api(sim->kubesim);
    if (kubesim_admin_url(sim->kubesim)) {
        api_server_admin_route_prefix(api, NULL, "/world/", on_world_admin, sim);
        api_server_admin_route_prefix(api, "POST", "/pd/", on_pd_admin, sim);
    }
    return 0;
}

static void on_kubesim_stopped(void *data)
{
    struct simulation *sim = data;
    if (sim->stopped) sim->stopped(sim->stopped_data);
}

static void on_pd_world_closed(void *data)
{
    struct simulation *sim = data;
    sim->pd_world = NULL;
    if (sim->world) {
        world_stop(sim->world);
        sim->world = NULL;
    }
    kubesim_stop(sim->kubesim, on_kubesim_stopped, sim);
}

static void on_proxy_closed(void *data)
{
    struct simulation *sim = data;
    sim->proxy = NULL;
    if (sim->pd_world) pd_world_close(sim->pd_world, on_pd_world_closed, sim);
    else on_pd_world_closed(sim);
}

void simulation_stop(struct simulation *sim, void (*stopped)(void *data), void *data)
{
    sim->stopped = stopped;
    sim->stopped_data = data;
    if (sim->proxy) proxy_close(sim->proxy, on_proxy_closed, sim);
    else on_proxy_closed(sim);
}

void simulation_free(struct simulation *sim)
{
    if (!sim) return;
    if (sim->kubesim) kubesim_free(sim->kubesim);
    free(sim);
}

struct kubesim *simulation_kubesim(struct simulation *sim) { return sim->kubesim; }

const char *simulation_proxy_url(const struct simulation *sim)
{
    return sim->proxy_url[0] ? sim->proxy_url : NULL;
}
