/*
 * planner: the entry points (planner.h). A pass is
 *   deleted?  → nothing (owner references garbage-collect the objects);
 *   invalid?  → rule invalid_spec_touches_nothing: only the Ready
 *               condition (InvalidSpec, the exact validation messages) and
 *               a Warning FailedValidation; fixing the spec resumes on the
 *               next pass since nothing is remembered;
 *   assess    → the member table and facts (members.c, assess.c);
 *   propose   → the concern planners — bringup.c (missing objects behind
 *               the bring-up gates), failover.c, scale.c, upgrade.c —
 *               skipped when paused (rule paused_writes_only_status);
 *   arbitrate → the safety arbiter admits proposals into the plan
 *               (safety.c); a refused one becomes a Normal Event
 *               "Waiting" with the rule's message and a requeue;
 *   status    → written when it changed (status.c); the spec's warnings
 *               (fields not supported or without effect here, validation
 *               warnings) become the condition UnsupportedFields and a
 *               Warning event once per generation.
 * A cluster that is not Ready is looked at again after
 * PLANNER_WAIT_REQUEUE_MS, so no waiting state depends on a watch event
 * that may never come (and PD is polled fast meanwhile).
 */
#include "reconcilers/planner/planner.h"

#include "reconcilers/planner/planner_internal.h"
#include "reconcilers/api/tidbcluster_validate.h"
#include "watchers/objects.h"

#include <stdlib.h>
#include <string.h>

static bool plan_invalid(const struct tidbcluster *cluster, const struct tc_problems *problems, int64_t now_ms,
                         struct plan *out)
{
    char *summary = tidbcluster_problems_summary(problems, TC_PROBLEM_ERROR);
    if (!summary) {
        out->incomplete = true;
        return false;
    }
    bool ok = plan_event(out, true, "FailedValidation", "%s", summary) &&
              planner_plan_condition_only(out, cluster->name, cluster->namespace, cluster->resource_version,
                                          cluster->generation, &cluster->status, REASON_INVALID_SPEC, summary, now_ms);
    free(summary);
    return ok;
}

/* The arbiter's verdict over this pass's proposals; the first refusal is
 * told to the user (bounded_creates only requeues: it is the normal pace
 * of a large bring-up, not a problem). */
static bool planner_arbitrate(struct planning *p)
{
    struct safety_world safety = { .cluster = p->cluster, .members = &p->members, .pd = p->world->pd,
                                   .pd_stores_fresh = p->pd.stores_fresh, .pd_bootstrapped = p->pd.bootstrapped };
    if (!safety_arbitrate(&safety, &p->proposals, p->plan, &p->safety))
        return false;
    if (!p->safety.refused)
        return true;
    const struct safety_refusal *refusal = &p->safety.first_refusal;
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    if (refusal->concern < CONCERN_COUNT && refusal->concern != CONCERN_BRINGUP)
        planner_format(p->progress[refusal->concern], sizeof p->progress[refusal->concern], "%s", refusal->message);
    if (strcmp(refusal->rule, "bounded_creates") == 0)
        return true;
    /* A scale-in that the data rules refuse will not go by itself: the
     * user must act (PingCAP's FailedScaleIn). Other refusals are pacing. */
    if (refusal->concern == CONCERN_SCALE &&
        (strcmp(refusal->rule, "up_stores_kept") == 0 || strcmp(refusal->rule, "pd_quorum_kept") == 0))
        return plan_event(p->plan, true, "FailedScaleIn", "%s", refusal->message);
    return plan_event(p->plan, false, "Waiting", "%s", refusal->message);
}

bool planner_plan(const struct observed_cluster *world, struct plan *out)
{
    const struct tidbcluster *cluster = world ? world->cluster : NULL;
    if (!cluster || cluster->deletion_timestamp)
        return true;
    struct tc_problems own = { 0 };
    const struct tc_problems *problems = world->problems;
    if (!problems) {
        tidbcluster_validate(cluster, TC_VALIDATE_UPDATE, &own);
        problems = &own;
    }
    if (problems->out_of_memory) {
        tidbcluster_problems_free(&own);
        out->incomplete = true;
        return false;
    }
    if (problems->errors > 0) {
        bool ok = plan_invalid(cluster, problems, world->now_ms, out);
        tidbcluster_problems_free(&own);
        return ok && !out->incomplete;
    }
    struct planning p = { .world = world, .cluster = cluster, .problems = problems, .plan = out,
                          .paused = cluster->spec.paused == TC_TRUE };
    bool ok = planner_assess(&p) && proposals_init(&p.proposals, out);
    if (ok && !p.paused)
        ok = bringup_propose(&p) && failover_propose(&p) && scale_propose(&p) && upgrade_propose(&p) &&
             planner_arbitrate(&p);
    struct ready_verdict verdict;
    planner_ready_verdict(&p, &verdict);
    if (!verdict.ready && !p.paused)
        plan_requeue_after(out, PLANNER_WAIT_REQUEUE_MS);
    ok = ok && planner_plan_status(&p, &verdict);
    proposals_free(&p.proposals);
    member_table_free(&p.members);
    tidbcluster_problems_free(&own);
    if (!ok)
        out->incomplete = true;
    return ok && !out->incomplete;
}

bool planner_plan_undecodable(const cJSON *object, const char *message, int64_t now_ms, struct plan *out)
{
    const char *text = message && *message ? message : "the TidbCluster cannot be decoded";
    const cJSON *generation = JSON_PATH(object, "metadata", "generation");
    struct tidbcluster_status current;
    char *error = NULL;
    /* A status we cannot read is replaced (it is ours to write). */
    if (!tidbcluster_status_decode(cJSON_GetObjectItemCaseSensitive(object, "status"), &current, &error))
        free(error);
    const char *name = json_string(JSON_PATH(object, "metadata", "name"));
    const char *namespace = json_string(JSON_PATH(object, "metadata", "namespace"));
    bool ok = plan_event(out, true, "FailedValidation", "%s", text) &&
              planner_plan_condition_only(out, name ? name : out->cluster, namespace ? namespace : out->namespace,
                                          json_string(JSON_PATH(object, "metadata", "resourceVersion")),
                                          cJSON_IsNumber(generation) ? (int64_t)generation->valuedouble : 0,
                                          &current, REASON_INVALID_SPEC, text, now_ms);
    tidbcluster_status_free(&current);
    return ok && !out->incomplete;
}
