/* The demo ERP client: see erp.h. */
#include "erp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool erp_connect(erp_t *erp, vg_error_t *err) {
    *erp = (erp_t){0};
    if (!vg_config_require("erp-base-url", &erp->base, err)) {
        return false;
    }
    size_t n = strlen(erp->base);
    while (n > 0 && erp->base[n - 1] == '/') {
        erp->base[--n] = '\0';
    }
    erp->key = vg_secret("erp-api-key");
    return true;
}

void erp_close(erp_t *erp) {
    free(erp->base);
    free(erp->key);
    *erp = (erp_t){0};
}

/* ---- how serde_json words a value it did not expect ---------------------------- */

/* A float the way serde_json prints one it did not expect: the shortest digits that
 * read back, in fixed notation for exponents -5 to 15 ("1000.0", "0.00001") and in
 * scientific notation otherwise ("1e-7", "1.5e+300"). */
static void add_float(vg_buf_t *b, double d) {
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*e", precision - 1, d);
        if (strtod(text, NULL) == d) {
            break;
        }
    }
    const char *s = text;
    if (*s == '-') {
        vg_buf_adds(b, "-");
        s++;
    }
    char digits[20];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s != '.' && nd < sizeof digits) {
            digits[nd++] = *s;
        }
    }
    long exp = *s == 'e' ? strtol(s + 1, NULL, 10) : 0;
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
    }
    if (exp < -5 || exp > 15) {
        vg_buf_add(b, digits, 1);
        if (nd > 1) {
            vg_buf_adds(b, ".");
            vg_buf_add(b, digits + 1, nd - 1);
        }
        vg_buf_addf(b, "e%c%ld", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        vg_buf_adds(b, "0.");
        for (long i = -1; i > exp; i--) {
            vg_buf_adds(b, "0");
        }
        vg_buf_add(b, digits, nd);
    } else if ((size_t)exp + 1 >= nd) {
        vg_buf_add(b, digits, nd);
        for (size_t i = nd; i < (size_t)exp + 1; i++) {
            vg_buf_adds(b, "0");
        }
        vg_buf_adds(b, ".0");
    } else {
        vg_buf_add(b, digits, (size_t)exp + 1);
        vg_buf_adds(b, ".");
        vg_buf_add(b, digits + exp + 1, nd - (size_t)exp - 1);
    }
}

/* serde_json reads an integer as u64 when it is not negative and as i64 when it is,
 * and anything else (fractions, exponents, too large, -0) as f64. */
static void add_number(vg_buf_t *b, const vg_json_t *v) {
    const char *t = v->text;
    bool integral = strpbrk(t, ".eE") == NULL;
    if (integral) {
        bool negative = t[0] == '-';
        const char *digits = negative ? t + 1 : t;
        uint64_t magnitude = 0;
        bool fits = true;
        for (const char *p = digits; *p; p++) {
            uint64_t d = (uint64_t)(*p - '0');
            if (magnitude > (UINT64_MAX - d) / 10) {
                fits = false;
                break;
            }
            magnitude = magnitude * 10 + d;
        }
        if (fits && (!negative || (magnitude != 0 && magnitude <= (uint64_t)INT64_MAX + 1))) {
            vg_buf_addf(b, "integer `%s`", t);
            return;
        }
    }
    vg_buf_adds(b, "floating point `");
    add_float(b, strtod(t, NULL));
    vg_buf_adds(b, "`");
}

static void add_unexpected(vg_buf_t *b, const vg_json_t *v) {
    switch (v->kind) {
    case VG_JSON_NULL: vg_buf_adds(b, "null"); break;
    case VG_JSON_BOOL: vg_buf_adds(b, v->boolean ? "boolean `true`" : "boolean `false`"); break;
    case VG_JSON_NUMBER: add_number(b, v); break;
    case VG_JSON_STRING:
        vg_buf_adds(b, "string ");
        vg_buf_add_debug_str(b, v->text, v->len);
        break;
    case VG_JSON_ARRAY: vg_buf_adds(b, "sequence"); break;
    case VG_JSON_OBJECT: vg_buf_adds(b, "map"); break;
    }
}

/* A record is read in document order, as serde_json reads it while parsing: the first
 * problem in the text wins, whether the JSON is broken there or holds the wrong thing.
 * `syntax` is the parse error (NULL when the text parsed); values the parser did not
 * finish have `end_line` 0. */
typedef struct {
    const char *syntax;
    char *detail;
} reader_t;

static bool complete(const vg_json_t *v) {
    return v->end_line != 0;
}

static bool broken(reader_t *r) {
    r->detail = vg_strndup(r->syntax, strlen(r->syntax));
    return false;
}

/* A string read as text must be text; serde_json notices that while reading it, so
 * before anything that comes after it. */
static bool not_text(reader_t *r, const char *why) {
    r->detail = vg_strndup(why, strlen(why));
    return false;
}

static bool at(reader_t *r, const char *message, uint32_t line, uint32_t column) {
    vg_buf_t b = {0};
    vg_buf_addf(&b, "%s at line %u column %u", message, line, column);
    r->detail = vg_buf_take(&b, NULL);
    return false;
}

/* serde_json judges a list or map by its first byte (reporting the position before it)
 * and a scalar once read (reporting the position after it). */
static bool wrong_type(reader_t *r, const vg_json_t *v, const char *expected) {
    if (v->kind == VG_JSON_STRING && v->invalid != NULL) {
        return not_text(r, v->invalid);
    }
    bool composite = v->kind == VG_JSON_ARRAY || v->kind == VG_JSON_OBJECT;
    if (!composite && !complete(v)) {
        return broken(r);
    }
    vg_buf_t b = {0};
    if (v->kind == VG_JSON_NUMBER && isinf(strtod(v->text, NULL))) {
        vg_buf_adds(&b, "number out of range");
    } else {
        vg_buf_adds(&b, "invalid type: ");
        add_unexpected(&b, v);
        vg_buf_addf(&b, ", expected %s", expected);
    }
    char *message = vg_buf_take(&b, NULL);
    if (composite) {
        at(r, message, v->line, v->column - 1);
    } else {
        at(r, message, v->end_line, v->end_column);
    }
    free(message);
    return false;
}

/* Takes `v` as the value of `f`: a string, or for an optional field also null. */
static bool take(reader_t *r, erp_field_t *f, const vg_json_t *v) {
    if (v->kind == VG_JSON_STRING && v->invalid != NULL) {
        return not_text(r, v->invalid);
    }
    bool composite = v->kind == VG_JSON_ARRAY || v->kind == VG_JSON_OBJECT;
    if (!composite && !complete(v)) {
        return broken(r);
    }
    if (f->optional && v->kind == VG_JSON_NULL) {
        f->value = NULL;
        return true;
    }
    if (v->kind != VG_JSON_STRING) {
        return wrong_type(r, v, "a string");
    }
    f->value = v;
    return true;
}

static bool record_from_map(reader_t *r, const vg_json_t *json, erp_field_t *fields,
                            size_t count) {
    bool seen[32] = {false};
    for (size_t i = 0; i < json->count; i++) {
        const vg_json_member_t *m = &json->members[i];
        if (m->key_invalid != NULL) {
            return not_text(r, m->key_invalid);
        }
        if (m->key == NULL) {
            return broken(r);
        }
        size_t j = 0;
        while (j < count && !(strlen(fields[j].name) == m->key_len &&
                              memcmp(fields[j].name, m->key, m->key_len) == 0)) {
            j++;
        }
        if (j == count) {
            /* An unknown member is skipped, but it must still be valid JSON. */
            if (!complete(&m->value)) {
                return broken(r);
            }
            continue;
        }
        if (seen[j]) {
            /* serde_json stops right after the repeated key. */
            vg_buf_t b = {0};
            vg_buf_addf(&b, "duplicate field `%s`", fields[j].name);
            char *message = vg_buf_take(&b, NULL);
            at(r, message, m->key_end_line, m->key_end_column);
            free(message);
            return false;
        }
        seen[j] = true;
        if (!take(r, &fields[j], &m->value)) {
            return false;
        }
    }
    if (!complete(json)) {
        return broken(r);
    }
    for (size_t j = 0; j < count; j++) {
        if (!seen[j] && !fields[j].optional) {
            vg_buf_t b = {0};
            vg_buf_addf(&b, "missing field `%s`", fields[j].name);
            char *message = vg_buf_take(&b, NULL);
            at(r, message, json->end_line, json->end_column);
            free(message);
            return false;
        }
    }
    return true;
}

/* serde also accepts a record as an array of its members in declaration order. */
static bool record_from_seq(reader_t *r, const vg_json_t *json, const char *type_name,
                            erp_field_t *fields, size_t count) {
    for (size_t j = 0; j < count; j++) {
        if (j >= json->count) {
            if (!complete(json)) {
                return broken(r);
            }
            vg_buf_t b = {0};
            vg_buf_addf(&b, "invalid length %zu, expected struct %s with %zu elements", j,
                        type_name, count);
            char *message = vg_buf_take(&b, NULL);
            at(r, message, json->end_line, json->end_column);
            free(message);
            return false;
        }
        if (!take(r, &fields[j], &json->items[j])) {
            return false;
        }
    }
    if (json->count > count) {
        const vg_json_t *extra = &json->items[count];
        return at(r, "trailing characters", extra->line, extra->column);
    }
    return complete(json) || broken(r);
}

static bool read_record(const vg_json_t *json, const char *syntax, const char *type_name,
                        erp_field_t *fields, size_t count, char **detail) {
    if (count > 32) {
        __builtin_trap();
    }
    reader_t r = {syntax, NULL};
    for (size_t j = 0; j < count; j++) {
        fields[j].value = NULL;
    }
    bool ok;
    if (json->kind == VG_JSON_OBJECT) {
        ok = record_from_map(&r, json, fields, count);
    } else if (json->kind == VG_JSON_ARRAY) {
        ok = record_from_seq(&r, json, type_name, fields, count);
    } else {
        vg_buf_t expected = {0};
        vg_buf_addf(&expected, "struct %s", type_name);
        ok = wrong_type(&r, json, expected.data);
        vg_buf_free(&expected);
    }
    /* What follows a good record (trailing characters) is judged last. */
    if (ok && syntax != NULL) {
        ok = broken(&r);
    }
    *detail = r.detail;
    return ok;
}

/* ---- the ERP's answers --------------------------------------------------------- */

/* The ERP answers errors as `{"error": code, "message": text}`: its code decides the
 * WIT error case, its message goes into the error text. A body that is not such an
 * error falls back to the HTTP status. */
static bool erp_error(const vg_response_t *r, vg_error_t *err) {
    char *syntax = NULL, *detail = NULL;
    vg_json_t *json = vg_json_parse_partial(r->body, r->body_len, &syntax);
    erp_field_t f[] = {{"error", false, NULL}, {"message", false, NULL}};
    bool ok = read_record(json, syntax, "ErpError", f, 2, &detail);
    free(syntax);
    free(detail);
    if (!ok || f[0].value == NULL || f[1].value == NULL) {
        vg_json_free(json);
        return vg_http_check_status(r, err);
    }
    const vg_json_t *code = f[0].value, *message = f[1].value;
    uint8_t kind;
    const char *prefix = "";
    vg_buf_t b = {0};
    if (code->len == 9 && memcmp(code->text, "not_found", 9) == 0) {
        kind = VG_NOT_FOUND;
    } else if (code->len == 7 && memcmp(code->text, "invalid", 7) == 0) {
        kind = VG_INVALID;
    } else if (code->len == 8 && memcmp(code->text, "conflict", 8) == 0) {
        kind = VG_CONFLICT;
    } else if (code->len == 12 && memcmp(code->text, "unauthorized", 12) == 0) {
        kind = VG_DENIED;
        prefix = "ERP refused the API key: ";
    } else {
        kind = VG_UNAVAILABLE;
        vg_buf_addf(&b, "ERP error %u: ", (unsigned)r->status);
    }
    vg_buf_adds(&b, prefix);
    vg_buf_add(&b, message->text, message->len);
    vg_json_free(json);
    if (b.failed) {
        __builtin_trap();
    }
    size_t len;
    char *text = vg_buf_take(&b, &len);
    return vg_fail_take(err, kind, text, len);
}

static bool undecodable(vg_error_t *err, const char *url, char *detail) {
    vg_buf_t b = {0};
    vg_buf_addf(&b, "unexpected response from %s: %s", url, detail);
    free(detail);
    size_t len;
    char *text = vg_buf_take(&b, &len);
    return vg_fail_take(err, VG_INTERNAL, text, len);
}

bool erp_get_record(const erp_t *erp, const char *path, const char *type_name,
                    erp_field_t *fields, size_t count, vg_json_t **root, vg_error_t *err) {
    *root = NULL;
    vg_buf_t url = {0};
    vg_buf_adds(&url, erp->base);
    vg_buf_adds(&url, path);
    if (url.failed) {
        __builtin_trap();
    }
    vg_response_t r;
    bool ok = vg_http_get(url.data, erp->key, &r, err);
    vg_buf_free(&url);
    if (!ok) {
        return false;
    }
    if (r.status < 200 || r.status >= 300) {
        ok = erp_error(&r, err);
        vg_response_free(&r);
        return ok;
    }
    char *syntax = NULL, *detail = NULL;
    vg_json_t *json = vg_json_parse_partial(r.body, r.body_len, &syntax);
    ok = read_record(json, syntax, type_name, fields, count, &detail);
    free(syntax);
    if (!ok) {
        vg_json_free(json);
        ok = undecodable(err, r.url, detail);
        vg_response_free(&r);
        return ok;
    }
    vg_response_free(&r);
    *root = json;
    return true;
}
