/*
 * kube_resource: which Kubernetes resource a request or an action is about
 * (group, version, plural, scope) and the resources this operator uses.
 * Pure data, apart from the REST client (watchers/kube_client.h), so plans
 * can name resources without pulling in the client.
 */
#ifndef WATCHERS_KUBE_RESOURCE_H
#define WATCHERS_KUBE_RESOURCE_H

#include <stdbool.h>

struct kube_resource {
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *plural;   /* "pods" */
    bool namespaced;
};

extern const struct kube_resource kube_resource_pods;
extern const struct kube_resource kube_resource_pvcs;
extern const struct kube_resource kube_resource_pvs;
extern const struct kube_resource kube_resource_nodes;
extern const struct kube_resource kube_resource_services;
extern const struct kube_resource kube_resource_configmaps;
extern const struct kube_resource kube_resource_storage_classes;
extern const struct kube_resource kube_resource_leases;
extern const struct kube_resource kube_resource_events;
extern const struct kube_resource kube_resource_tidbclusters;

#endif
