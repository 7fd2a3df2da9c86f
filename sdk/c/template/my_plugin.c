/*
 * A voxgate plugin template in C: `contacts` from a CRM's REST API. Replace the URL and
 * the JSON member names with your CRM's.
 *
 * Settings the operator gives your tenant: `crm-base-url` (required) and the secret
 * `crm-api-key` (optional). Build it with
 *     sdk/c/build -w contacts-http -o my_plugin.wasm my_plugin.c
 */
#include <stdlib.h>
#include <string.h>

#include "voxgate.h"

/* Copies member `name` of `obj` into a WIT string; false when it is missing or not text. */
static bool member(const vg_json_t *obj, const char *name, plugin_string_t *out) {
    const vg_json_t *v = vg_json_get(obj, name);
    if (vg_json_str(v) == NULL) {
        return false;
    }
    vg_string(out, v->text, v->len);
    return true;
}

/* The same for an optional member: missing, null or not text is none. */
static void optional_member(const vg_json_t *obj, const char *name, plugin_option_string_t *out) {
    const vg_json_t *v = vg_json_get(obj, name);
    const char *text = vg_json_str(v);
    vg_option(out, text, text ? v->len : 0);
}

static bool lookup(const plugin_string_t *phone, exports_voxgate_plugin_contacts_contact_t *ret,
                   vg_error_t *err) {
    char *base;
    if (!vg_config_require("crm-base-url", &base, err)) {
        return false;
    }
    char *key = vg_secret("crm-api-key");
    char *encoded = vg_url_encode(phone->ptr, phone->len);
    vg_buf_t url = {0};
    vg_buf_addf(&url, "%s/contacts/by-phone/%s", base, encoded);

    /* A transport failure or a status outside 2xx becomes the error case voxgate acts
     * on: a 404 is `not-found`, an unreachable CRM `unavailable`, a refused host
     * `denied`. */
    vg_response_t response;
    bool ok = vg_http_get(url.data, key, &response, err) && vg_http_check_status(&response, err);
    free(base);
    free(key);
    free(encoded);
    vg_buf_free(&url);
    if (!ok) {
        return false;
    }

    char *why = NULL;
    vg_json_t *found = vg_json_parse(response.body, response.body_len, &why);
    vg_response_free(&response);
    if (found == NULL) {
        vg_fail(err, VG_INTERNAL, "the CRM answered something that is not JSON: %s", why);
        free(why);
        return false;
    }
    *ret = (exports_voxgate_plugin_contacts_contact_t){0};
    if (!member(found, "id", &ret->id) || !member(found, "first_name", &ret->first_name) ||
        !member(found, "last_name", &ret->last_name) || !member(found, "phone", &ret->phone)) {
        vg_json_free(found);
        exports_voxgate_plugin_contacts_contact_free(ret);
        return vg_fail(err, VG_INTERNAL, "the CRM's contact lacks id, names or phone");
    }
    optional_member(found, "email", &ret->email);
    optional_member(found, "language", &ret->language);
    const char *tier = vg_json_str(vg_json_get(found, "tier"));
    ret->tier = tier && strcmp(tier, "vip") == 0         ? EXPORTS_VOXGATE_PLUGIN_CONTACTS_TIER_VIP
                : tier && strcmp(tier, "preferred") == 0 ? EXPORTS_VOXGATE_PLUGIN_CONTACTS_TIER_PREFERRED
                                                         : EXPORTS_VOXGATE_PLUGIN_CONTACTS_TIER_STANDARD;
    ret->company.is_some = false;
    vg_log(VG_DEBUG, "found contact %s", vg_json_str(vg_json_get(found, "id")));
    vg_json_free(found);
    return true;
}

/* The function voxgate calls: its name and signature come from the generated `plugin.h`
 * (gen/ next to this file after the first build). */
bool exports_voxgate_plugin_contacts_lookup_by_phone(
    exports_voxgate_plugin_contacts_call_context_t *ctx, plugin_string_t *phone,
    exports_voxgate_plugin_contacts_contact_t *ret, exports_voxgate_plugin_contacts_error_t *err) {
    bool ok = lookup(phone, ret, err);
    /* The arguments belong to this function: free them. */
    exports_voxgate_plugin_contacts_call_context_free(ctx);
    plugin_string_free(phone);
    return ok;
}
