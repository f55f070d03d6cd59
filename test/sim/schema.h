/*
 * schema: the structural-schema checks the API server makes on a custom
 * resource (a CRD version's openAPIV3Schema) before storing it, the subset
 * that kubectl users meet: `type` (object, array, string, integer, number,
 * boolean), `properties`, `additionalProperties`, `items`, `required`,
 * `enum`, `nullable`, `x-kubernetes-int-or-string` and
 * `x-kubernetes-preserve-unknown-fields`. Unknown fields are not pruned
 * (the CRDs kubesim serves preserve them) and a null in a non-nullable
 * field is skipped, as the API server prunes it.
 *
 * Each violation is reported once through `report` with the field path
 * ("spec.tikv.replicas"), the reason of a Status cause and the message the
 * API server writes (`Invalid value: "string": spec.tikv.replicas in body
 * must be of type integer: "string"`, `Required value`, `Unsupported
 * value: "x": supported values: "a", "b"`). Pure: nothing is owned or kept.
 */
#ifndef TEST_SIM_SCHEMA_H
#define TEST_SIM_SCHEMA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef void (*schema_report_fn)(void *data, const char *field, const char *reason, const char *message);

/* Checks `value` (a whole object: its top-level "metadata" and "status" are
 * left to others) against `schema`; the number of violations reported. */
size_t schema_validate_object(const cJSON *schema, const cJSON *value, schema_report_fn report, void *data);

#endif
