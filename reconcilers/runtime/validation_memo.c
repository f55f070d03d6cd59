/*
 * validation_memo: validation once per generation (validation_memo.h).
 */
#include "reconcilers/runtime/validation_memo.h"

#include "reactor/key_map.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct memo_entry {
    char *key;
    char *uid;
    int64_t generation;
    struct tc_problems problems;
};

struct validation_memo {
    struct key_map entries;
    struct memo_entry *ungenerated; /* the last cluster without a generation */
    uint64_t runs;
};

static void entry_free(struct memo_entry *entry)
{
    if (!entry)
        return;
    tidbcluster_problems_free(&entry->problems);
    free(entry->key);
    free(entry->uid);
    free(entry);
}

struct validation_memo *validation_memo_new(void)
{
    struct validation_memo *memo = calloc(1, sizeof *memo);
    if (memo)
        key_map_init(&memo->entries);
    return memo;
}

static bool entry_matches(const struct memo_entry *entry, const struct tidbcluster *cluster)
{
    return entry->generation == cluster->generation &&
           strcmp(entry->uid, cluster->uid ? cluster->uid : "") == 0;
}

/* A fresh entry holding the problems of `cluster`; NULL on out of memory. */
static struct memo_entry *entry_validate(struct validation_memo *memo, const char *key,
                                         const struct tidbcluster *cluster)
{
    struct memo_entry *entry = calloc(1, sizeof *entry);
    if (!entry)
        return NULL;
    entry->key = strdup(key);
    entry->uid = strdup(cluster->uid ? cluster->uid : "");
    entry->generation = cluster->generation;
    if (!entry->key || !entry->uid) {
        entry_free(entry);
        return NULL;
    }
    tidbcluster_validate(cluster, TC_VALIDATE_UPDATE, &entry->problems);
    memo->runs++;
    if (entry->problems.out_of_memory) {
        entry_free(entry);
        return NULL;
    }
    return entry;
}

const struct tc_problems *validation_memo_get(struct validation_memo *memo, const char *key,
                                              const struct tidbcluster *cluster)
{
    if (!memo || !key || !cluster)
        return NULL;
    struct memo_entry *entry = key_map_get(&memo->entries, key);
    if (entry && cluster->generation > 0 && entry_matches(entry, cluster))
        return &entry->problems;
    struct memo_entry *fresh = entry_validate(memo, key, cluster);
    if (!fresh)
        return NULL;
    if (cluster->generation <= 0) {
        /* Nothing to key it by: keep it only until the next call. */
        entry_free(key_map_remove(&memo->entries, key));
        entry_free(memo->ungenerated);
        memo->ungenerated = fresh;
        return &fresh->problems;
    }
    if (key_map_put(&memo->entries, fresh->key, fresh) != 0) {
        entry_free(fresh);
        return NULL;
    }
    entry_free(entry); /* replaced (key_map_put now points at fresh->key) */
    return &fresh->problems;
}

void validation_memo_remove(struct validation_memo *memo, const char *key)
{
    if (memo && key)
        entry_free(key_map_remove(&memo->entries, key));
}

void validation_memo_free(struct validation_memo *memo)
{
    if (!memo)
        return;
    size_t cursor = 0;
    for (struct memo_entry *entry; (entry = key_map_next(&memo->entries, &cursor));)
        entry_free(entry);
    key_map_free(&memo->entries);
    entry_free(memo->ungenerated);
    free(memo);
}

uint64_t validation_memo_runs(const struct validation_memo *memo)
{
    return memo ? memo->runs : 0;
}
