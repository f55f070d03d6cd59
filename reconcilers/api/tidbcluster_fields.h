/*
 * tidbcluster_fields: the one table that says what this operator does with
 * every field of PingCAP's v1alpha1 TidbCluster spec a user may write
 * (reference tidb-operator-v1.md §1.2-1.4), and the scan that finds, in a
 * written spec, the fields that do not act as PingCAP documents.
 *
 * Each field is one of:
 *   supported       acts as PingCAP documents (or the difference is stated);
 *   no effect here  accepted and harmless here, `why` says why (e.g.
 *                   statefulSetUpdateStrategy: there are no StatefulSets);
 *   not supported   not done yet. When it changes security or data
 *                   placement (`refused`: TLS, TiFlash, TiCDC, Pump, a PD
 *                   elsewhere, ...) the spec is refused like an invalid one
 *                   (an error of tidbcluster_validate: nothing is created),
 *                   never run in a weaker mode; otherwise it is a warning.
 * A field only counts when its value asks for something (`trigger`): false,
 * 0, "", [], null and objects whose members ask for nothing do not, so
 * `hostNetwork: false` or `discovery: {}` mean the same to both operators
 * and are not reported.
 *
 * Paths: "spec.helper.image"; component fields are written once as
 * "spec.<c>.hostNetwork" with the set of components they exist in. A
 * group row (tlsCluster, <c>.service, ...) has its members as rows of their
 * own and the scan walks into it. A key the table does not know is an
 * unknown field: reported as a warning ("ignored"), since the decoder
 * ignores it too.
 *
 * The decoder (tidbcluster_decode) runs the scan on the written spec and
 * keeps the findings in struct tidbcluster (`fields`); tidbcluster_validate
 * turns them into problems. test_tidbcluster_fields checks that every key
 * the decoder reads has a row, and that README.md's compatibility table is
 * this table.
 *
 * Pure; the table is static. Findings own their path strings.
 */
#ifndef RECONCILERS_TIDBCLUSTER_FIELDS_H
#define RECONCILERS_TIDBCLUSTER_FIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum tc_field_support {
    TC_FIELD_SUPPORTED,
    TC_FIELD_NO_EFFECT,
    TC_FIELD_NOT_SUPPORTED,
};

/* When a written value asks for something. */
enum tc_field_trigger {
    TC_TRIGGER_VALUE,    /* anything but false, 0, "", [], null or an object of those */
    TC_TRIGGER_REPLICAS, /* an object whose `replicas` is above 0 (a component block) */
    TC_TRIGGER_ABOVE_ONE, /* a number above 1 (a parallelism: 1 is what is done here) */
    TC_TRIGGER_GROUP,    /* an object: its members are judged by their own rows */
};

/* Component sets for "spec.<c>." rows (bit 1 << enum tc_component). */
#define TC_FIELD_PD 1u
#define TC_FIELD_TIKV 2u
#define TC_FIELD_TIDB 4u
#define TC_FIELD_ALL (TC_FIELD_PD | TC_FIELD_TIKV | TC_FIELD_TIDB)

struct tc_field_class {
    const char *path;        /* "spec.x.y" or "spec.<c>.y" */
    unsigned components;     /* for "spec.<c>." rows; 0 otherwise */
    enum tc_field_support support;
    bool refused;            /* not supported and refused (never run weaker) */
    enum tc_field_trigger trigger;
    const char *why;         /* one clause for users (README, messages) */
};

/* The whole table, in the order of the README's table. */
const struct tc_field_class *tidbcluster_fields_table(size_t *count);

/* The row of a concrete path ("spec.tikv.storeLabels"), or NULL. */
const struct tc_field_class *tidbcluster_field_find(const char *path);

/* "supported", "no effect here", "not supported yet". */
const char *tidbcluster_field_support_name(enum tc_field_support support);

/* A written field that does not act as PingCAP documents. */
struct tc_field_finding {
    char *path;                         /* concrete: "spec.tikv.storeLabels" */
    const struct tc_field_class *field; /* NULL: a field the table does not know */
};

/* A zeroed struct is empty. Out of memory, the list is cut short and
 * out_of_memory is set (validation then reports the spec as not checked). */
struct tc_field_findings {
    struct tc_field_finding *items;
    size_t count;
    bool out_of_memory;
};

/* Appends to *out every field of `spec` (the object's .spec as written;
 * NULL or not an object: nothing) that is not supported or has no effect
 * and asks for something, and every unknown key, in the order written. */
void tidbcluster_fields_scan(const cJSON *spec, struct tc_field_findings *out);
void tidbcluster_field_findings_free(struct tc_field_findings *findings);

#endif
