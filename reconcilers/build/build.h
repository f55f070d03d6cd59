/*
 * build: the Kubernetes objects of a cluster, generated from its spec.
 *
 * Pure functions from a decoded TidbCluster to the JSON bodies the executor
 * POSTs. Names, labels, ports and annotations follow PingCAP's operator
 * (reference tidb-operator-v1.md §2) so users and tools recognise them;
 * members are Pods and PVCs managed directly (DESIGN.md "Pods, not
 * StatefulSets"), each pod with `hostname` = its name and `subdomain` = the
 * component's headless peer service, so its DNS name is stable.
 *
 * Every object carries:
 *   labels app.kubernetes.io/name=tidb-cluster, managed-by=tidb-operator,
 *          instance=<cluster>, component=pd|tikv|tidb (+ the user's labels)
 *   an ownerReference to the TidbCluster (controller: true,
 *          blockOwnerDeletion: true) — PVCs only with pvReclaimPolicy
 *          Delete: with Retain (the default) a claim has no owner, so the
 *          garbage collector never deletes data when the cluster goes
 * Generated specs are STABLE: the same spec gives byte-identical JSON, with
 * no timestamps or random parts, so an operator upgrade never restarts a
 * database pod. A pod records the hash of what it was built from in the
 * annotation `tidb.pingcap.com/spec-hash` (see build_pod_spec_hash); the
 * planner's upgrade concern restarts a member whose hash differs from the
 * spec's (reconcilers/planner/upgrade.c).
 *
 * Every function returns a new cJSON tree the caller owns, or NULL when
 * memory runs out (or the component is not present in the spec).
 */
#ifndef RECONCILERS_BUILD_H
#define RECONCILERS_BUILD_H

#include "reconcilers/api/tidbcluster.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define ANNOTATION_SPEC_HASH "tidb.pingcap.com/spec-hash"
#define ANNOTATION_CONFIG_HASH "tidb.pingcap.com/config-hash"
/* On a pod: the hash of the user's labels and annotations it was given
 * (build_pod_metadata_hash); a different one is patched, not restarted. */
#define ANNOTATION_METADATA_HASH "tidb.pingcap.com/metadata-hash"
/* On a member's PVC after scale-in (PingCAP's name): its time; the claim is
 * no longer a member's and is never reused by a new member. */
#define ANNOTATION_PVC_DEFER_DELETING "tidb.pingcap.com/pvc-defer-deleting"
/* On a TiKV pod whose leaders are being evicted for a restart: when that
 * began (RFC 3339; PingCAP's name, without a prefix). */
#define ANNOTATION_EVICT_LEADER_BEGIN "evictLeaderBeginTime"
/* On a TiKV pod whose store deletion was asked for: when (RFC 3339). */
#define ANNOTATION_SCALE_IN_TIME "tidb.pingcap.com/scale-in-time"

/* "<cluster>-pd-3" into out; false when it does not fit. */
bool build_member_name(const struct tidbcluster *cluster, enum tc_component component,
                       int ordinal, char *out, size_t size);
/* The PVC name of a member's data volume: PingCAP's "pd-<cluster>-pd-3",
 * "tikv-<cluster>-tikv-3". */
bool build_pvc_name(const struct tidbcluster *cluster, enum tc_component component, int ordinal,
                    char *out, size_t size);
/* The member's stable DNS name: "<pod>.<cluster>-<component>-peer.<ns>.svc"
 * (+ ".<spec.clusterDomain>" when set, as the start scripts advertise). */
bool build_member_host(const struct tidbcluster *cluster, enum tc_component component,
                       int ordinal, char *out, size_t size);
/* PD's client URL inside the cluster: "http://<cluster>-pd.<ns>:2379". */
bool build_pd_url(const struct tidbcluster *cluster, char *out, size_t size);

/* Services: PD client "<c>-pd" (2379) and peer "<c>-pd-peer" (headless, 2380,
 * publishNotReadyAddresses); TiKV peer "<c>-tikv-peer" (headless, 20160);
 * TiDB client "<c>-tidb" (4000 mysql-client + 10080 status; type from
 * spec.tidb.service, NodePort by default) and peer "<c>-tidb-peer" (headless, 10080). */
cJSON *build_service_client(const struct tidbcluster *cluster, enum tc_component component);
cJSON *build_service_peer(const struct tidbcluster *cluster, enum tc_component component);
/* The ConfigMap of a component: keys `config-file` (the TOML) and
 * `startup-script`, annotation ANNOTATION_CONFIG_HASH. Named
 * "<c>-<component>-<first 8 hex of the content hash>" under
 * configUpdateStrategy RollingUpdate, so a config change is a new ConfigMap
 * (and the pods roll onto it); "<c>-<component>" under InPlace (PingCAP's
 * default when unset), updated in place: pods read it when they next start. */
cJSON *build_configmap(const struct tidbcluster *cluster, enum tc_component component);
/* Both at once (one start script built): the content hash (as
 * build_config_hash) and the name (as build_configmap_name). */
bool build_configmap_identity(const struct tidbcluster *cluster, enum tc_component component, char hash[17],
                              char *name, size_t size);
/* The name build_configmap gives (same hash). */
bool build_configmap_name(const struct tidbcluster *cluster, enum tc_component component,
                          char *out, size_t size);

/* "<c>-<component>" (client service; none for TiKV) or "<c>-<component>-peer". */
bool build_service_name(const struct tidbcluster *cluster, enum tc_component component, bool peer,
                        char *out, size_t size);
/* The content hash of the component's ConfigMap: FNV-1a 64 over the config
 * file and the start script, as 16 hex digits (the ConfigMap carries it in
 * ANNOTATION_CONFIG_HASH; its name has the first 8). */
bool build_config_hash(const struct tidbcluster *cluster, enum tc_component component, char out[17]);
/* The `startup-script` text (malloc'd; NULL when out of memory), run as
 * `/bin/sh /usr/local/bin/<component>_start_script.sh`. One script serves
 * every member: what differs per member comes from the pod's environment
 * (POD_NAME, NAMESPACE, CLUSTER_NAME, PEER_SERVICE_NAME or
 * HEADLESS_SERVICE_NAME, CAPACITY, BINLOG_ENABLED, PD_INITIAL_CLUSTER,
 * PD_JOIN). A pod annotated runmode=debug idles instead of starting. */
char *build_start_script(const struct tidbcluster *cluster, enum tc_component component);

/* How a new PD member starts: bootstrap with the initial member list, or
 * join the running cluster through the given client URLs (comma-separated).
 *
 * This replaces PingCAP's discovery service (reference §2.8): the planner,
 * which sees PD's members, decides, and build_pod puts the answer in the
 * pod's environment: PD_INITIAL_CLUSTER (start script: --initial-cluster)
 * or PD_JOIN (--join). The script uses them only for an empty data
 * directory; a restarted member ignores them (its data says who it is) and
 * prefers the `join` file PD writes after joining. A PD member's name is
 * its pod name, and its advertised peer URL is
 * "http://<build_member_host>:2380", so an initial_cluster entry reads
 * "<pod>=http://<build_member_host(pod)>:2380". */
struct build_pd_start {
    bool join;
    const char *initial_cluster;  /* "basic-pd-0=http://basic-pd-0.basic-pd-peer.ns.svc:2380,..." */
    const char *join_urls;        /* "http://basic-pd.ns:2379" */
};

/* A member's PVC (data volume), with spec.storageClassName and size from the
 * component's storage request; NULL for TiDB (no PVC). */
cJSON *build_pvc(const struct tidbcluster *cluster, enum tc_component component, int ordinal);
/* A member's Pod: image, command from the start script in the ConfigMap,
 * ports, env, resources, volumes (its PVC, the ConfigMap), node selector,
 * affinity, tolerations (cluster's merged with the component's), hostname +
 * subdomain, the spec-hash annotation. `pd_start` is for PD only (NULL for
 * others); NULL for PD means neither variable, right for a member whose
 * data directory exists, but a NEW member started so bootstraps a cluster of
 * its own: always pass the start mode when creating a PD member.
 *
 * Shape (PingCAP's where it has one): container `pd|tikv|tidb`, ports
 * server/client (PD 2380/2379), server/status (TiKV 20160/20180, TiDB
 * 4000/10080); env NAMESPACE and POD_NAME (downward API), CLUSTER_NAME, TZ,
 * then PEER_SERVICE_NAME + SERVICE_NAME (PD) or HEADLESS_SERVICE_NAME,
 * CAPACITY (TiKV, from limits.storage), BINLOG_ENABLED (TiDB), then the
 * user's env minus the names the operator sets; volumes `annotations`
 * (downward API, /etc/podinfo), `config` (/etc/<c>/<c>.toml), `startup-script`
 * (/usr/local/bin), `pd`/`tikv` (the PVC, /var/lib/<c>), then the user's
 * additionalVolumes; readiness TCP on 2379/20160/4000; pod annotations =
 * Prometheus scrape hints < the user's (cluster's < component's) <
 * spec-hash; labels = the user's < our four; hostNetwork (the
 * component's, else the cluster's) with dnsPolicy ClusterFirstWithHostNet
 * unless one is set; automountServiceAccountToken when set; the main
 * container's securityContext (TiKV: `privileged: true` from the
 * deprecated spec.tikv.privileged unless it says) and TiDB's lifecycle
 * when set. One main container, and for TiDB with separateSlowLog
 * written true the `slowlog` sidecar (helper image, `tail -F` of
 * /var/log/tidb/slowlog on the emptyDir `slowlog`, SLOW_LOG_FILE in TiDB's
 * env); unset it is none (PingCAP's default true would add a container to
 * every existing TiDB pod): the slow log goes to TiDB's main log. */
cJSON *build_pod(const struct tidbcluster *cluster, enum tc_component component, int ordinal,
                 const struct build_pd_start *pd_start);
/* The hash recorded in ANNOTATION_SPEC_HASH: of everything in the pod spec
 * that comes from the TidbCluster (image, config unless InPlace, resources,
 * placement; not the labels and annotations), as 16 hex digits. A pod needs
 * no restart when build_pod_spec_hash_accepts its hash (the rule the
 * upgrade concern applies).
 * It hashes the TidbCluster's inputs, not the generated pod: a new operator
 * release that writes pods (or start scripts) differently changes no hash,
 * so it restarts nothing; pods keep their ConfigMap until restarted for a
 * reason of their own, so an old ConfigMap stays while a pod uses it.
 * Replicas, requests.storage, storageClassName, maxFailoverCount, the PD start mode and
 * other components' specs do not count. */
bool build_pod_spec_hash(const struct tidbcluster *cluster, enum tc_component component,
                         char out[17]);
/* The hashes a pod may record and be up to date with the spec: the spec's
 * hash under the current version of what the hash covers (first, what
 * build_pod_spec_hash gives) and under each earlier version (pods made by an
 * older operator: a new version alone restarts nothing). Their count; 0
 * when out of memory. */
#define BUILD_SPEC_HASH_VERSIONS 2
size_t build_pod_spec_hashes_accepted(const struct tidbcluster *cluster, enum tc_component component,
                                      char out[BUILD_SPEC_HASH_VERSIONS][17]);
/* The hash of the user's labels and annotations a pod of `component` gets
 * (ANNOTATION_METADATA_HASH): these change on a running pod by a patch. */
bool build_pod_metadata_hash(const struct tidbcluster *cluster, enum tc_component component, char out[17]);

#endif
