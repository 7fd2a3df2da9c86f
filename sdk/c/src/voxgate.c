/* Text, errors, settings and logging for C plugins: see include/voxgate.h. */
#include "voxgate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A plugin has no way to recover from running out of memory inside the sandbox: the
 * instance's memory limit is the tenant's, so trapping ends just this call. */
static void *must(void *p) {
    if (p == NULL) {
        __builtin_trap();
    }
    return p;
}

void vg_buf_add(vg_buf_t *b, const void *bytes, size_t n) {
    if (b->failed) {
        return;
    }
    if (n >= SIZE_MAX - b->len) {
        b->failed = true;
        return;
    }
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need) {
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        }
        char *data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, bytes, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

void vg_buf_adds(vg_buf_t *b, const char *s) {
    vg_buf_add(b, s, strlen(s));
}

static void buf_vaddf(vg_buf_t *b, const char *fmt, va_list ap) {
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        vg_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->failed = true;
        return;
    }
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    vg_buf_add(b, big, (size_t)n);
    free(big);
}

void vg_buf_addf(vg_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

char *vg_buf_take(vg_buf_t *b, size_t *len) {
    char *data = b->data ? b->data : must(calloc(1, 1));
    if (len != NULL) {
        *len = b->len;
    }
    *b = (vg_buf_t){0};
    return data;
}

void vg_buf_free(vg_buf_t *b) {
    free(b->data);
    *b = (vg_buf_t){0};
}

char *vg_strndup(const void *bytes, size_t n) {
    if (n == SIZE_MAX) {
        __builtin_trap();
    }
    char *s = must(malloc(n + 1));
    if (n > 0) {
        memcpy(s, bytes, n);
    }
    s[n] = '\0';
    return s;
}

char *vg_cstr(const plugin_string_t *s) {
    return vg_strndup(s->ptr, s->len);
}

bool vg_str_eq(const plugin_string_t *s, const char *text) {
    size_t n = strlen(text);
    return s->len == n && (n == 0 || memcmp(s->ptr, text, n) == 0);
}

void vg_string(plugin_string_t *out, const void *bytes, size_t n) {
    /* An empty WIT string needs no allocation: the generated code frees only non-empty
     * strings. */
    if (n == 0) {
        *out = (plugin_string_t){NULL, 0};
        return;
    }
    out->ptr = must(malloc(n));
    memcpy(out->ptr, bytes, n);
    out->len = n;
}

void vg_string_c(plugin_string_t *out, const char *text) {
    vg_string(out, text, strlen(text));
}

void vg_option(plugin_option_string_t *out, const void *bytes_or_null, size_t n) {
    out->is_some = bytes_or_null != NULL;
    if (out->is_some) {
        vg_string(&out->val, bytes_or_null, n);
    } else {
        out->val = (plugin_string_t){NULL, 0};
    }
}

char *vg_url_encode(const void *bytes, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *in = bytes;
    vg_buf_t b = {0};
    for (size_t i = 0; i < n; i++) {
        unsigned char c = in[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            vg_buf_add(&b, &c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            vg_buf_add(&b, esc, 3);
        }
    }
    if (b.failed) {
        __builtin_trap();
    }
    return vg_buf_take(&b, NULL);
}

bool vg_fail_take(vg_error_t *err, uint8_t kind, char *message, size_t len) {
    err->tag = kind;
    /* Every case carries a string at the same place; the union member is the same. */
    err->val.internal = (plugin_string_t){(uint8_t *)message, len};
    if (len == 0) {
        free(message);
        err->val.internal.ptr = NULL;
    }
    return false;
}

bool vg_fail(vg_error_t *err, uint8_t kind, const char *fmt, ...) {
    vg_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (b.failed) {
        __builtin_trap();
    }
    size_t len;
    char *message = vg_buf_take(&b, &len);
    return vg_fail_take(err, kind, message, len);
}

static char *host_lookup(bool secret, const char *key) {
    plugin_string_t k = {(uint8_t *)key, strlen(key)};
    plugin_string_t value;
    bool found = secret ? voxgate_plugin_host_secret(&k, &value)
                        : voxgate_plugin_host_config(&k, &value);
    if (!found) {
        return NULL;
    }
    char *text = vg_strndup(value.ptr, value.len);
    plugin_string_free(&value);
    return text;
}

char *vg_config(const char *key) {
    return host_lookup(false, key);
}

char *vg_secret(const char *key) {
    return host_lookup(true, key);
}

bool vg_config_require(const char *key, char **out, vg_error_t *err) {
    *out = vg_config(key);
    if (*out == NULL) {
        return vg_fail(err, VG_INTERNAL, "tenant setting `%s` is not configured", key);
    }
    return true;
}

void vg_log(voxgate_plugin_host_level_t level, const char *fmt, ...) {
    vg_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (!b.failed) {
        plugin_string_t message = {(uint8_t *)b.data, b.len};
        voxgate_plugin_host_log(level, &message);
    }
    vg_buf_free(&b);
}
