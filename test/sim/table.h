/*
 * table: the meta.k8s.io/v1 Table output format, as kube-apiserver renders it
 * for `kubectl get` (kube-api.md §1.5).
 *
 * kubectl asks for a Table with `Accept: application/json;as=Table;v=v1;
 * g=meta.k8s.io,...` and prints the server's cells verbatim, so the cells
 * here follow the real server's printers (kubernetes pkg/printers/
 * internalversion for built-in kinds, apiextensions' tableconvertor for
 * custom resources, the default convertor otherwise): same column names,
 * types and priorities, same cell text (ages as human durations, "<none>"
 * placeholders, pod status reasons). Every column is rendered ("wide"), as
 * the real server does; kubectl hides priority > 0 columns without -o wide.
 *
 * Row objects follow `includeObject`: Metadata (the default) puts a
 * PartialObjectMetadata (the object's whole metadata), Object the object
 * itself, None a null.
 *
 * Pure functions (no I/O, no global state); the time is passed in.
 * Strings returned are malloc'd and owned by the caller; NULL means memory
 * ran out.
 */
#ifndef TEST_SIM_TABLE_H
#define TEST_SIM_TABLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reactor/clock.h"
#include "test/sim/api_server.h"
#include "test/sim/resources.h"

/* The Content-Type of every Table response. */
#define TABLE_CONTENT_TYPE "application/json;as=Table;v=v1;g=meta.k8s.io"

enum table_include {
    TABLE_INCLUDE_METADATA,  /* PartialObjectMetadata (the default) */
    TABLE_INCLUDE_OBJECT,    /* the full object */
    TABLE_INCLUDE_NONE,      /* "object": null */
};

/*
 * True when the media type the server would pick from `accept` is the v1
 * Table: entries are tried by q (highest first, then in order); an entry
 * asking for another `as` (e.g. the unserved v1beta1 Table) is skipped, any
 * other acceptable entry (plain JSON, protobuf, * / *) means "not a Table".
 * NULL or "" is false.
 */
bool table_wanted(const char *accept);

/* Parses the includeObject query parameter (NULL or "": Metadata); false for an unknown value. */
bool table_parse_include(const char *value, enum table_include *out);

struct table_options {
    enum table_include include;
    bool column_definitions;      /* false: "columnDefinitions": null (watch events after the first) */
    const char *resource_version; /* metadata.resourceVersion; NULL: omitted */
    const char *continue_token;   /* metadata.continue; NULL: omitted */
    long remaining;               /* metadata.remainingItemCount when >= 0 and continuing */
    int64_t now_ms;               /* wall clock, ms since the epoch: ages are measured to it */
};

/* One row per object, in the given order; the JSON text of the Table. */
char *table_render(const struct resource *resource, const cJSON *const *objects, size_t count,
                   const struct table_options *options);

/*
 * The hook for api_server (struct api_renderer): lists, single objects and
 * watch events become Tables when the request's Accept asks for one. Ages
 * are measured with `clock`'s wall time (borrowed; NULL: the system clock).
 * An unknown includeObject makes the render fail (the front answers 500; a
 * real server answers 400).
 */
struct api_renderer table_renderer(const struct clock *clock);

/* ---- pieces, exposed for tests ---- */

/*
 * apimachinery's duration.HumanDuration of `elapsed_ms`: "<invalid>" below
 * -1 s, "0s" just below 0, then Ns (< 2 min), XmYs (< 10 min), Xm (< 3 h),
 * XhYm (< 8 h), Xh (< 48 h), XdYh (< 8 d), Xd (< 2 y), XyYd (< 8 y), Xy.
 * Zero parts are dropped ("5m", "3h", "2d", "3y").
 */
void table_format_duration(int64_t elapsed_ms, char *out, size_t size);

/* The age cell of a timestamp: "<unknown>" when absent, "<invalid>" when unparseable. */
void table_format_age(const char *timestamp, int64_t now_ms, char *out, size_t size);


/*
 * The first result of a JSONPath (the subset CRD printer columns use) on
 * `root`, or NULL when nothing matches or the path is not understood.
 * Supported: `.a.b`, `['a.b']`, `[0]`, `[-1]`, `[*]`, `.*`, and filters
 * `[?(@.x.y=="v")]`, `[?(@.x!='v')]`, `[?(@.n==3)]`, `[?(@.flag)]`;
 * an optional leading `$` and surrounding `{}`.
 */
const cJSON *table_jsonpath(const cJSON *root, const char *path);

#endif
