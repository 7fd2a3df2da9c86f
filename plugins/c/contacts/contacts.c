/*
 * contacts for the demo shop "Kvarner Home & Garden", in C: the same integration as the
 * Rust demo-shop plugin's `contacts.lookup-by-phone`, answer for answer.
 *
 * Settings: `erp-base-url` (required, e.g. `http://127.0.0.1:8700`); secret
 * `erp-api-key` (optional, sent as a bearer token).
 */
#include <stdlib.h>
#include <string.h>

#include "erp.h"

static void copy(plugin_string_t *out, const vg_json_t *v) {
    vg_string(out, v->text, v->len);
}

static void copy_option(plugin_option_string_t *out, const vg_json_t *v) {
    vg_option(out, v ? v->text : NULL, v ? v->len : 0);
}

static bool is(const vg_json_t *v, const char *text) {
    size_t n = strlen(text);
    return v->len == n && memcmp(v->text, text, n) == 0;
}

static bool lookup(const plugin_string_t *phone, exports_voxgate_plugin_contacts_contact_t *ret,
                   vg_error_t *err) {
    erp_t erp;
    if (!erp_connect(&erp, err)) {
        return false;
    }
    char *encoded = vg_url_encode(phone->ptr, phone->len);
    vg_buf_t path = {0};
    vg_buf_addf(&path, "/contacts/by-phone/%s", encoded);
    free(encoded);

    enum { ID, FIRST_NAME, LAST_NAME, PHONE, EMAIL, LANGUAGE, TIER, COMPANY, FIELDS };
    erp_field_t f[FIELDS] = {
        [ID] = {"id", false, NULL},
        [FIRST_NAME] = {"first_name", false, NULL},
        [LAST_NAME] = {"last_name", false, NULL},
        [PHONE] = {"phone", false, NULL},
        [EMAIL] = {"email", true, NULL},
        [LANGUAGE] = {"language", true, NULL},
        [TIER] = {"tier", false, NULL},
        [COMPANY] = {"company", true, NULL},
    };
    vg_json_t *json;
    bool ok = erp_get_record(&erp, path.data, "Contact", f, FIELDS, &json, err);
    vg_buf_free(&path);
    erp_close(&erp);
    if (!ok) {
        return false;
    }
    copy(&ret->id, f[ID].value);
    copy(&ret->first_name, f[FIRST_NAME].value);
    copy(&ret->last_name, f[LAST_NAME].value);
    copy(&ret->phone, f[PHONE].value);
    copy_option(&ret->email, f[EMAIL].value);
    copy_option(&ret->language, f[LANGUAGE].value);
    /* An unknown tier counts as standard, as in the Rust plugin. */
    ret->tier = is(f[TIER].value, "vip")         ? EXPORTS_VOXGATE_PLUGIN_CONTACTS_TIER_VIP
                : is(f[TIER].value, "preferred") ? EXPORTS_VOXGATE_PLUGIN_CONTACTS_TIER_PREFERRED
                                                 : EXPORTS_VOXGATE_PLUGIN_CONTACTS_TIER_STANDARD;
    copy_option(&ret->company, f[COMPANY].value);
    vg_json_free(json);
    return true;
}

bool exports_voxgate_plugin_contacts_lookup_by_phone(
    exports_voxgate_plugin_contacts_call_context_t *ctx, plugin_string_t *phone,
    exports_voxgate_plugin_contacts_contact_t *ret, exports_voxgate_plugin_contacts_error_t *err) {
    bool ok = lookup(phone, ret, err);
    /* Arguments belong to the callee in the generated bindings. */
    exports_voxgate_plugin_contacts_call_context_free(ctx);
    plugin_string_free(phone);
    return ok;
}
