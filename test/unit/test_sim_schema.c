/*
 * test_sim_schema: kubesim's CRD schema checks, table-driven: each case is
 * a schema, a value and the exact causes the API server would list.
 */
#include "reactor/buffer.h"
#include "test/sim/schema.h"
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

static void collect(void *data, const char *field, const char *reason, const char *message)
{
    buffer_append_format(data, "%s|%s|%s\n", field, reason, message);
}

struct schema_case {
    const char *schema;
    const char *value;
    const char *causes; /* "field|reason|message\n" each, in order; "" when valid */
};

static const char *const spec_schema =
    "{\"type\":\"object\",\"required\":[\"spec\"],\"properties\":{"
    "\"spec\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true,\"properties\":{"
    "\"replicas\":{\"type\":\"integer\"},"
    "\"ratio\":{\"type\":\"number\"},"
    "\"name\":{\"type\":\"string\"},"
    "\"paused\":{\"type\":\"boolean\"},"
    "\"policy\":{\"type\":\"string\",\"enum\":[\"Retain\",\"Delete\"]},"
    "\"port\":{\"x-kubernetes-int-or-string\":true},"
    "\"config\":{\"x-kubernetes-preserve-unknown-fields\":true},"
    "\"addresses\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"limits\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
    "\"pd\":{\"type\":\"object\",\"required\":[\"baseImage\"],\"properties\":{"
    "\"baseImage\":{\"type\":\"string\"},\"replicas\":{\"type\":\"integer\"}}}"
    "}},\"status\":{\"type\":\"object\",\"properties\":{\"phase\":{\"type\":\"string\"}}}}}";

static void validation_table(void)
{
    static const struct schema_case cases[] = {
        { NULL, "{\"spec\":{}}", "" },
        { NULL, "{\"spec\":{\"replicas\":3,\"ratio\":3,\"name\":\"a\",\"paused\":false,\"policy\":\"Delete\","
                "\"port\":4000,\"config\":{\"any\":[1,{}]},\"addresses\":[\"a\",\"b\"],\"limits\":{\"cpu\":\"1\"},"
                "\"unknown\":{\"kept\":true}}}", "" },
        { NULL, "{\"spec\":{\"replicas\":\"three\"}}",
          "spec.replicas|FieldValueTypeInvalid|Invalid value: \"string\": spec.replicas in body must be of type "
          "integer: \"string\"\n" },
        { NULL, "{\"spec\":{\"replicas\":1.5}}",
          "spec.replicas|FieldValueTypeInvalid|Invalid value: \"number\": spec.replicas in body must be of type "
          "integer: \"number\"\n" },
        { NULL, "{\"spec\":{\"name\":7,\"paused\":\"yes\"}}",
          "spec.name|FieldValueTypeInvalid|Invalid value: \"integer\": spec.name in body must be of type string: "
          "\"integer\"\n"
          "spec.paused|FieldValueTypeInvalid|Invalid value: \"string\": spec.paused in body must be of type "
          "boolean: \"string\"\n" },
        { NULL, "{\"spec\":{\"policy\":\"Keep\"}}",
          "spec.policy|FieldValueNotSupported|Unsupported value: \"Keep\": supported values: \"Retain\", "
          "\"Delete\"\n" },
        { NULL, "{\"spec\":{\"port\":\"4000\"}}", "" },
        { NULL, "{\"spec\":{\"port\":true}}",
          "spec.port|FieldValueTypeInvalid|Invalid value: \"boolean\": spec.port in body must be of type "
          "integer,string: \"boolean\"\n" },
        { NULL, "{\"spec\":{\"addresses\":[\"a\",{\"b\":1}]}}",
          "spec.addresses[1]|FieldValueTypeInvalid|Invalid value: \"object\": spec.addresses[1] in body must be "
          "of type string: \"object\"\n" },
        { NULL, "{\"spec\":{\"addresses\":\"a\"}}",
          "spec.addresses|FieldValueTypeInvalid|Invalid value: \"string\": spec.addresses in body must be of type "
          "array: \"string\"\n" },
        { NULL, "{\"spec\":{\"limits\":{\"cpu\":1}}}",
          "spec.limits.cpu|FieldValueTypeInvalid|Invalid value: \"integer\": spec.limits.cpu in body must be of "
          "type string: \"integer\"\n" },
        { NULL, "{\"spec\":{\"pd\":{\"replicas\":3}}}", "spec.pd.baseImage|FieldValueRequired|Required value\n" },
        { NULL, "{\"metadata\":{\"name\":\"x\"}}", "spec|FieldValueRequired|Required value\n" },
        /* A null is what the API server prunes: not an error. */
        { NULL, "{\"spec\":{\"replicas\":null,\"pd\":null}}", "" },
        /* metadata and status are checked elsewhere (status writes keep the stored spec). */
        { NULL, "{\"spec\":{},\"status\":{\"phase\":3},\"metadata\":7}", "" },
        { NULL, "{\"spec\":\"all of it\"}",
          "spec|FieldValueTypeInvalid|Invalid value: \"string\": spec in body must be of type object: \"string\"\n" },
        { "{\"x-kubernetes-preserve-unknown-fields\":true}", "{\"spec\":[1,2,{\"a\":null}]}", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *schema = cJSON_Parse(cases[i].schema ? cases[i].schema : spec_schema);
        cJSON *value = cJSON_Parse(cases[i].value);
        REQUIRE(schema && value);
        struct buffer seen = { 0 };
        buffer_append_string(&seen, "");
        size_t count = schema_validate_object(schema, value, collect, &seen);
        if (strcmp(buffer_string(&seen), cases[i].causes) != 0)
            test_fail(__FILE__, __LINE__, "case %zu %s:\n got: %s\nwant: %s", i, cases[i].value,
                      buffer_string(&seen), cases[i].causes);
        size_t lines = 0;
        for (const char *p = cases[i].causes; *p; p++) lines += *p == '\n';
        CHECK_INT(count, lines);
        buffer_free(&seen);
        cJSON_Delete(schema);
        cJSON_Delete(value);
    }
}

/* The CRD this repository ships: the example is valid, and the type errors
 * users make are caught with the field named. */
static void shipped_crd_schema(void)
{
    cJSON *crd = e2e_repo_yaml_first("manifests/crd/pingcap.com_tidbclusters.yaml");
    cJSON *example = e2e_repo_yaml_first("examples/basic/tidb-cluster.yaml");
    REQUIRE(crd && example);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(crd, "spec"),
                                                                "versions"), 0),
            "schema"),
        "openAPIV3Schema");
    REQUIRE(cJSON_IsObject(schema));
    struct buffer seen = { 0 };
    CHECK_INT(schema_validate_object(schema, example, collect, &seen), 0);
    cJSON *tikv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(example, "spec"), "tikv");
    REQUIRE(tikv != NULL);
    cJSON_ReplaceItemInObjectCaseSensitive(tikv, "replicas", cJSON_CreateString("three"));
    CHECK_INT(schema_validate_object(schema, example, collect, &seen), 1);
    CHECK_STR(buffer_string(&seen), "spec.tikv.replicas|FieldValueTypeInvalid|Invalid value: \"string\": "
                                    "spec.tikv.replicas in body must be of type integer: \"string\"\n");
    buffer_free(&seen);
    cJSON_Delete(crd);
    cJSON_Delete(example);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(validation_table),
        TEST_CASE(shipped_crd_schema),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
