/*
 * toml_check: decides whether a component's config text is valid TOML 1.0
 * before it is put into a ConfigMap, so that a typo is reported on the
 * TidbCluster (with its line and column) instead of as a crash-looping
 * pd-server / tikv-server / tidb-server.
 *
 * What is checked: the whole TOML 1.0 grammar (tables, arrays of tables,
 * bare / quoted / dotted keys, basic, literal and multi-line strings with
 * their escapes, decimal / hex / octal / binary integers within 64 bits,
 * floats incl. inf and nan, booleans, offset / local date-times, dates and
 * times with range checks, arrays, inline tables, comments, UTF-8), and
 * the document rules: no key defined twice, no table defined twice, no
 * extending an inline table or a static array, no [table] over keys defined
 * with dotted keys. Values are checked, not kept.
 *
 * toml_from_json writes a config given as a map (PingCAP accepts
 * `config:` as a YAML/JSON map as well as a TOML string) as TOML text:
 * keys sorted (so the same map always gives the same text and config
 * hashes stay stable), scalars and arrays first, then sub-tables as
 * [a.b] sections and arrays of objects as [[a.b]] sections. Integral numbers
 * become integers, other numbers floats. JSON null has no TOML form: a null
 * member is left out (the key is unset), a null array element is an error.
 */
#ifndef RECONCILERS_TOML_CHECK_H
#define RECONCILERS_TOML_CHECK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct toml_error {
    int line;   /* 1-based */
    int column; /* 1-based, in characters (UTF-8 code points) */
    char message[160];
};

/* True when `text` (`length` bytes, need not be NUL-terminated) is a valid
 * TOML document. Otherwise false with *error (if not NULL) describing the
 * first problem. Out of memory is reported as an error at the place where it
 * happened. */
bool toml_check(const char *text, size_t length, struct toml_error *error);

/* Whether the valid document `text` defines the key `path` (dotted, each
 * part bare, e.g. "log.file.max-backups"; arrays of tables are not
 * searched). 1: defined, 0: not, -1: the text is not valid TOML or memory
 * ran out. */
int toml_defines(const char *text, size_t length, const char *path);

/* The TOML text (malloc'd, NUL-terminated) for the JSON object `map`, or
 * NULL with *error set to a malloc'd message naming the member, e.g.
 * "log.targets[1]: null has no TOML form" (*error stays NULL when even that
 * allocation failed). `map` must be an object. */
char *toml_from_json(const cJSON *map, char **error);

#endif
