/*
 * tidb-dst: runs seeded schedules of the deterministic simulation (dst.h)
 * and prints the figures.
 *
 *   tidb-dst [--seeds N] [--first S]     N schedules from seed S (200 from 1)
 *   tidb-dst --seed S [--trace]          one schedule (a replay), traced
 *   tidb-dst --mutate RULE [--seeds N]   with safety rule RULE disabled:
 *                                        must report RULE's invariant
 *   tidb-dst --mutations [--seeds N]     every rule in turn; prints which
 *                                        were caught and the first seed
 *
 * Exit status: 0 when no schedule broke an invariant (without a mutation)
 * or when every mutation was caught (--mutations / --mutate); 1 otherwise;
 * 2 on bad arguments or a simulation that could not run.
 * `./zigw build dst -- ARGS` builds it optimised and runs it.
 */
#include "test/dst/dst.h"

#include "reactor/log.h"
#include "reconcilers/planner/safety.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           (double)usage.ru_stime.tv_usec / 1e6;
}

struct totals {
    uint64_t schedules, violations, checks, excused, simulated_ms, plans, pd_answers, actions, faults, converged;
    uint64_t converge_ms_max;
    uint32_t fault_kinds;
    uint64_t first_seed;
    struct dst_result first;
    bool any;
};

static void usage(void)
{
    fprintf(stderr, "usage: tidb-dst [--seeds N] [--first S] [--seed S] [--trace] [--mutate RULE] [--mutations] "
                    "[--stop]\n");
}

/* Runs seeds [first, first + count); stops at the first violation when asked. */
static bool run_seeds(uint64_t first, uint64_t count, bool trace, bool stop, bool quiet, const char *mutation,
                      struct totals *totals)
{
    for (uint64_t seed = first; seed < first + count; seed++) {
        struct dst_options options = { .seed = seed, .trace = trace };
        struct dst_result result;
        if (!dst_run(&options, &result)) {
            fprintf(stderr, "seed %llu: the simulation could not run: %s\n", (unsigned long long)seed, result.detail);
            return false;
        }
        totals->schedules++;
        totals->checks += result.checks;
        totals->excused += result.excused;
        totals->simulated_ms += result.simulated_ms;
        totals->plans += result.plans;
        totals->pd_answers += result.pd_answers;
        totals->actions += result.actions;
        totals->faults += result.faults;
        totals->fault_kinds |= result.fault_kinds;
        if (result.converged) {
            totals->converged++;
            if (result.converge_ms > totals->converge_ms_max)
                totals->converge_ms_max = result.converge_ms;
        }
        if (result.violated) {
            totals->violations++;
            if (!totals->any) {
                totals->any = true;
                totals->first_seed = seed;
                totals->first = result;
            }
            if (!quiet)
                printf("VIOLATION %s seed=%llu step=%llu at=%.3fs: %s\n  replay: ./zigw build dst -- --seed %llu%s%s "
                       "--trace\n",
                       dst_invariant_name(result.invariant), (unsigned long long)seed,
                       (unsigned long long)result.step, (double)result.at_ms / 1000.0, result.detail,
                       (unsigned long long)seed, mutation ? " --mutate " : "", mutation ? mutation : "");
            if (stop)
                return true;
        }
    }
    return true;
}

static void print_figures(const struct totals *totals, double cpu)
{
    double per_s = cpu > 0 ? (double)totals->schedules / cpu : 0;
    double hours = (double)totals->simulated_ms / 3600000.0;
    int kinds = 0;
    char names[1024] = "";
    for (int k = 0; k < DST_FAULT_KIND_COUNT; k++) {
        if (!(totals->fault_kinds & (1u << k)))
            continue;
        kinds++;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? " " : "", dst_fault_kind_name((enum dst_fault_kind)k));
    }
    printf("schedules: %llu in %.2f CPU s = %.1f schedules per CPU second\n", (unsigned long long)totals->schedules,
           cpu, per_s);
    printf("simulated: %.1f hours = %.2f simulated hours per CPU second (mean schedule %.0f s)\n", hours,
           cpu > 0 ? hours / cpu : 0,
           totals->schedules ? (double)totals->simulated_ms / 1000.0 / (double)totals->schedules : 0);
    printf("invariant checks: %llu (action checks excused by a later fault: %llu)\n",
           (unsigned long long)totals->checks, (unsigned long long)totals->excused);
    printf("plans: %llu, actions: %llu, PD answers: %llu, faults: %llu\n", (unsigned long long)totals->plans,
           (unsigned long long)totals->actions, (unsigned long long)totals->pd_answers,
           (unsigned long long)totals->faults);
    printf("fault kinds exercised: %d of %d (%s)\n", kinds, DST_FAULT_KIND_COUNT, names);
    printf("converged after the faults: %llu of %llu (slowest %.0f s)\n", (unsigned long long)totals->converged,
           (unsigned long long)totals->schedules, (double)totals->converge_ms_max / 1000.0);
    printf("violations: %llu\n", (unsigned long long)totals->violations);
}

/* One mutation: the first seed whose violation is the rule's invariant. */
static int mutate(const char *rule, uint64_t first, uint64_t count, bool trace, uint64_t *caught_seed,
                  char *detail, size_t size)
{
    int wanted = dst_invariant_of_rule(rule);
    if (wanted < 0 || !safety_disable_rule(rule))
        return -1;
    int caught = 0;
    for (uint64_t seed = first; seed < first + count && !caught; seed++) {
        struct dst_options options = { .seed = seed, .trace = trace };
        struct dst_result result;
        if (!dst_run(&options, &result)) {
            safety_disable_rule(NULL);
            return -1;
        }
        if (result.violated && (int)result.invariant == wanted) {
            caught = 1;
            *caught_seed = seed;
            snprintf(detail, size, "%s", result.detail);
        }
    }
    safety_disable_rule(NULL);
    return caught;
}

int main(int argc, char **argv)
{
    uint64_t seeds = 200, first = 1;
    bool one = false, trace = false, mutations = false, stop = false;
    const char *rule = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--seeds") == 0 && value) {
            seeds = strtoull(value, NULL, 10);
            i++;
        } else if (strcmp(arg, "--first") == 0 && value) {
            first = strtoull(value, NULL, 10);
            i++;
        } else if (strcmp(arg, "--seed") == 0 && value) {
            first = strtoull(value, NULL, 10);
            seeds = 1;
            one = true;
            i++;
        } else if (strcmp(arg, "--mutate") == 0 && value) {
            rule = value;
            i++;
        } else if (strcmp(arg, "--mutations") == 0) {
            mutations = true;
        } else if (strcmp(arg, "--trace") == 0) {
            trace = true;
        } else if (strcmp(arg, "--stop") == 0) {
            stop = true;
        } else {
            usage();
            return 2;
        }
    }
    log_set_level(LOG_WARN); /* the world's info lines would drown the figures */
    if (mutations || (rule && !one)) {
        double started = cpu_seconds();
        int missed = 0;
        printf("mutation check: each safety rule disabled in turn, up to %llu seeds from %llu\n",
               (unsigned long long)seeds, (unsigned long long)first);
        for (size_t r = 0; r < safety_rule_count; r++) {
            const char *name = safety_rule_names[r];
            if (rule && strcmp(rule, name) != 0)
                continue;
            uint64_t seed = 0;
            char detail[512] = "";
            int caught = mutate(name, first, seeds, false, &seed, detail, sizeof detail);
            if (caught < 0) {
                fprintf(stderr, "%s: the simulation could not run\n", name);
                return 2;
            }
            if (caught)
                printf("  %-32s caught by %s, first seed %llu: %s\n", name,
                       dst_invariant_name((enum dst_invariant)dst_invariant_of_rule(name)), (unsigned long long)seed,
                       detail);
            else {
                missed++;
                printf("  %-32s NOT caught in %llu seeds (invariant %s)\n", name, (unsigned long long)seeds,
                       dst_invariant_name((enum dst_invariant)dst_invariant_of_rule(name)));
            }
        }
        printf("mutation check: %.2f CPU s\n", cpu_seconds() - started);
        return missed ? 1 : 0;
    }
    if (rule && !safety_disable_rule(rule)) {
        fprintf(stderr, "--mutate: %s is not a safety rule\n", rule);
        return 2;
    }
    struct totals totals = { 0 };
    double started = cpu_seconds();
    if (!run_seeds(first, seeds, trace, stop, false, rule, &totals))
        return 2;
    double cpu = cpu_seconds() - started;
    print_figures(&totals, cpu);
    if (rule)
        safety_disable_rule(NULL);
    return totals.violations ? 1 : 0;
}
