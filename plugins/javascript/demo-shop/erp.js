// The demo ERP's REST API as this plugin sees it: the JSON shapes it answers with, and one
// small client. Shapes are checked like a typed decoder would (a field of the wrong type
// or a missing one is an `internal` error naming it), so a misbehaving ERP gives an error
// value rather than a trap.
import { config, conflict, denied, http, internal, invalid, notFound, unavailable, encode } from "voxgate";

export { encode };

/** A client for one plugin call (every call is a fresh instance: nothing to cache). */
export function connect() {
    const base = config.require("erp-base-url").replace(/\/+$/, "");
    const key = config.secret("erp-api-key");
    const options = key === null ? {} : { bearer: key };

    const send = (method, path, json) => check(http.request(method, `${base}${path}`, json === undefined ? options : { ...options, json }));

    return {
        /** GET that answers JSON of `shape`. */
        get(path, shape) {
            const response = send("GET", path);
            return decode(response.json(), shape, response.url);
        },
        /** GET of a body that is not JSON (recordings). */
        getRaw(path) {
            return send("GET", path);
        },
        /** POST of `body` as JSON that answers JSON of `shape`. */
        post(path, body, shape) {
            const response = send("POST", path, body);
            return decode(response.json(), shape, response.url);
        },
    };
}

// The ERP answers errors as {"error": code, "message": text}: its code decides the WIT
// error case, its message goes into the error text.
function check(response) {
    if (response.ok) return response;
    let body = null;
    try {
        body = JSON.parse(response.text());
    } catch {
        body = null;
    }
    if (body && typeof body.error === "string" && typeof body.message === "string") {
        switch (body.error) {
            case "not_found": throw notFound(body.message);
            case "invalid": throw invalid(body.message);
            case "conflict": throw conflict(body.message);
            case "unauthorized": throw denied(`ERP refused the API key: ${body.message}`);
            default: throw unavailable(`ERP error ${response.status}: ${body.message}`);
        }
    }
    return response.errorForStatus();
}

// Shapes: "string", "u8", "u32", "i64", a nested shape object, [shape] for a list, and a
// trailing "?" (or opt(shape)) for a field that may be null or absent. Unknown fields are
// ignored.
export const opt = (shape) => ({ optional: shape });

function decode(value, shape, url, where = "body") {
    const bad = (what) => {
        throw internal(`unexpected response from ${url}: ${what} at ${where}`);
    };
    if (shape && typeof shape === "object" && "optional" in shape) {
        return value === null || value === undefined ? null : decode(value, shape.optional, url, where);
    }
    if (typeof shape === "string" && shape.endsWith("?")) {
        return value === null || value === undefined ? null : decode(value, shape.slice(0, -1), url, where);
    }
    if (value === null || value === undefined) bad(`missing field \`${where.split(".").pop()}\``);
    if (Array.isArray(shape)) {
        if (!Array.isArray(value)) bad("expected a list");
        return value.map((item, i) => decode(item, shape[0], url, `${where}[${i}]`));
    }
    if (typeof shape === "object") {
        if (typeof value !== "object" || Array.isArray(value)) bad("expected an object");
        const out = {};
        for (const [field, fieldShape] of Object.entries(shape)) {
            out[field] = decode(value[field], fieldShape, url, `${where}.${field}`);
        }
        return out;
    }
    const int = (max, min = 0) => Number.isSafeInteger(value) && value >= min && value <= max;
    switch (shape) {
        case "string": if (typeof value !== "string") bad("expected a string"); break;
        case "u8": if (!int(255)) bad("expected an integer 0–255"); break;
        case "u32": if (!int(4294967295)) bad("expected an unsigned 32-bit integer"); break;
        case "i64": if (!int(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)) bad("expected an integer"); break;
        default: throw new TypeError(`unknown shape ${shape}`);
    }
    return value;
}

export const Money = { amount: "i64", currency: "string" };

export const Contact = {
    id: "string",
    first_name: "string",
    last_name: "string",
    phone: "string",
    email: "string?",
    language: "string?",
    tier: "string",
    company: "string?",
};

export const OrderSummary = { id: "string", placed_at: "string", status: "string", total: Money, item_count: "u32" };

export const Order = {
    id: "string",
    contact_id: "string",
    placed_at: "string",
    status: "string",
    lines: [{ sku: "string", name: "string", quantity: "u32", unit_price: Money, line_total: Money }],
    total: Money,
};

export const Delivery = {
    order_id: "string",
    status: "string",
    carrier: "string?",
    tracking: "string?",
    eta_earliest: "string?",
    eta_latest: "string?",
    updated_at: "string",
};

/** `stock` is units on hand (the ERP's `in_stock` is only a yes/no flag). */
export const Product = {
    sku: "string",
    name: "string",
    description: "string",
    category: "string",
    unit: "string",
    price: Money,
    stock: "u32",
};

export const Frequent = { product: Product, times_ordered: "u32", last_ordered: "string" };

export const Promotion = {
    id: "string",
    title: "string",
    description: "string",
    valid_until: "string",
    sku: "string?",
    discount_percent: "u8?",
};

export const Complaint = {
    id: "string",
    contact_id: "string",
    order_id: "string?",
    subject: "string",
    status: "string",
    opened_at: "string",
    updated_at: "string",
    last_note: "string?",
};

export const Answer = { answer: "string", source: "string?", score: "u32" };

export const Ticket = { id: "string", reference: "string?", message: "string" };

export const Transaction = {
    id: "string",
    summary: "string?",
    total: opt(Money),
    expires_at: "string?",
    reference: "string?",
    message: "string?",
};

/** The ERP's operation JSON (`"type"` names the case) for a WIT `operation`. */
export function operation(op) {
    const lines = (list) => list.map((l) => ({ sku: l.sku, quantity: l.quantity }));
    switch (op.tag) {
        case "create-order":
            return { type: "create_order", contact_id: op.val.contactId, lines: lines(op.val.lines) };
        case "modify-order":
            return { type: "modify_order", order_id: op.val.orderId, lines: lines(op.val.lines) };
        case "cancel-order":
            return { type: "cancel_order", order_id: op.val };
        case "repeat-order":
            return { type: "repeat_order", order_id: op.val };
        case "open-complaint":
            return {
                type: "open_complaint",
                contact_id: op.val.contactId,
                order_id: op.val.orderId ?? null,
                subject: op.val.subject,
                description: op.val.description,
            };
        default:
            throw invalid(`unknown operation \`${op.tag}\``);
    }
}

/** Length of a PCM WAV file from its header, when the header is the plain 44-byte one. */
export function wavDurationMs(data) {
    const ascii = (from, to) => String.fromCharCode(...data.subarray(from, to));
    if (data.length < 44 || ascii(0, 4) !== "RIFF" || ascii(8, 12) !== "WAVE") return null;
    const byteRate = (data[28] | (data[29] << 8) | (data[30] << 16) | (data[31] << 24)) >>> 0;
    if (byteRate === 0) return null;
    const ms = Math.floor(((data.length - 44) * 1000) / byteRate);
    return ms <= 0xffffffff ? ms : null;
}
