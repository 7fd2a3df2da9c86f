/*
 * A JSON reader for untrusted input: see include/voxgate.h.
 *
 * Every byte is read through a bounds check, nesting is limited and strings are decoded
 * (escapes, surrogate pairs). Broken JSON is refused with a message worded and
 * positioned as Rust's serde_json words it ("expected value at line 1 column 1"), so
 * operators read the same text from C and Rust plugins, and readers that mirror serde
 * (plugins/c/contacts) can tell which problem serde would have met first.
 */
#include "voxgate.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 128

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t line;       /* 1-based line of `pos` */
    size_t line_start; /* index where that line starts */
    int depth;
    char *error;
} parser_t;

/* Records the first error, placed where serde_json places it: after `count` bytes (so
 * an error at a newline is "column 0" of the next line); returns false. */
static bool fail_at(parser_t *p, const char *message, size_t count) {
    if (p->error == NULL) {
        if (count > p->len) {
            count = p->len;
        }
        size_t line = 1, start = 0;
        for (size_t i = 0; i < count; i++) {
            if (p->data[i] == '\n') {
                line++;
                start = i + 1;
            }
        }
        vg_buf_t b = {0};
        vg_buf_addf(&b, "%s at line %zu column %zu", message, line, count - start);
        p->error = vg_buf_take(&b, NULL);
    }
    return false;
}

/* An error about the byte at `pos` (it counts as consumed). */
static bool fail_here(parser_t *p, const char *message) {
    return fail_at(p, message, p->pos + 1);
}

static bool at_end(const parser_t *p) {
    return p->pos >= p->len;
}

static void skip_ws(parser_t *p) {
    while (p->pos < p->len) {
        uint8_t c = p->data[p->pos];
        if (c == '\n') {
            p->line++;
            p->line_start = p->pos + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        p->pos++;
    }
}

static void mark_start(const parser_t *p, vg_json_t *v) {
    v->line = (uint32_t)p->line;
    v->column = (uint32_t)(p->pos - p->line_start + 1);
}

static void mark_end(const parser_t *p, vg_json_t *v) {
    v->end_line = (uint32_t)p->line;
    v->end_column = (uint32_t)(p->pos - p->line_start);
}

static bool grow(void **items, size_t *cap, size_t count, size_t size) {
    if (count < *cap) {
        return true;
    }
    size_t n = *cap ? *cap * 2 : 4;
    if (n > SIZE_MAX / size) {
        return false;
    }
    void *bigger = realloc(*items, n * size);
    if (bigger == NULL) {
        return false;
    }
    *items = bigger;
    *cap = n;
    return true;
}

static bool parse_value(parser_t *p, vg_json_t *v);

static bool parse_literal(parser_t *p, const char *word) {
    for (size_t i = 0; word[i]; i++) {
        if (at_end(p)) {
            return fail_at(p, "EOF while parsing a value", p->len);
        }
        if (p->data[p->pos] != (uint8_t)word[i]) {
            return fail_here(p, "expected ident");
        }
        p->pos++;
    }
    return true;
}

static bool is_digit(const parser_t *p) {
    return p->pos < p->len && p->data[p->pos] >= '0' && p->data[p->pos] <= '9';
}

static bool digits(parser_t *p) {
    if (!is_digit(p)) {
        return at_end(p) ? fail_at(p, "EOF while parsing a value", p->len)
                         : fail_here(p, "invalid number");
    }
    while (is_digit(p)) {
        p->pos++;
    }
    return true;
}

static bool parse_number(parser_t *p, vg_json_t *v) {
    size_t start = p->pos;
    if (p->data[p->pos] == '-') {
        p->pos++;
    }
    if (at_end(p)) {
        return fail_at(p, "EOF while parsing a value", p->len);
    }
    if (p->data[p->pos] == '0') {
        p->pos++;
        if (is_digit(p)) {
            return fail_here(p, "invalid number");
        }
    } else if (!digits(p)) {
        return false;
    }
    if (p->pos < p->len && p->data[p->pos] == '.') {
        p->pos++;
        if (!digits(p)) {
            return false;
        }
    }
    if (p->pos < p->len && (p->data[p->pos] == 'e' || p->data[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->data[p->pos] == '+' || p->data[p->pos] == '-')) {
            p->pos++;
        }
        if (!digits(p)) {
            return false;
        }
    }
    v->kind = VG_JSON_NUMBER;
    v->len = p->pos - start;
    v->text = vg_strndup(p->data + start, v->len);
    return true;
}

static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits after `\u` (all four are consumed before they are judged,
 * as serde_json does, so errors point after them). */
static bool hex4(parser_t *p, uint32_t *out) {
    if (p->len - p->pos < 4) {
        p->pos = p->len;
        return fail_at(p, "EOF while parsing a string", p->len);
    }
    uint32_t v = 0;
    bool valid = true;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->data[p->pos + (size_t)i]);
        valid = valid && d >= 0;
        v = v * 16 + (uint32_t)(d < 0 ? 0 : d);
    }
    p->pos += 4;
    if (!valid) {
        return fail_at(p, "invalid escape", p->pos);
    }
    *out = v;
    return true;
}

static void add_utf8(vg_buf_t *b, uint32_t cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    vg_buf_add(b, u, n);
}

/* The message for a problem `count` bytes into the current line's text (strings hold no
 * raw newline, so a problem inside one is on the parser's current line). */
static char *problem_at(const parser_t *p, const char *message, size_t count) {
    vg_buf_t b = {0};
    vg_buf_addf(&b, "%s at line %zu column %zu", message, p->line, count - p->line_start);
    return vg_buf_take(&b, NULL);
}

/* A string that is valid JSON but not valid text keeps its bytes and remembers its
 * first problem: readers that skip the string accept it, readers that want its text
 * refuse it (as serde_json does for the strings it ignores and the ones it reads). */
static void note_invalid(parser_t *p, char **invalid, const char *message, size_t count) {
    if (*invalid == NULL) {
        *invalid = problem_at(p, message, count);
    }
}

static bool parse_escape(parser_t *p, vg_buf_t *b, char **invalid) {
    if (at_end(p)) {
        return fail_at(p, "EOF while parsing a string", p->len);
    }
    uint8_t c = p->data[p->pos];
    const char *simple = NULL;
    switch (c) {
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case '/': simple = "/"; break;
    case 'b': simple = "\b"; break;
    case 'f': simple = "\f"; break;
    case 'n': simple = "\n"; break;
    case 'r': simple = "\r"; break;
    case 't': simple = "\t"; break;
    case 'u': break;
    default: return fail_here(p, "invalid escape");
    }
    p->pos++;
    if (simple != NULL) {
        vg_buf_add(b, simple, 1);
        return true;
    }
    uint32_t cp;
    if (!hex4(p, &cp)) {
        return false;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        note_invalid(p, invalid, "lone leading surrogate in hex escape", p->pos);
    } else if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* A high surrogate is text only as the first half of a `\uXXXX\uXXXX` pair. */
        const uint8_t *d = p->data;
        size_t i = p->pos;
        uint32_t low = 0;
        bool pair = p->len - i >= 6 && d[i] == '\\' && d[i + 1] == 'u';
        for (size_t k = 2; pair && k < 6; k++) {
            int h = hex_digit(d[i + k]);
            pair = h >= 0;
            low = low * 16 + (uint32_t)(h < 0 ? 0 : h);
        }
        if (pair && low >= 0xDC00 && low <= 0xDFFF) {
            p->pos += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (i < p->len && d[i] != '\\') {
            note_invalid(p, invalid, "unexpected end of hex escape", i + 1);
        } else if (i + 1 < p->len && d[i + 1] != 'u') {
            note_invalid(p, invalid, "unexpected end of hex escape", i + 2);
        } else if (pair) {
            note_invalid(p, invalid, "lone leading surrogate in hex escape", i + 6);
        }
        /* Otherwise the next escape is incomplete and fails on its own. */
    }
    add_utf8(b, cp);
    return true;
}

size_t vg_utf8_next(const uint8_t *s, size_t n, bool *valid) {
    *valid = false;
    if (n == 0) {
        return 0;
    }
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
        *valid = true;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 1;
    }
    size_t j = 1;
    while (j <= need && j < n) {
        uint8_t t = s[j];
        if (t < (j == 1 ? lo : 0x80) || t > (j == 1 ? hi : 0xBF)) {
            break;
        }
        j++;
    }
    *valid = j == need + 1;
    return j;
}

/* How many leading bytes of `s` are valid UTF-8. */
static size_t utf8_valid_prefix(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        bool valid;
        size_t len = vg_utf8_next(s + i, n - i, &valid);
        if (!valid) {
            return i;
        }
        i += len;
    }
    return n;
}

/* Reads a string; `pos` is at the opening quote. `*invalid` is set (also when the
 * string then turns out to be broken JSON) when it is not valid text. */
static bool parse_string(parser_t *p, char **text, size_t *len, char **invalid) {
    p->pos++;
    vg_buf_t b = {0};
    for (;;) {
        if (at_end(p)) {
            vg_buf_free(&b);
            return fail_at(p, "EOF while parsing a string", p->len);
        }
        uint8_t c = p->data[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c == '\\') {
            p->pos++;
            if (!parse_escape(p, &b, invalid)) {
                vg_buf_free(&b);
                return false;
            }
            continue;
        }
        if (c < 0x20) {
            vg_buf_free(&b);
            return fail_here(p, "control character (\\u0000-\\u001F) found while parsing a string");
        }
        /* Copies the run up to the next quote, backslash or control character. */
        size_t run = 1;
        while (p->pos + run < p->len) {
            uint8_t d = p->data[p->pos + run];
            if (d == '"' || d == '\\' || d < 0x20) {
                break;
            }
            run++;
        }
        vg_buf_add(&b, p->data + p->pos, run);
        p->pos += run;
    }
    if (b.failed) {
        vg_buf_free(&b);
        return fail_here(p, "out of memory");
    }
    size_t valid = utf8_valid_prefix((const uint8_t *)b.data, b.len);
    if (valid < b.len) {
        /* Like serde_json: counted back from the closing quote by the decoded bytes,
         * which is exact for strings without escapes. */
        size_t back = b.len - valid;
        size_t end = p->pos - p->line_start;
        note_invalid(p, invalid, "invalid unicode code point",
                     p->line_start + (end > back ? end - back : 0));
    }
    *text = vg_buf_take(&b, len);
    return true;
}

static bool enter(parser_t *p) {
    if (++p->depth > MAX_DEPTH) {
        return fail_here(p, "recursion limit exceeded");
    }
    p->pos++;
    return true;
}

static bool parse_array(parser_t *p, vg_json_t *v) {
    v->kind = VG_JSON_ARRAY;
    if (!enter(p)) {
        return false;
    }
    size_t cap = 0;
    skip_ws(p);
    if (at_end(p)) {
        return fail_at(p, "EOF while parsing a list", p->len);
    }
    if (p->data[p->pos] == ']') {
        p->pos++;
        p->depth--;
        return true;
    }
    for (;;) {
        if (!grow((void **)&v->items, &cap, v->count, sizeof *v->items)) {
            return fail_here(p, "out of memory");
        }
        vg_json_t *item = &v->items[v->count];
        *item = (vg_json_t){0};
        v->count++;
        if (!parse_value(p, item)) {
            return false;
        }
        skip_ws(p);
        if (at_end(p)) {
            return fail_at(p, "EOF while parsing a list", p->len);
        }
        uint8_t c = p->data[p->pos];
        if (c == ']') {
            p->pos++;
            p->depth--;
            return true;
        }
        if (c != ',') {
            return fail_here(p, "expected `,` or `]`");
        }
        p->pos++;
        skip_ws(p);
        if (!at_end(p) && p->data[p->pos] == ']') {
            return fail_here(p, "trailing comma");
        }
    }
}

static bool parse_object(parser_t *p, vg_json_t *v) {
    v->kind = VG_JSON_OBJECT;
    if (!enter(p)) {
        return false;
    }
    size_t cap = 0;
    skip_ws(p);
    if (!at_end(p) && p->data[p->pos] == '}') {
        p->pos++;
        p->depth--;
        return true;
    }
    for (;;) {
        if (at_end(p)) {
            return fail_at(p, "EOF while parsing an object", p->len);
        }
        if (p->data[p->pos] != '"') {
            return fail_here(p, "key must be a string");
        }
        if (!grow((void **)&v->members, &cap, v->count, sizeof *v->members)) {
            return fail_here(p, "out of memory");
        }
        vg_json_member_t *m = &v->members[v->count];
        *m = (vg_json_member_t){0};
        v->count++;
        if (!parse_string(p, &m->key, &m->key_len, &m->key_invalid)) {
            return false;
        }
        m->key_end_line = (uint32_t)p->line;
        m->key_end_column = (uint32_t)(p->pos - p->line_start);
        skip_ws(p);
        if (at_end(p)) {
            return fail_at(p, "EOF while parsing an object", p->len);
        }
        if (p->data[p->pos] != ':') {
            return fail_here(p, "expected `:`");
        }
        p->pos++;
        if (!parse_value(p, &m->value)) {
            return false;
        }
        skip_ws(p);
        if (at_end(p)) {
            return fail_at(p, "EOF while parsing an object", p->len);
        }
        uint8_t c = p->data[p->pos];
        if (c == '}') {
            p->pos++;
            p->depth--;
            return true;
        }
        if (c != ',') {
            return fail_here(p, "expected `,` or `}`");
        }
        p->pos++;
        skip_ws(p);
        if (at_end(p)) {
            return fail_at(p, "EOF while parsing a value", p->len);
        }
        if (p->data[p->pos] == '}') {
            return fail_here(p, "trailing comma");
        }
    }
}

static bool parse_value(parser_t *p, vg_json_t *v) {
    skip_ws(p);
    if (at_end(p)) {
        return fail_at(p, "EOF while parsing a value", p->len);
    }
    mark_start(p, v);
    bool ok;
    uint8_t c = p->data[p->pos];
    switch (c) {
    case 'n':
        v->kind = VG_JSON_NULL;
        ok = parse_literal(p, "null");
        break;
    case 't':
        v->kind = VG_JSON_BOOL;
        v->boolean = true;
        ok = parse_literal(p, "true");
        break;
    case 'f':
        v->kind = VG_JSON_BOOL;
        ok = parse_literal(p, "false");
        break;
    case '"':
        v->kind = VG_JSON_STRING;
        ok = parse_string(p, &v->text, &v->len, &v->invalid);
        break;
    case '[':
        ok = parse_array(p, v);
        break;
    case '{':
        ok = parse_object(p, v);
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            ok = parse_number(p, v);
        } else {
            ok = fail_here(p, "expected value");
        }
    }
    if (ok) {
        mark_end(p, v);
    }
    return ok;
}

static void free_value(vg_json_t *v) {
    free(v->text);
    free(v->invalid);
    for (size_t i = 0; i < v->count; i++) {
        if (v->kind == VG_JSON_ARRAY) {
            free_value(&v->items[i]);
        } else {
            free(v->members[i].key);
            free(v->members[i].key_invalid);
            free_value(&v->members[i].value);
        }
    }
    free(v->items);
    free(v->members);
}

vg_json_t *vg_json_parse_partial(const void *data, size_t len, char **error) {
    parser_t p = {.data = data, .len = len, .line = 1};
    vg_json_t *root = calloc(1, sizeof *root);
    if (root == NULL) {
        __builtin_trap();
    }
    if (parse_value(&p, root)) {
        skip_ws(&p);
        if (!at_end(&p)) {
            fail_here(&p, "trailing characters");
        }
    }
    *error = p.error;
    return root;
}

vg_json_t *vg_json_parse(const void *data, size_t len, char **error) {
    char *problem = NULL;
    vg_json_t *root = vg_json_parse_partial(data, len, &problem);
    if (problem != NULL) {
        vg_json_free(root);
        if (error != NULL) {
            *error = problem;
        } else {
            free(problem);
        }
        return NULL;
    }
    return root;
}

void vg_json_free(vg_json_t *value) {
    if (value != NULL) {
        free_value(value);
        free(value);
    }
}

const vg_json_t *vg_json_get(const vg_json_t *obj, const char *key) {
    if (obj == NULL || obj->kind != VG_JSON_OBJECT) {
        return NULL;
    }
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->count; i++) {
        const vg_json_member_t *m = &obj->members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) {
            return &m->value;
        }
    }
    return NULL;
}

const char *vg_json_str(const vg_json_t *value) {
    return value != NULL && value->kind == VG_JSON_STRING && value->invalid == NULL ? value->text
                                                                                    : NULL;
}

bool vg_json_i64(const vg_json_t *value, int64_t *out) {
    if (value == NULL || value->kind != VG_JSON_NUMBER) {
        return false;
    }
    const char *s = value->text;
    bool negative = *s == '-';
    if (negative) {
        s++;
    }
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    if (*s == '\0') {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (limit - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}
