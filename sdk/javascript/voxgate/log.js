// Log lines voxgate tags with tenant, plugin, version and call. Never log secrets, nor a
// caller's personal data beyond what an operator needs.
import host from "voxgate:plugin/host@0.1.0";

const line = (level) => (...parts) => host.log(level, parts.map(show).join(" "));

function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack ? `${value}\n${value.stack}` : String(value);
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

export const trace = line("trace");
export const debug = line("debug");
export const info = line("info");
export const warn = line("warn");
export const error = line("error");
