// Outbound HTTP to the tenant's systems over `wasi:http/outgoing-handler`, blocking.
//
// voxgate lets a plugin reach only the hosts the tenant allows, with the tenant's
// timeouts and response size limit. Every function here either returns a whole response
// (any status) or throws a VoxgateError whose kind the dialog can act on.
//
// The `voxgate-wasi:*` specifiers are wasi:http and wasi:io under another name:
// sdk/javascript/build gives them their real names after componentize-qjs has run (see
// lib/build.mjs for why).
import types from "voxgate-wasi:http/types";
import handler from "voxgate-wasi:http/outgoing-handler";
import { VoxgateError } from "./errors.js";
import { utf8Decode, utf8Encode } from "./text.js";

export { encode } from "./text.js";

const METHODS = ["get", "head", "post", "put", "delete", "connect", "options", "trace", "patch"];

// A small body goes out whole before the request is handed to the host; writing after
// `handle` races a server that answers before it reads the body (the answer is lost).
const CHUNK = 4096;
const READ = 64 * 1024;

/**
 * Why a request failed, before or after an answer. `reason` is one of: bad-url, denied,
 * timeout, connect, too-large, status, decode, other.
 */
export class HttpError extends VoxgateError {
    constructor(reason, url, detail, status) {
        const [kind, message] = describe(reason, url, detail, status);
        super(kind, message);
        this.name = "HttpError";
        this.reason = reason;
        this.url = url;
        if (status !== undefined) this.status = status;
    }
}

// The WIT error case for each failure: unreachable or slow systems are `unavailable`
// (voxgate may retry), a 404 `not-found`, a 409 `conflict`, a 400/422 `invalid`,
// 401/403 or a host the tenant does not allow `denied`.
function describe(reason, url, detail, status) {
    switch (reason) {
        case "bad-url":
            return ["internal", `bad URL \`${url}\``];
        case "denied":
            return ["denied", `request to ${url} was denied by voxgate: the host is not allowed for this tenant (add it to the tenant's allowed hosts)`];
        case "timeout":
            return ["unavailable", `request to ${url} timed out`];
        case "connect":
            return ["unavailable", `cannot reach ${url}: ${detail}`];
        case "too-large":
            return ["internal", `response from ${url} is larger than the tenant allows`];
        case "status": {
            const text = `${url} answered HTTP ${status}${detail ? `: ${detail}` : ""}`;
            return [statusKind(status), text];
        }
        case "decode":
            return ["internal", `unexpected response from ${url}: ${detail}`];
        default:
            return ["internal", `request to ${url} failed: ${detail}`];
    }
}

function statusKind(status) {
    switch (status) {
        case 404: return "not-found";
        case 409: return "conflict";
        case 400: case 422: return "invalid";
        case 401: case 403: return "denied";
        case 429: case 502: case 503: case 504: return "unavailable";
        default: return "internal";
    }
}

/** A whole HTTP response. */
export class Response {
    constructor(url, status, headers, body) {
        /** @type {string} */ this.url = url;
        /** @type {number} */ this.status = status;
        /** @type {Array<[string, string]>} names in lower case */ this.headers = headers;
        /** @type {Uint8Array} */ this.body = body;
    }

    /** True for a 2xx status. */
    get ok() {
        return this.status >= 200 && this.status < 300;
    }

    /** The first value of a header, or null. */
    header(name) {
        const wanted = name.toLowerCase();
        const found = this.headers.find(([n]) => n === wanted);
        return found ? found[1] : null;
    }

    /** The body as text (UTF-8). */
    text() {
        return utf8Decode(this.body);
    }

    /** The body parsed as JSON; a body that is not JSON is an `internal` error. */
    json() {
        try {
            return JSON.parse(this.text());
        } catch (e) {
            throw new HttpError("decode", this.url, e instanceof Error ? e.message : String(e));
        }
    }

    /** Returns this response for a 2xx status, or throws the error its status stands for. */
    errorForStatus() {
        if (this.ok) return this;
        throw new HttpError("status", this.url, [...this.text()].slice(0, 300).join(""), this.status);
    }
}

/**
 * Sends a request and reads the whole response.
 * @param {string} method GET, POST, …
 * @param {string} url http:// or https://
 * @param {object} [options]
 * @param {Record<string, string>|Array<[string, string]>} [options.headers]
 * @param {string|null} [options.bearer] sent as `Authorization: Bearer …` (null: no header)
 * @param {unknown} [options.json] a value sent as a JSON body
 * @param {Uint8Array|string} [options.body] a raw body (when there is no `json`)
 * @param {number} [options.timeoutMs] shorter than the tenant's timeout (never longer)
 * @returns {Response}
 */
export function request(method, url, options = {}) {
    const target = parseUrl(url);
    const headers = [];
    const given = options.headers ?? [];
    for (const [name, value] of Array.isArray(given) ? given : Object.entries(given)) {
        headers.push([String(name).toLowerCase(), String(value)]);
    }
    if (options.bearer !== undefined && options.bearer !== null) {
        headers.push(["authorization", `Bearer ${options.bearer}`]);
    }
    let body = null;
    if (options.json !== undefined) {
        body = utf8Encode(JSON.stringify(options.json));
        headers.push(["content-type", "application/json"]);
    } else if (options.body !== undefined && options.body !== null) {
        body = typeof options.body === "string" ? utf8Encode(options.body) : options.body;
    }
    if (body !== null) headers.push(["content-length", String(body.length)]);
    return send(method, url, target, headers, body ?? new Uint8Array(0), options.timeoutMs);
}

/** GET; see `request` for the options. */
export const get = (url, options) => request("GET", url, options);

/** POST; see `request` for the options. */
export const post = (url, options) => request("POST", url, options);

/** GET that must answer 2xx with JSON: returns the parsed body. */
export const getJson = (url, options) => get(url, options).errorForStatus().json();

/** POST of `data` as JSON that must answer 2xx with JSON: returns the parsed body. */
export const postJson = (url, data, options = {}) =>
    post(url, { ...options, json: data }).errorForStatus().json();

function parseUrl(url) {
    const bad = () => new HttpError("bad-url", url);
    const at = url.indexOf("://");
    if (at < 0) throw bad();
    const scheme = url.slice(0, at).toLowerCase();
    if (scheme !== "http" && scheme !== "https") throw bad();
    const rest = url.slice(at + 3);
    const cut = rest.search(/[/?]/);
    const authority = cut < 0 ? rest : rest.slice(0, cut);
    let path = cut < 0 ? "/" : rest.slice(cut);
    if (authority === "" || authority.includes("@")) throw bad();
    if (path.startsWith("?")) path = `/${path}`;
    return { scheme: scheme === "http" ? { tag: "HTTP" } : { tag: "HTTPS" }, authority, path };
}

function methodOf(method) {
    const m = String(method).toLowerCase();
    return METHODS.includes(m) ? { tag: m } : { tag: "other", val: String(method) };
}

// Imported methods returning `result` throw an Error whose `payload` is the error value.
const payloadOf = (e) => (e && typeof e === "object" && "payload" in e ? e.payload : undefined);

function other(url, what) {
    return (e) => new HttpError("other", url, `${what}${e instanceof Error && e.message ? ` (${e.message})` : ""}`);
}

function attempt(fn, onError) {
    try {
        return fn();
    } catch (e) {
        if (e instanceof VoxgateError) throw e;
        throw onError(e);
    }
}

function fromCode(url, e) {
    const code = payloadOf(e);
    if (!code || typeof code.tag !== "string") return other(url, "the HTTP layer failed")(e);
    // Named like the Rust SDK's messages (`ConnectionRefused`), so logs read the same.
    const name = `ErrorCode::${code.tag.split("-").map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase()).join("")}`;
    const detail = code.val === undefined || code.val === null ? name : `${name}(${JSON.stringify(code.val)})`;
    switch (code.tag) {
        case "HTTP-request-denied":
            return new HttpError("denied", url);
        case "connection-timeout": case "connection-read-timeout": case "connection-write-timeout":
        case "HTTP-response-timeout": case "DNS-timeout":
            return new HttpError("timeout", url);
        case "HTTP-response-body-size":
            return new HttpError("too-large", url);
        case "connection-refused": case "connection-terminated": case "connection-limit-reached":
        case "destination-not-found": case "destination-unavailable": case "destination-IP-unroutable":
        case "DNS-error": case "TLS-protocol-error": case "TLS-certificate-error": case "TLS-alert-received":
            return new HttpError("connect", url, detail);
        default:
            return new HttpError("other", url, detail);
    }
}

function dispose(resource) {
    if (resource && typeof resource[Symbol.dispose] === "function") resource[Symbol.dispose]();
}

function send(method, url, target, headers, body, timeoutMs) {
    const fields = attempt(
        () => types.Fields.fromList(headers.map(([n, v]) => [n, utf8Encode(v)])),
        (e) => new HttpError("other", url, `bad header: ${JSON.stringify(payloadOf(e) ?? String(e))}`),
    );
    const req = new types.OutgoingRequest(fields);
    attempt(() => req.setMethod(methodOf(method)), other(url, "bad method"));
    attempt(() => req.setScheme(target.scheme), other(url, "bad scheme"));
    attempt(() => req.setAuthority(target.authority), other(url, "bad authority"));
    attempt(() => req.setPathWithQuery(target.path), other(url, "bad path"));
    let options = null;
    if (typeof timeoutMs === "number" && timeoutMs > 0) {
        options = new types.RequestOptions();
        const nanos = Math.round(timeoutMs * 1e6);
        // The host caps these at the tenant's limits; a refused one keeps the default.
        for (const set of ["setConnectTimeout", "setFirstByteTimeout", "setBetweenBytesTimeout"]) {
            try {
                options[set](nanos);
            } catch {
                // keep the tenant's timeout
            }
        }
    }
    const outgoing = attempt(() => req.body(), other(url, "request body unavailable"));
    const stream = attempt(() => outgoing.write(), other(url, "request body stream unavailable"));
    let room = 0;
    try {
        room = stream.checkWrite();
    } catch {
        room = 0;
    }
    let future;
    if (room >= body.length) {
        if (body.length > 0) attempt(() => stream.write(body), other(url, "writing the request body"));
        dispose(stream);
        attempt(() => types.OutgoingBody.finish(outgoing, null), (e) => fromCode(url, e));
        future = attempt(() => handler.handle(req, options), (e) => fromCode(url, e));
    } else {
        // A large body streams: the host drains it while we write.
        future = attempt(() => handler.handle(req, options), (e) => fromCode(url, e));
        for (let at = 0; at < body.length; at += CHUNK) {
            const chunk = body.subarray(at, at + CHUNK);
            attempt(() => stream.blockingWriteAndFlush(chunk), other(url, "writing the request body"));
        }
        dispose(stream);
        attempt(() => types.OutgoingBody.finish(outgoing, null), (e) => fromCode(url, e));
    }

    const ready = future.subscribe();
    ready.block();
    dispose(ready);
    const outcome = future.get();
    dispose(future);
    if (!outcome || outcome.tag !== "ok") throw new HttpError("other", url, "response already taken");
    if (outcome.val.tag !== "ok") throw fromCode(url, { payload: outcome.val.val });
    const response = outcome.val.val;
    const status = response.status();
    const fieldsIn = response.headers();
    const headersIn = fieldsIn.entries().map(([n, v]) => [n.toLowerCase(), utf8Decode(v)]);
    dispose(fieldsIn);
    const incoming = attempt(() => response.consume(), other(url, "response body unavailable"));
    const input = attempt(() => incoming.stream(), other(url, "response body stream unavailable"));
    const chunks = [];
    let size = 0;
    for (;;) {
        let chunk;
        try {
            chunk = input.blockingRead(READ);
        } catch (e) {
            const failure = payloadOf(e);
            if (failure && failure.tag === "closed") break;
            dispose(input);
            throw readFailure(url, failure, e);
        }
        chunks.push(chunk);
        size += chunk.length;
    }
    dispose(input);
    dispose(incoming);
    dispose(response);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
        bytes.set(chunk, at);
        at += chunk.length;
    }
    return new Response(url, status, headersIn, bytes);
}

function readFailure(url, failure, e) {
    let detail = e instanceof Error ? e.message : String(e);
    if (failure && failure.tag === "last-operation-failed" && failure.val) {
        try {
            detail = failure.val.toDebugString();
        } catch {
            // keep the message we have
        }
    }
    if (detail.includes("body-size") || detail.includes("BodySize")) return new HttpError("too-large", url);
    return new HttpError("connect", url, detail);
}
