/*
 * validation_memo: each TidbCluster's validation (tidbcluster_validate,
 * TOML check included) once per spec generation, not on every pass.
 *
 * Keyed by the cluster's work-queue key ("ns/name"); an entry remembers the
 * uid and metadata.generation it was made for, and is remade when either
 * moves (the API server bumps the generation on every spec change, and a
 * cluster deleted and created again under the same name has a new uid). A
 * cluster without a generation (0: the server does not set one) is
 * validated on every call, as before.
 *
 * Ownership: the memo owns its entries and their problems; a pointer from
 * validation_memo_get is valid until the next get or remove of that key, or
 * validation_memo_free. Pure apart from allocation: no loop, no I/O.
 */
#ifndef RECONCILERS_RUNTIME_VALIDATION_MEMO_H
#define RECONCILERS_RUNTIME_VALIDATION_MEMO_H

#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/api/tidbcluster_validate.h"

#include <stdint.h>

struct validation_memo;

/* NULL on out of memory. */
struct validation_memo *validation_memo_new(void);
/* The problems of `cluster` (decoded, defaults applied) at its uid and
 * generation; NULL on out of memory (the caller validates itself or
 * retries). */
const struct tc_problems *validation_memo_get(struct validation_memo *memo, const char *key,
                                              const struct tidbcluster *cluster);
/* Forgets a cluster (it is gone). */
void validation_memo_remove(struct validation_memo *memo, const char *key);
void validation_memo_free(struct validation_memo *memo);
/* Validations run so far (tests, benchmarks). */
uint64_t validation_memo_runs(const struct validation_memo *memo);

#endif
