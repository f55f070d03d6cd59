#include "reactor/log.h"

#include "reactor/clock.h"

#include <stdarg.h>
#include <string.h>

static enum log_level current_level = LOG_INFO;
static FILE *output;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level) { current_level = level; }

bool log_parse_level(const char *text, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void log_set_output(FILE *stream) { output = stream; }

bool log_enabled(enum log_level level) { return level >= current_level; }

/* Appends `text` as a quoted value, escaping quotes, backslashes and newlines. */
static size_t append_quoted(char *line, size_t used, size_t size, const char *text)
{
    if (used < size) line[used++] = '"';
    for (const char *p = text; *p && used + 2 < size; p++) {
        if (*p == '"' || *p == '\\') { line[used++] = '\\'; line[used++] = *p; }
        else if (*p == '\n') { line[used++] = '\\'; line[used++] = 'n'; }
        else line[used++] = *p;
    }
    if (used < size) line[used++] = '"';
    return used;
}

void log_write(enum log_level level, const char *message, const char *fields, ...)
{
    if (!log_enabled(level)) return;
    char line[4096];
    char now[CLOCK_RFC3339_SIZE];
    clock_format_rfc3339(clock_wall_ms(clock_system()), CLOCK_RFC3339_MILLIS, now, sizeof now);
    size_t used = (size_t)snprintf(line, sizeof line, "ts=%s level=%s msg=", now, level_names[level]);
    used = append_quoted(line, used, sizeof line - 2, message ? message : "");
    if (fields && *fields) {
        line[used++] = ' ';
        va_list args;
        va_start(args, fields);
        int written = vsnprintf(line + used, sizeof line - used - 1, fields, args);
        va_end(args);
        if (written > 0) used += (size_t)written < sizeof line - used - 1 ? (size_t)written : sizeof line - used - 2;
    }
    line[used++] = '\n';
    fwrite(line, 1, used, output ? output : stderr);
}
