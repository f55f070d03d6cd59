/*
 * tidbcluster_validate: the checks a CRD schema cannot express, run on a
 * decoded TidbCluster after tidbcluster_apply_defaults (reference §1.6 plus
 * this product's rules). The reconciler turns errors into a Warning event
 * `FailedValidation` and a Ready=False condition and skips the sync (once
 * per spec generation: reconcilers/runtime/validation_memo.h). There is no
 * admission webhook yet (a separate issue); when there is, it refuses the
 * object with the same text. Warnings are reported (events) but do not
 * stop anything.
 *
 * Each problem is {field path, message}; the texts are a contract (tests
 * and e2e scenarios compare them). Errors:
 *   spec                                   required
 *   spec.pd                                required when tikv or tidb is set (or set spec.pdAddresses)
 *   metadata.name                          required
 *   spec.version                           required                      (create only)
 *   spec.version, spec.<c>.version         invalid version "V": must be an image tag (letters, digits, '_', '.', '-'; at most 128 characters; not starting with '.' or '-')
 *   spec.timezone                          invalid time zone "Z": expected an IANA name such as UTC or Asia/Shanghai
 *   spec.pvReclaimPolicy                   unsupported value "X": must be Retain or Delete
 *   spec[.<c>].imagePullPolicy             unsupported value "X": must be Always, IfNotPresent or Never
 *   spec[.<c>].configUpdateStrategy        unsupported value "X": must be InPlace or RollingUpdate
 *   spec.pdAddresses[i]                    invalid PD address "A": expected http://host:port or https://host:port
 *   spec.<c>.replicas                      required
 *   spec.<c>.replicas                      must be greater than or equal to 0, got N
 *   spec.<c>.maxFailoverCount              must be greater than or equal to 0, got N
 *   spec.<c>.baseImage                     required: no image can be resolved (set spec.version, spec.<c>.version or spec.<c>.baseImage)
 *   spec.<c>.image                         deprecated field: use baseImage and version instead   (create only; a warning on update)
 *   spec.<c>.requests.storage              required                      (pd, tikv)
 *   spec.<c>.requests.storage              must be greater than 0        (pd, tikv)
 *   spec.<c>.{requests,limits}.<r>         invalid quantity "Q": <reason>
 *   spec.<c>.{requests,limits}.<r>         must not be negative, got "Q"
 *   spec.<c>.limits.{cpu,memory}           must be greater than or equal to requests.<r> ("L" < "R")
 *   spec.<c>.config                        invalid TOML at line L, column C: <reason>
 *   spec.<c>.storageClassName              invalid name "N": must be a lowercase DNS subdomain
 *   spec.<c>.service.type                  unsupported value "X": must be ClusterIP, NodePort or LoadBalancer
 *   spec.tidb.service.port                 must be between 1 and 65535, got N
 *   spec.tidb.service.{mysql,status}NodePort  must be between 0 and 65535, got N
 *   spec.tidb.service.{mysql,status}NodePort  may only be set when service.type is NodePort or LoadBalancer
 *   spec.<c>.service.externalTrafficPolicy unsupported value "X": must be Cluster or Local
 *   spec.tikv.evictLeaderTimeout, spec.tikv.waitLeaderTransferBackTimeout
 *                                          invalid duration "D": expected a Go duration such as 1500m, 400s or 1h30m
 *   spec.<c>.scalePolicy.scale{In,Out}Parallelism  must be at least 1, got N
 *   spec.pd.startTimeout                   must be greater than 0, got N
 *   spec.<c>.terminationGracePeriodSeconds must be greater than or equal to 0, got N
 *   <a refused field>                      not supported yet: <why>      (tidbcluster_fields.h: TLS,
 *                                          TiFlash, TiCDC, Pump, acrossK8s, pdAddresses, ...)
 * Warnings:
 *   spec                                   no pd, tikv or tidb: nothing to manage
 *   spec.pd.replicas                       an even number of PD members (N) tolerates no more failures than N-1; use an odd number
 *   spec.pd.replicas                       0 PD members: the cluster cannot serve until PD is scaled up
 *   spec.tikv.replicas                     fewer than 3 TiKV stores cannot hold the default 3 replicas of each region
 *   spec.<c>.image                         deprecated field: use baseImage and version instead   (update)
 *   spec.<c>.version                       no version: the image "I" has no tag, so the registry's latest is used
 *   spec.pvReclaimPolicy                   Delete: a volume is deleted with its claim, so data of removed members is lost
 *   <a field not supported yet>            not supported yet, ignored: <why>
 *   <a field with no effect here>          no effect here: <why>
 *   <a key no table row knows>             unknown field, ignored
 * (the last three and the refusals come from the decoder's scan of the
 * written spec, struct tidbcluster.fields; they follow the other problems)
 * (<c> is pd, tikv or tidb.)
 */
#ifndef RECONCILERS_TIDBCLUSTER_VALIDATE_H
#define RECONCILERS_TIDBCLUSTER_VALIDATE_H

#include "reconcilers/api/tidbcluster.h"

#include <stdbool.h>
#include <stddef.h>

enum tc_severity { TC_PROBLEM_ERROR, TC_PROBLEM_WARNING };

struct tc_problem {
    enum tc_severity severity;
    char *field;
    char *message;
};

/* Owns its items. A zeroed struct is empty. When memory runs out the list
 * is cut short and out_of_memory is set (callers treat that as "invalid,
 * retry later"). */
struct tc_problems {
    struct tc_problem *items;
    size_t count;
    size_t errors;
    size_t warnings;
    bool out_of_memory;
};

enum tc_validate_mode {
    TC_VALIDATE_UPDATE, /* every sync and updates: the rules that always hold */
    TC_VALIDATE_CREATE, /* creation (the admission webhook, when there is one): also PingCAP's create-only rules */
};

/* Appends the problems of `cluster` (defaults applied) to *problems, in a
 * fixed order (cluster fields, then pd, tikv, tidb). Pure. */
void tidbcluster_validate(const struct tidbcluster *cluster, enum tc_validate_mode mode, struct tc_problems *problems);

void tidbcluster_problems_free(struct tc_problems *problems);

/* "field: message; field: message" over the problems of one severity
 * (malloc'd; "" when there are none; NULL when out of memory). */
char *tidbcluster_problems_summary(const struct tc_problems *problems, enum tc_severity severity);

/* The first problem with this field and severity, or NULL. */
const struct tc_problem *tidbcluster_problems_find(const struct tc_problems *problems, const char *field,
                                                   enum tc_severity severity);

#endif
