/*
 * Outbound HTTP over wasi:http/outgoing-handler for C plugins: see include/voxgate.h.
 *
 * The failure messages and error cases are the ones voxgate's Rust SDK produces for the
 * same failures, so a plugin behaves the same whichever language it is written in (one
 * conformance suite runs against all of them).
 */
#include "voxgate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Why a request produced no usable response (the Rust SDK's `HttpError`). */
typedef enum {
    FAIL_BAD_URL,
    FAIL_DENIED,
    FAIL_TIMEOUT,
    FAIL_CONNECT,
    FAIL_TOO_LARGE,
    FAIL_OTHER,
} failure_t;

static bool fail(vg_error_t *err, failure_t kind, const char *url, const char *detail) {
    switch (kind) {
    case FAIL_BAD_URL:
        return vg_fail(err, VG_INTERNAL, "bad URL `%s`", url);
    case FAIL_DENIED:
        return vg_fail(err, VG_DENIED,
                       "request to %s was denied by voxgate: the host is not allowed for "
                       "this tenant (add it to the tenant's allowed hosts)",
                       url);
    case FAIL_TIMEOUT:
        return vg_fail(err, VG_UNAVAILABLE, "request to %s timed out", url);
    case FAIL_CONNECT:
        return vg_fail(err, VG_UNAVAILABLE, "cannot reach %s: %s", url, detail);
    case FAIL_TOO_LARGE:
        return vg_fail(err, VG_INTERNAL, "response from %s is larger than the tenant allows", url);
    case FAIL_OTHER:
    default:
        return vg_fail(err, VG_INTERNAL, "request to %s failed: %s", url, detail);
    }
}

/* ---- error codes as text ----------------------------------------------------------
 * The detail of a connection failure names the wasi:http error code the way Rust's
 * Debug prints it (`ErrorCode::ConnectionRefused`), which is what operators see from
 * Rust plugins too. */

static const char *const code_names[] = {
    "DnsTimeout", "DnsError", "DestinationNotFound", "DestinationUnavailable",
    "DestinationIpProhibited", "DestinationIpUnroutable", "ConnectionRefused",
    "ConnectionTerminated", "ConnectionTimeout", "ConnectionReadTimeout",
    "ConnectionWriteTimeout", "ConnectionLimitReached", "TlsProtocolError",
    "TlsCertificateError", "TlsAlertReceived", "HttpRequestDenied",
    "HttpRequestLengthRequired", "HttpRequestBodySize", "HttpRequestMethodInvalid",
    "HttpRequestUriInvalid", "HttpRequestUriTooLong", "HttpRequestHeaderSectionSize",
    "HttpRequestHeaderSize", "HttpRequestTrailerSectionSize", "HttpRequestTrailerSize",
    "HttpResponseIncomplete", "HttpResponseHeaderSectionSize", "HttpResponseHeaderSize",
    "HttpResponseBodySize", "HttpResponseTrailerSectionSize", "HttpResponseTrailerSize",
    "HttpResponseTransferCoding", "HttpResponseContentCoding", "HttpResponseTimeout",
    "HttpUpgradeFailed", "HttpProtocolError", "LoopDetected", "ConfigurationError",
    "InternalError",
};

void vg_buf_add_debug_str(vg_buf_t *b, const char *s, size_t n) {
    vg_buf_adds(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': vg_buf_adds(b, "\\\""); break;
        case '\\': vg_buf_adds(b, "\\\\"); break;
        case '\n': vg_buf_adds(b, "\\n"); break;
        case '\r': vg_buf_adds(b, "\\r"); break;
        case '\t': vg_buf_adds(b, "\\t"); break;
        case '\0': vg_buf_adds(b, "\\0"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                vg_buf_addf(b, "\\u{%x}", c);
            } else {
                vg_buf_add(b, &c, 1);
            }
        }
    }
    vg_buf_adds(b, "\"");
}

static void debug_str(vg_buf_t *b, const plugin_string_t *s) {
    vg_buf_add_debug_str(b, (const char *)s->ptr, s->len);
}

static void debug_opt_str(vg_buf_t *b, const plugin_option_string_t *o) {
    if (!o->is_some) {
        vg_buf_adds(b, "None");
        return;
    }
    vg_buf_adds(b, "Some(");
    debug_str(b, &o->val);
    vg_buf_adds(b, ")");
}

static void debug_opt_num(vg_buf_t *b, bool is_some, unsigned long long v) {
    if (is_some) {
        vg_buf_addf(b, "Some(%llu)", v);
    } else {
        vg_buf_adds(b, "None");
    }
}

static void debug_field_size(vg_buf_t *b, const wasi_http_types_field_size_payload_t *p) {
    vg_buf_adds(b, "FieldSizePayload { field-name: ");
    debug_opt_str(b, &p->field_name);
    vg_buf_adds(b, ", field-size: ");
    debug_opt_num(b, p->field_size.is_some, p->field_size.val);
    vg_buf_adds(b, " }");
}

static char *code_text(const wasi_http_types_error_code_t *code) {
    vg_buf_t b = {0};
    uint8_t tag = code->tag;
    vg_buf_addf(&b, "ErrorCode::%s",
                tag < sizeof code_names / sizeof code_names[0] ? code_names[tag] : "Unknown");
    const plugin_option_u32_t *u32 = NULL;
    const plugin_option_u64_t *u64 = NULL;
    const plugin_option_string_t *str = NULL;
    const wasi_http_types_field_size_payload_t *size = NULL;
    switch (tag) {
    case WASI_HTTP_TYPES_ERROR_CODE_DNS_ERROR:
        vg_buf_adds(&b, "(DnsErrorPayload { rcode: ");
        debug_opt_str(&b, &code->val.dns_error.rcode);
        vg_buf_adds(&b, ", info-code: ");
        debug_opt_num(&b, code->val.dns_error.info_code.is_some, code->val.dns_error.info_code.val);
        vg_buf_adds(&b, " })");
        break;
    case WASI_HTTP_TYPES_ERROR_CODE_TLS_ALERT_RECEIVED:
        vg_buf_adds(&b, "(TlsAlertReceivedPayload { alert-id: ");
        debug_opt_num(&b, code->val.tls_alert_received.alert_id.is_some,
                      code->val.tls_alert_received.alert_id.val);
        vg_buf_adds(&b, ", alert-message: ");
        debug_opt_str(&b, &code->val.tls_alert_received.alert_message);
        vg_buf_adds(&b, " })");
        break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_BODY_SIZE: u64 = &code->val.http_request_body_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_BODY_SIZE: u64 = &code->val.http_response_body_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_HEADER_SECTION_SIZE: u32 = &code->val.http_request_header_section_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_TRAILER_SECTION_SIZE: u32 = &code->val.http_request_trailer_section_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_HEADER_SECTION_SIZE: u32 = &code->val.http_response_header_section_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_TRAILER_SECTION_SIZE: u32 = &code->val.http_response_trailer_section_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_TRAILER_SIZE: size = &code->val.http_request_trailer_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_HEADER_SIZE: size = &code->val.http_response_header_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_TRAILER_SIZE: size = &code->val.http_response_trailer_size; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_TRANSFER_CODING: str = &code->val.http_response_transfer_coding; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_CONTENT_CODING: str = &code->val.http_response_content_coding; break;
    case WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR: str = &code->val.internal_error; break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_HEADER_SIZE:
        vg_buf_adds(&b, "(");
        if (code->val.http_request_header_size.is_some) {
            vg_buf_adds(&b, "Some(");
            debug_field_size(&b, &code->val.http_request_header_size.val);
            vg_buf_adds(&b, ")");
        } else {
            vg_buf_adds(&b, "None");
        }
        vg_buf_adds(&b, ")");
        break;
    default:
        break;
    }
    if (u32 != NULL || u64 != NULL || str != NULL || size != NULL) {
        vg_buf_adds(&b, "(");
        if (u32 != NULL) debug_opt_num(&b, u32->is_some, u32->val);
        if (u64 != NULL) debug_opt_num(&b, u64->is_some, u64->val);
        if (str != NULL) debug_opt_str(&b, str);
        if (size != NULL) debug_field_size(&b, size);
        vg_buf_adds(&b, ")");
    }
    if (b.failed) {
        __builtin_trap();
    }
    return vg_buf_take(&b, NULL);
}

/* Maps a wasi:http error code the way the Rust SDK does; frees the code's payload. */
static bool fail_code(vg_error_t *err, const char *url, wasi_http_types_error_code_t *code) {
    failure_t kind;
    switch (code->tag) {
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_DENIED:
        kind = FAIL_DENIED;
        break;
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_TIMEOUT:
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_READ_TIMEOUT:
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_WRITE_TIMEOUT:
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_TIMEOUT:
    case WASI_HTTP_TYPES_ERROR_CODE_DNS_TIMEOUT:
        kind = FAIL_TIMEOUT;
        break;
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_RESPONSE_BODY_SIZE:
        kind = FAIL_TOO_LARGE;
        break;
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_REFUSED:
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_TERMINATED:
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_LIMIT_REACHED:
    case WASI_HTTP_TYPES_ERROR_CODE_DESTINATION_NOT_FOUND:
    case WASI_HTTP_TYPES_ERROR_CODE_DESTINATION_UNAVAILABLE:
    case WASI_HTTP_TYPES_ERROR_CODE_DESTINATION_IP_UNROUTABLE:
    case WASI_HTTP_TYPES_ERROR_CODE_DNS_ERROR:
    case WASI_HTTP_TYPES_ERROR_CODE_TLS_PROTOCOL_ERROR:
    case WASI_HTTP_TYPES_ERROR_CODE_TLS_CERTIFICATE_ERROR:
    case WASI_HTTP_TYPES_ERROR_CODE_TLS_ALERT_RECEIVED:
        kind = FAIL_CONNECT;
        break;
    default:
        kind = FAIL_OTHER;
        break;
    }
    char *detail = code_text(code);
    wasi_http_types_error_code_free(code);
    fail(err, kind, url, detail);
    free(detail);
    return false;
}

/* ---- URLs ---------------------------------------------------------------------- */

typedef struct {
    bool https;
    char *authority;
    char *path; /* path and query, starting with '/' */
} url_parts_t;

static bool parse_url(const char *url, url_parts_t *out) {
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        return false;
    }
    size_t scheme_len = (size_t)(sep - url);
    if (scheme_len == 4 && strncasecmp(url, "http", 4) == 0) {
        out->https = false;
    } else if (scheme_len == 5 && strncasecmp(url, "https", 5) == 0) {
        out->https = true;
    } else {
        return false;
    }
    const char *rest = sep + 3;
    size_t authority_len = strcspn(rest, "/?");
    if (authority_len == 0 || memchr(rest, '@', authority_len) != NULL) {
        return false;
    }
    const char *path = rest + authority_len;
    vg_buf_t p = {0};
    if (*path == '\0') {
        vg_buf_adds(&p, "/");
    } else {
        if (*path == '?') {
            vg_buf_adds(&p, "/");
        }
        vg_buf_adds(&p, path);
    }
    if (p.failed) {
        __builtin_trap();
    }
    out->authority = vg_strndup(rest, authority_len);
    out->path = vg_buf_take(&p, NULL);
    return true;
}

/* ---- the request --------------------------------------------------------------- */

static wasi_http_types_method_t method_of(const char *name) {
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                        "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    wasi_http_types_method_t m = {0};
    for (uint8_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcasecmp(name, known[i]) == 0) {
            m.tag = i;
            return m;
        }
    }
    m.tag = WASI_HTTP_TYPES_METHOD_OTHER;
    m.val.other = (plugin_string_t){(uint8_t *)name, strlen(name)};
    return m;
}

static char *lower(const char *s) {
    char *l = vg_strndup(s, strlen(s));
    for (char *p = l; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p - 'A' + 'a');
        }
    }
    return l;
}

/* Headers as the wasi:http field list; the names and values are the caller's strings
 * except the lower-cased names, which are returned for freeing. */
static bool make_fields(const vg_header_t *headers, size_t count, size_t body_len, bool has_body,
                        wasi_http_types_own_fields_t *out, wasi_http_types_header_error_t *herr) {
    size_t n = count + (has_body ? 1 : 0);
    wasi_http_types_tuple2_field_name_field_value_t *entries =
        n ? calloc(n, sizeof *entries) : NULL;
    char **names = n ? calloc(n, sizeof *names) : NULL;
    char length[24];
    if (n && (entries == NULL || names == NULL)) {
        __builtin_trap();
    }
    for (size_t i = 0; i < count; i++) {
        names[i] = lower(headers[i].name);
        entries[i].f0 = (plugin_string_t){(uint8_t *)names[i], strlen(names[i])};
        entries[i].f1 = (wasi_http_types_field_value_t){(uint8_t *)headers[i].value,
                                                        strlen(headers[i].value)};
    }
    if (has_body) {
        int len = snprintf(length, sizeof length, "%zu", body_len);
        entries[count].f0 = (plugin_string_t){(uint8_t *)"content-length", 14};
        entries[count].f1 = (wasi_http_types_field_value_t){(uint8_t *)length, (size_t)len};
    }
    wasi_http_types_list_tuple2_field_name_field_value_t list = {entries, n};
    bool ok = wasi_http_types_static_fields_from_list(&list, out, herr);
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
    free(entries);
    return ok;
}

static const char *header_error_text(const wasi_http_types_header_error_t *e) {
    switch (e->tag) {
    case WASI_HTTP_TYPES_HEADER_ERROR_INVALID_SYNTAX: return "bad header: HeaderError::InvalidSyntax";
    case WASI_HTTP_TYPES_HEADER_ERROR_FORBIDDEN: return "bad header: HeaderError::Forbidden";
    default: return "bad header: HeaderError::Immutable";
    }
}

/* Writes the whole body to the request's stream; false with `detail` on failure. */
static bool write_body(wasi_io_streams_borrow_output_stream_t stream, const uint8_t *body,
                       size_t len, bool blocking, char **detail) {
    wasi_io_streams_stream_error_t serr;
    size_t off = 0;
    do {
        size_t chunk = blocking && len - off > 4096 ? 4096 : len - off;
        plugin_list_u8_t piece = {(uint8_t *)body + off, chunk};
        bool ok = blocking
                      ? wasi_io_streams_method_output_stream_blocking_write_and_flush(stream, &piece, &serr)
                      : wasi_io_streams_method_output_stream_write(stream, &piece, &serr);
        if (!ok) {
            vg_buf_t b = {0};
            vg_buf_adds(&b, "writing the request body: ");
            if (serr.tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED) {
                vg_buf_adds(&b, "StreamError::Closed");
            } else {
                plugin_string_t text;
                wasi_io_error_method_error_to_debug_string(
                    wasi_io_error_borrow_error(serr.val.last_operation_failed), &text);
                vg_buf_adds(&b, "StreamError::LastOperationFailed(Error { debug: ");
                debug_str(&b, &text);
                vg_buf_adds(&b, " })");
                plugin_string_free(&text);
                wasi_io_error_error_drop_own(serr.val.last_operation_failed);
            }
            *detail = vg_buf_take(&b, NULL);
            return false;
        }
        off += chunk;
    } while (off < len);
    return true;
}

/* Reads the response body to its end. */
static bool read_body(wasi_http_types_own_incoming_response_t response, const char *url,
                      vg_response_t *out, vg_error_t *err) {
    wasi_http_types_own_incoming_body_t body;
    if (!wasi_http_types_method_incoming_response_consume(
            wasi_http_types_borrow_incoming_response(response), &body)) {
        return fail(err, FAIL_OTHER, url, "response body unavailable");
    }
    wasi_http_types_own_input_stream_t stream;
    if (!wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body),
                                                     &stream)) {
        wasi_http_types_incoming_body_drop_own(body);
        return fail(err, FAIL_OTHER, url, "response body stream unavailable");
    }
    vg_buf_t data = {0};
    bool ok = true;
    for (;;) {
        plugin_list_u8_t chunk;
        wasi_io_streams_stream_error_t serr;
        if (wasi_io_streams_method_input_stream_blocking_read(
                wasi_io_streams_borrow_input_stream(stream), 64 * 1024, &chunk, &serr)) {
            vg_buf_add(&data, chunk.ptr, chunk.len);
            plugin_list_u8_free(&chunk);
            if (data.failed) {
                ok = fail(err, FAIL_TOO_LARGE, url, NULL);
                break;
            }
            continue;
        }
        if (serr.tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED) {
            break;
        }
        plugin_string_t text;
        wasi_io_error_method_error_to_debug_string(
            wasi_io_error_borrow_error(serr.val.last_operation_failed), &text);
        wasi_io_error_error_drop_own(serr.val.last_operation_failed);
        char *detail = vg_cstr(&text);
        plugin_string_free(&text);
        ok = strstr(detail, "body-size") || strstr(detail, "BodySize")
                 ? fail(err, FAIL_TOO_LARGE, url, NULL)
                 : fail(err, FAIL_CONNECT, url, detail);
        free(detail);
        break;
    }
    wasi_io_streams_input_stream_drop_own(stream);
    wasi_http_types_incoming_body_drop_own(body);
    if (!ok) {
        vg_buf_free(&data);
        return false;
    }
    out->body = (uint8_t *)vg_buf_take(&data, &out->body_len);
    return true;
}

bool vg_http_send(const char *method, const char *url, const vg_header_t *headers,
                  size_t header_count, const void *body, size_t body_len,
                  vg_response_t *out, vg_error_t *err) {
    *out = (vg_response_t){0};
    url_parts_t parts;
    if (!parse_url(url, &parts)) {
        return fail(err, FAIL_BAD_URL, url, NULL);
    }
    bool ok = false;
    const char *problem = NULL;
    char *detail = NULL;
    wasi_http_types_own_fields_t fields;
    wasi_http_types_header_error_t herr;
    if (!make_fields(headers, header_count, body_len, body != NULL, &fields, &herr)) {
        fail(err, FAIL_OTHER, url, header_error_text(&herr));
        goto free_parts;
    }
    wasi_http_types_own_outgoing_request_t request =
        wasi_http_types_constructor_outgoing_request(fields);
    wasi_http_types_borrow_outgoing_request_t req = wasi_http_types_borrow_outgoing_request(request);
    wasi_http_types_method_t m = method_of(method);
    wasi_http_types_scheme_t scheme = {.tag = parts.https ? WASI_HTTP_TYPES_SCHEME_HTTPS
                                                          : WASI_HTTP_TYPES_SCHEME_HTTP};
    plugin_string_t authority = {(uint8_t *)parts.authority, strlen(parts.authority)};
    plugin_string_t path = {(uint8_t *)parts.path, strlen(parts.path)};
    if (!wasi_http_types_method_outgoing_request_set_method(req, &m)) {
        problem = "bad method";
    } else if (!wasi_http_types_method_outgoing_request_set_scheme(req, &scheme)) {
        problem = "bad scheme";
    } else if (!wasi_http_types_method_outgoing_request_set_authority(req, &authority)) {
        problem = "bad authority";
    } else if (!wasi_http_types_method_outgoing_request_set_path_with_query(req, &path)) {
        problem = "bad path";
    }
    wasi_http_types_own_outgoing_body_t obody;
    if (problem == NULL && !wasi_http_types_method_outgoing_request_body(req, &obody)) {
        problem = "request body unavailable";
    }
    if (problem != NULL) {
        wasi_http_types_outgoing_request_drop_own(request);
        fail(err, FAIL_OTHER, url, problem);
        goto free_parts;
    }
    wasi_http_types_own_output_stream_t stream;
    if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(obody),
                                                    &stream)) {
        wasi_http_types_outgoing_body_drop_own(obody);
        wasi_http_types_outgoing_request_drop_own(request);
        fail(err, FAIL_OTHER, url, "request body stream unavailable");
        goto free_parts;
    }
    wasi_io_streams_borrow_output_stream_t ostream = wasi_io_streams_borrow_output_stream(stream);
    const uint8_t *bytes = body != NULL ? body : (const uint8_t *)"";
    size_t len = body != NULL ? body_len : 0;

    /* Small bodies are written whole before the request is handed over, so headers and
     * body leave together: writing after `handle` races a server that answers before it
     * reads the body, and the answer is lost with the broken stream. Large bodies stream
     * while the host drains them. */
    uint64_t room = 0;
    wasi_io_streams_stream_error_t serr;
    bool fits = wasi_io_streams_method_output_stream_check_write(ostream, &room, &serr);
    if (!fits && serr.tag == WASI_IO_STREAMS_STREAM_ERROR_LAST_OPERATION_FAILED) {
        wasi_io_error_error_drop_own(serr.val.last_operation_failed);
    }
    fits = fits && room >= len;
    wasi_http_types_own_future_incoming_response_t future;
    wasi_http_types_error_code_t code;
    if (fits) {
        if (len > 0 && !write_body(ostream, bytes, len, false, &detail)) {
            wasi_io_streams_output_stream_drop_own(stream);
            wasi_http_types_outgoing_body_drop_own(obody);
            wasi_http_types_outgoing_request_drop_own(request);
            fail(err, FAIL_OTHER, url, detail);
            goto free_parts;
        }
        wasi_io_streams_output_stream_drop_own(stream);
        if (!wasi_http_types_static_outgoing_body_finish(obody, NULL, &code)) {
            wasi_http_types_outgoing_request_drop_own(request);
            fail_code(err, url, &code);
            goto free_parts;
        }
        if (!wasi_http_outgoing_handler_handle(request, NULL, &future, &code)) {
            fail_code(err, url, &code);
            goto free_parts;
        }
    } else {
        if (!wasi_http_outgoing_handler_handle(request, NULL, &future, &code)) {
            wasi_io_streams_output_stream_drop_own(stream);
            wasi_http_types_outgoing_body_drop_own(obody);
            fail_code(err, url, &code);
            goto free_parts;
        }
        bool written = len == 0 || write_body(ostream, bytes, len, true, &detail);
        wasi_io_streams_output_stream_drop_own(stream);
        if (!written) {
            wasi_http_types_outgoing_body_drop_own(obody);
            wasi_http_types_future_incoming_response_drop_own(future);
            fail(err, FAIL_OTHER, url, detail);
            goto free_parts;
        }
        if (!wasi_http_types_static_outgoing_body_finish(obody, NULL, &code)) {
            wasi_http_types_future_incoming_response_drop_own(future);
            fail_code(err, url, &code);
            goto free_parts;
        }
    }

    wasi_http_types_borrow_future_incoming_response_t fut =
        wasi_http_types_borrow_future_incoming_response(future);
    wasi_http_types_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(fut);
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
    wasi_io_poll_pollable_drop_own(ready);
    wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
    bool have = wasi_http_types_method_future_incoming_response_get(fut, &got);
    wasi_http_types_future_incoming_response_drop_own(future);
    if (!have || got.is_err) {
        fail(err, FAIL_OTHER, url, "response already taken");
        goto free_parts;
    }
    if (got.val.ok.is_err) {
        fail_code(err, url, &got.val.ok.val.err);
        goto free_parts;
    }
    wasi_http_types_own_incoming_response_t response = got.val.ok.val.ok;
    out->status = wasi_http_types_method_incoming_response_status(
        wasi_http_types_borrow_incoming_response(response));
    ok = read_body(response, url, out, err);
    wasi_http_types_incoming_response_drop_own(response);
    if (ok) {
        out->url = vg_strndup(url, strlen(url));
    }

free_parts:
    free(detail);
    free(parts.authority);
    free(parts.path);
    return ok;
}

bool vg_http_get(const char *url, const char *bearer, vg_response_t *out, vg_error_t *err) {
    if (bearer == NULL) {
        return vg_http_send("GET", url, NULL, 0, NULL, 0, out, err);
    }
    vg_buf_t auth = {0};
    vg_buf_addf(&auth, "Bearer %s", bearer);
    vg_header_t h = {"authorization", auth.data};
    bool ok = vg_http_send("GET", url, &h, 1, NULL, 0, out, err);
    vg_buf_free(&auth);
    return ok;
}

bool vg_http_post_json(const char *url, const char *bearer, const char *json,
                       vg_response_t *out, vg_error_t *err) {
    vg_buf_t auth = {0};
    vg_header_t h[2];
    size_t n = 0;
    if (bearer != NULL) {
        vg_buf_addf(&auth, "Bearer %s", bearer);
        h[n++] = (vg_header_t){"authorization", auth.data};
    }
    h[n++] = (vg_header_t){"content-type", "application/json"};
    bool ok = vg_http_send("POST", url, h, n, json, strlen(json), out, err);
    vg_buf_free(&auth);
    return ok;
}

/* Appends up to `max` characters of `bytes` read as UTF-8, each invalid sequence
 * replaced by U+FFFD the way Rust's `String::from_utf8_lossy` does (one replacement per
 * maximal invalid subpart). */
static void add_lossy(vg_buf_t *b, const uint8_t *s, size_t n, size_t max) {
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t i = 0, chars = 0;
    while (i < n && chars < max) {
        bool valid;
        size_t len = vg_utf8_next(s + i, n - i, &valid);
        if (valid) {
            vg_buf_add(b, s + i, len);
        } else {
            vg_buf_add(b, replacement, 3);
        }
        i += len;
        chars++;
    }
}

bool vg_http_check_status(const vg_response_t *r, vg_error_t *err) {
    if (r->status >= 200 && r->status < 300) {
        return true;
    }
    uint8_t kind;
    switch (r->status) {
    case 404: kind = VG_NOT_FOUND; break;
    case 409: kind = VG_CONFLICT; break;
    case 400: case 422: kind = VG_INVALID; break;
    case 401: case 403: kind = VG_DENIED; break;
    case 429: case 502: case 503: case 504: kind = VG_UNAVAILABLE; break;
    default: kind = VG_INTERNAL; break;
    }
    vg_buf_t b = {0};
    vg_buf_addf(&b, "%s answered HTTP %u", r->url ? r->url : "", (unsigned)r->status);
    if (r->body_len > 0) {
        vg_buf_adds(&b, ": ");
        add_lossy(&b, r->body, r->body_len, 300);
    }
    if (b.failed) {
        __builtin_trap();
    }
    size_t len;
    char *message = vg_buf_take(&b, &len);
    return vg_fail_take(err, kind, message, len);
}

void vg_response_free(vg_response_t *r) {
    free(r->url);
    free(r->body);
    *r = (vg_response_t){0};
}
