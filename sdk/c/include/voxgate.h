/*
 * voxgate's C kit: the conveniences a plugin written in C reaches for, on top of the
 * bindings `sdk/c/build` generates for the plugin's world (`plugin.h`).
 *
 * Conventions:
 * - Every `char *` the kit returns is NUL-terminated, allocated with malloc and owned by
 *   the caller. Text that came from outside (JSON, HTTP) can contain a NUL byte, so the
 *   kit also hands out its length where that matters.
 * - A function that can fail returns `false` and fills a `vg_error_t` (the WIT `error`
 *   variant), ready to be returned from an exported function.
 * - Every call runs in a fresh instance: nothing needs to outlive one call, and what a
 *   call forgets to free is reclaimed with the instance.
 */
#ifndef VOXGATE_H
#define VOXGATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

typedef voxgate_plugin_types_error_t vg_error_t;

/* The WIT error cases; pick the one that says what happened (see wit/0.1.0/types.wit). */
enum {
    VG_NOT_FOUND = VOXGATE_PLUGIN_TYPES_ERROR_NOT_FOUND,
    VG_INVALID = VOXGATE_PLUGIN_TYPES_ERROR_INVALID,
    VG_UNAVAILABLE = VOXGATE_PLUGIN_TYPES_ERROR_UNAVAILABLE,
    VG_CONFLICT = VOXGATE_PLUGIN_TYPES_ERROR_CONFLICT,
    VG_DENIED = VOXGATE_PLUGIN_TYPES_ERROR_DENIED,
    VG_INTERNAL = VOXGATE_PLUGIN_TYPES_ERROR_INTERNAL,
};

/* ---- text ---------------------------------------------------------------------- */

/* A growable byte string; `data` is always NUL-terminated once anything was added. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the content is incomplete */
} vg_buf_t;

void vg_buf_add(vg_buf_t *b, const void *bytes, size_t n);
void vg_buf_adds(vg_buf_t *b, const char *s);
void vg_buf_addf(vg_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The UTF-8 sequence at the start of `s` (`n` > 0 bytes): returns its length and sets
 * `*valid`; for invalid input, returns the length of the maximal invalid subpart (at
 * least 1, what one U+FFFD replaces) and sets `*valid` to false. */
size_t vg_utf8_next(const uint8_t *s, size_t n, bool *valid);
/* Appends `n` bytes of `s` the way Rust's `{:?}` prints a string: quoted, with quotes,
 * backslashes and control characters escaped (so C plugins word errors like Rust ones). */
void vg_buf_add_debug_str(vg_buf_t *b, const char *s, size_t n);
/* Hands the content over as a malloc'd string (never NULL) and empties the buffer. */
char *vg_buf_take(vg_buf_t *b, size_t *len);
void vg_buf_free(vg_buf_t *b);

/* A malloc'd copy of `n` bytes plus a terminating NUL. */
char *vg_strndup(const void *bytes, size_t n);
/* A WIT string as a C string (the WIT string is left alone). */
char *vg_cstr(const plugin_string_t *s);
bool vg_str_eq(const plugin_string_t *s, const char *text);

/* Fills a WIT string / option<string> with a malloc'd copy; the generated code frees
 * what an exported function returns. `vg_option(o, NULL, 0)` is none. */
void vg_string(plugin_string_t *out, const void *bytes, size_t n);
void vg_string_c(plugin_string_t *out, const char *text);
void vg_option(plugin_option_string_t *out, const void *bytes_or_null, size_t n);

/* Percent-encodes every byte except A-Z a-z 0-9 - _ . ~, for a URL path segment or a
 * query value: "+44 20" becomes "%2B44%2020". */
char *vg_url_encode(const void *bytes, size_t n);

/* ---- errors -------------------------------------------------------------------- */

/* Sets `err` to case `kind` with a printf-style message; returns false so a failing
 * function can `return vg_fail(err, VG_NOT_FOUND, "no order %s", id);`. */
bool vg_fail(vg_error_t *err, uint8_t kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with a message that may contain NUL bytes; takes ownership of `message`. */
bool vg_fail_take(vg_error_t *err, uint8_t kind, char *message, size_t len);

/* ---- settings, secrets, logging ------------------------------------------------ */

/* A tenant setting or secret, or NULL when the tenant has not set it. */
char *vg_config(const char *key);
char *vg_secret(const char *key);
/* A setting the plugin cannot work without: when it is missing, `err` is the `internal`
 * error "tenant setting `KEY` is not configured" (the operator sees what to set). */
bool vg_config_require(const char *key, char **out, vg_error_t *err);

void vg_log(voxgate_plugin_host_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define VG_TRACE VOXGATE_PLUGIN_HOST_LEVEL_TRACE
#define VG_DEBUG VOXGATE_PLUGIN_HOST_LEVEL_DEBUG
#define VG_INFO VOXGATE_PLUGIN_HOST_LEVEL_INFO
#define VG_WARN VOXGATE_PLUGIN_HOST_LEVEL_WARN
#define VG_ERROR VOXGATE_PLUGIN_HOST_LEVEL_ERROR

/* ---- HTTP (worlds that import wasi:http/outgoing-handler) ---------------------- */

typedef struct {
    const char *name;  /* sent in lower case */
    const char *value;
} vg_header_t;

typedef struct {
    char *url;         /* the URL that was requested, for messages */
    uint16_t status;
    uint8_t *body;     /* NUL-terminated; `body_len` excludes the NUL */
    size_t body_len;
} vg_response_t;

/*
 * Sends one request and reads the whole response. voxgate lets a plugin reach only the
 * hosts its tenant allows, within the tenant's timeouts and size limit. A transport
 * failure becomes the error case the dialog acts on: a refused host is `denied`, an
 * unreachable or slow system `unavailable`, anything else `internal`. Any status counts
 * as a response here; see vg_http_check_status.
 */
bool vg_http_send(const char *method, const char *url, const vg_header_t *headers,
                  size_t header_count, const void *body, size_t body_len,
                  vg_response_t *out, vg_error_t *err);
/* GET with an optional bearer token (NULL for none). */
bool vg_http_get(const char *url, const char *bearer, vg_response_t *out, vg_error_t *err);
/* POST of a JSON text with an optional bearer token. */
bool vg_http_post_json(const char *url, const char *bearer, const char *json,
                       vg_response_t *out, vg_error_t *err);
/* Turns a status outside 200-299 into an error: 404 not-found, 409 conflict, 400/422
 * invalid, 401/403 denied, 429/502/503/504 unavailable, others internal; the message
 * names the URL, the status and the start of the body. */
bool vg_http_check_status(const vg_response_t *r, vg_error_t *err);
void vg_response_free(vg_response_t *r);

/* ---- JSON ---------------------------------------------------------------------- */

typedef enum {
    VG_JSON_NULL,
    VG_JSON_BOOL,
    VG_JSON_NUMBER,
    VG_JSON_STRING,
    VG_JSON_ARRAY,
    VG_JSON_OBJECT,
} vg_json_kind_t;

typedef struct vg_json vg_json_t;
typedef struct vg_json_member vg_json_member_t;

/* A parsed JSON value. Strings are decoded (escapes, surrogate pairs) and may contain
 * NUL, so use `len`; numbers keep their source text. A string that is valid JSON but not
 * valid text (bytes that are not UTF-8, a lone surrogate escape) keeps its bytes and
 * says why in `invalid`. Positions are line and column (1-based, in bytes) where the
 * value starts and ends, for messages. */
struct vg_json {
    vg_json_kind_t kind;
    bool boolean;
    char *text;               /* STRING: decoded text; NUMBER: source text */
    size_t len;               /* bytes in `text` */
    char *invalid;            /* STRING: why it is not text, or NULL */
    size_t count;             /* ARRAY: items; OBJECT: members */
    vg_json_t *items;         /* ARRAY */
    vg_json_member_t *members;/* OBJECT, in document order (duplicates kept) */
    uint32_t line, column;         /* where the value starts */
    uint32_t end_line, end_column; /* its last byte */
};

struct vg_json_member {
    char *key;
    size_t key_len;
    char *key_invalid;                     /* why the key is not text, or NULL */
    uint32_t key_end_line, key_end_column; /* the key's closing quote */
    vg_json_t value;
};

/*
 * Parses untrusted JSON: every read is bounds-checked, nesting deeper than 128 levels is
 * refused, and whatever the bytes are the result is a tree or an error. On error returns
 * NULL and, when `error` is not NULL, sets it to a message such as "expected value at
 * line 1 column 1" (malloc'd).
 */
vg_json_t *vg_json_parse(const void *data, size_t len, char **error);
/* The same, except that after a syntax error it still returns what was read before it
 * (values whose end was not reached have `end_line` 0) and sets `*error`: for readers
 * that report the first problem in document order, as streaming parsers do. */
vg_json_t *vg_json_parse_partial(const void *data, size_t len, char **error);
void vg_json_free(vg_json_t *value);

/* The first member called `key` of an object, or NULL (also when `obj` is no object). */
const vg_json_t *vg_json_get(const vg_json_t *obj, const char *key);
/* The text of a string value, or NULL for anything else (and for invalid text). */
const char *vg_json_str(const vg_json_t *value);
/* An integer value (no fraction, no exponent) that fits in int64_t. */
bool vg_json_i64(const vg_json_t *value, int64_t *out);

#endif
