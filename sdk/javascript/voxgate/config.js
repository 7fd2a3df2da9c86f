// The tenant's settings and secrets, as the operator configured them for this plugin.
import host from "voxgate:plugin/host@0.1.0";
import { internal } from "./errors.js";

/** A setting, or null when the tenant has not set it. */
export function get(key) {
    return host.config(key) ?? null;
}

/**
 * A setting the plugin cannot work without. A missing one is an `internal` error that
 * names the key, so the operator sees what to configure.
 */
export function require(key) {
    const value = get(key);
    if (value === null) throw internal(`tenant setting \`${key}\` is not configured`);
    return value;
}

/** A secret (API key, password), or null. Never log it. */
export function secret(key) {
    return host.secret(key) ?? null;
}
