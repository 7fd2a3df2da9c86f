/*
 * The demo ERP's REST API as this plugin sees it: one client for one call, and a reader
 * for flat JSON records that accepts exactly what the Rust demo-shop plugin accepts
 * (serde's rules: unknown members ignored, optional members may be missing or null,
 * duplicates refused), so both plugins give the same result for the same ERP answer.
 */
#ifndef ERP_H
#define ERP_H

#include "voxgate.h"

typedef struct {
    char *base; /* erp-base-url without trailing slashes */
    char *key;  /* erp-api-key, or NULL */
} erp_t;

/* Reads the settings; a missing `erp-base-url` is an `internal` error naming it. */
bool erp_connect(erp_t *erp, vg_error_t *err);
void erp_close(erp_t *erp);

/* One member of a record, all strings in this API. */
typedef struct {
    const char *name;
    bool optional;           /* option<string>: missing or null is none */
    const vg_json_t *value;  /* filled in: the string, or NULL for none */
} erp_field_t;

/*
 * GETs `path` (already percent-encoded) and reads the 2xx answer as the record
 * `type_name` with `fields`; the values point into `*root`, which the caller frees with
 * vg_json_free. Any other answer becomes the error case its `{"error": code, "message":
 * text}` body names; an answer that is not the record is an `internal` error worded as
 * serde_json words it ("missing field `id` at line 1 column 2").
 */
bool erp_get_record(const erp_t *erp, const char *path, const char *type_name,
                    erp_field_t *fields, size_t count, vg_json_t **root, vg_error_t *err);

#endif
