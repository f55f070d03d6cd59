/*
 * pd_snapshot_data: the read-only helpers of pd_snapshot_data.h.
 */
#include "pd/pd_snapshot_data.h"

#include <string.h>

const char *pd_snapshot_part_name(enum pd_snapshot_part part)
{
    switch (part) {
    case PD_PART_MEMBERS: return "members";
    case PD_PART_HEALTH: return "health";
    case PD_PART_STORES: return "stores";
    case PD_PART_SCHEDULERS: return "schedulers";
    case PD_PART_CONFIG: return "config";
    case PD_PART_COUNT: break;
    }
    return "unknown";
}

/* --- reading helpers -------------------------------------------------------- */

const char *pd_snapshot_leader_name(const struct pd_snapshot_data *data)
{
    if (!data->members.has_leader || data->members.leader.name == NULL || data->members.leader.name[0] == '\0')
        return NULL;
    return data->members.leader.name;
}

int pd_snapshot_member_health(const struct pd_snapshot_data *data, const char *name)
{
    if (name == NULL || name[0] == '\0' || !data->parts[PD_PART_HEALTH].ever_succeeded)
        return -1;
    for (size_t i = 0; i < data->health.count; i++)
        if (strcmp(data->health.entries[i].name, name) == 0)
            return data->health.entries[i].health ? 1 : 0;
    return -1;
}

bool pd_snapshot_store_evicting(const struct pd_snapshot_data *data, uint64_t store_id)
{
    for (size_t i = 0; i < data->schedulers.evict_leader_count; i++)
        if (data->schedulers.evict_leader_store_ids[i] == store_id)
            return true;
    return false;
}

bool pd_snapshot_all_fresh(const struct pd_snapshot_data *data)
{
    for (int part = 0; part < PD_PART_COUNT; part++)
        if (!data->parts[part].ever_succeeded || data->parts[part].last_error.kind != PD_ERROR_NONE)
            return false;
    return true;
}
