// demo-shop in JavaScript: the same integration as the Rust reference plugin
// (plugins/demo-shop). It serves every voxgate interface for the fictional "Kvarner Home &
// Garden" shop by calling the shop's ERP over HTTP.
//
// Settings: `erp-base-url` (required, e.g. http://127.0.0.1:8700); secret `erp-api-key`
// (optional, sent as a bearer token). Build: plugins/javascript/demo-shop/build.
import { internal, invalid } from "voxgate";
import * as erp from "./erp.js";

const { encode } = erp;

const money = (m) => ({ amount: m.amount, currency: m.currency });

const TIERS = { vip: "vip", preferred: "preferred" };

function contact(c) {
    return {
        id: c.id,
        firstName: c.first_name,
        lastName: c.last_name,
        phone: c.phone,
        email: c.email,
        language: c.language,
        tier: TIERS[c.tier] ?? "standard",
        company: c.company,
    };
}

function product(p) {
    return {
        sku: p.sku,
        name: p.name,
        description: p.description,
        category: p.category,
        unit: p.unit,
        price: money(p.price),
        inStock: p.stock,
    };
}

// ERP status strings (snake_case) to WIT enum cases (kebab-case); anything else is the
// ERP's mistake, reported rather than guessed.
function status(what, known, value) {
    const kebab = value.replaceAll("_", "-");
    if (!known.includes(kebab) || value.includes("-")) throw internal(`ERP sent unknown ${what} status \`${value}\``);
    return kebab;
}

const ORDER_STATUSES = ["pending", "confirmed", "processing", "shipped", "out-for-delivery", "delivered", "cancelled", "returned"];
const DELIVERY_STATUSES = ["not-shipped", "in-transit", "out-for-delivery", "delivered", "exception"];
const COMPLAINT_STATUSES = ["open", "in-progress", "waiting-for-customer", "resolved", "closed"];

function complaint(c) {
    return {
        id: c.id,
        contactId: c.contact_id,
        orderId: c.order_id,
        subject: c.subject,
        status: status("complaint", COMPLAINT_STATUSES, c.status),
        openedAt: c.opened_at,
        updatedAt: c.updated_at,
        lastNote: c.last_note,
    };
}

export const contacts = {
    lookupByPhone(_ctx, phone) {
        return contact(erp.connect().get(`/contacts/by-phone/${encode(phone)}`, erp.Contact));
    },
};

export const orders = {
    listRecent(_ctx, contactId, limit) {
        const list = erp.connect().get(`/contacts/${encode(contactId)}/orders?limit=${limit}`, [erp.OrderSummary]);
        return list.map((o) => ({
            id: o.id,
            placedAt: o.placed_at,
            status: status("order", ORDER_STATUSES, o.status),
            total: money(o.total),
            itemCount: o.item_count,
        }));
    },

    get(_ctx, orderId) {
        const o = erp.connect().get(`/orders/${encode(orderId)}`, erp.Order);
        return {
            id: o.id,
            contactId: o.contact_id,
            placedAt: o.placed_at,
            status: status("order", ORDER_STATUSES, o.status),
            lines: o.lines.map((l) => ({
                sku: l.sku,
                name: l.name,
                quantity: l.quantity,
                unitPrice: money(l.unit_price),
                lineTotal: money(l.line_total),
            })),
            total: money(o.total),
        };
    },
};

export const products = {
    search(_ctx, query, limit) {
        return erp.connect().get(`/products?q=${encode(query)}&limit=${limit}`, [erp.Product]).map(product);
    },

    frequent(_ctx, contactId, limit) {
        const list = erp.connect().get(`/contacts/${encode(contactId)}/frequent?limit=${limit}`, [erp.Frequent]);
        return list.map((f) => ({ product: product(f.product), timesOrdered: f.times_ordered, lastOrdered: f.last_ordered }));
    },

    recommend(_ctx, contactId, limit) {
        return erp.connect().get(`/contacts/${encode(contactId)}/recommendations?limit=${limit}`, [erp.Product]).map(product);
    },

    promotions(_ctx, contactId) {
        const path = contactId === null || contactId === undefined ? "/promotions" : `/promotions?contact_id=${encode(contactId)}`;
        return erp.connect().get(path, [erp.Promotion]).map((p) => ({
            id: p.id,
            title: p.title,
            description: p.description,
            validUntil: p.valid_until,
            sku: p.sku,
            discountPercent: p.discount_percent,
        }));
    },
};

export const transactions = {
    prepare(ctx, op) {
        const key = ctx.idempotencyKey;
        if (!key) throw invalid("prepare needs an idempotency key in the call context");
        const t = erp.connect().post("/transactions", { idempotency_key: key, operation: erp.operation(op) }, erp.Transaction);
        return {
            transactionId: t.id,
            summary: t.summary ?? "",
            total: t.total === null ? null : money(t.total),
            expiresAt: t.expires_at ?? "",
        };
    },

    commit(_ctx, transactionId) {
        const t = erp.connect().post(`/transactions/${encode(transactionId)}/commit`, {}, erp.Transaction);
        return { transactionId: t.id, reference: t.reference ?? "", message: t.message ?? "committed" };
    },

    abort(_ctx, transactionId) {
        erp.connect().post(`/transactions/${encode(transactionId)}/abort`, {}, erp.Transaction);
    },
};

export const delivery = {
    eta(_ctx, orderId) {
        const d = erp.connect().get(`/deliveries/by-order/${encode(orderId)}`, erp.Delivery);
        return {
            orderId: d.order_id,
            status: status("delivery", DELIVERY_STATUSES, d.status),
            carrier: d.carrier,
            trackingNumber: d.tracking,
            etaEarliest: d.eta_earliest,
            etaLatest: d.eta_latest,
            updatedAt: d.updated_at,
        };
    },
};

export const complaints = {
    listOpen(_ctx, contactId) {
        return erp.connect().get(`/contacts/${encode(contactId)}/complaints?status=open`, [erp.Complaint]).map(complaint);
    },

    get(_ctx, complaintId) {
        return complaint(erp.connect().get(`/complaints/${encode(complaintId)}`, erp.Complaint));
    },
};

export const knowledge = {
    answer(_ctx, question) {
        const a = erp.connect().get(`/knowledge?q=${encode(question)}`, erp.Answer);
        return { text: a.answer, source: a.source, confidence: Math.min(a.score, 100) };
    },
};

export const escalation = {
    openTicket(_ctx, request) {
        const body = {
            channel: request.channel,
            contact_id: request.contactId ?? null,
            phone: request.phone,
            subject: request.subject,
            body: request.body,
            priority: request.priority,
        };
        const t = erp.connect().post("/tickets", body, erp.Ticket);
        return { id: t.id, channel: request.channel, reference: t.reference, message: t.message };
    },
};

export const recordings = {
    fetch(_ctx, reference) {
        const response = erp.connect().getRaw(`/recordings/${encode(reference)}`);
        return {
            contentType: response.header("content-type") ?? "audio/wav",
            data: response.body,
            durationMs: erp.wavDurationMs(response.body),
        };
    },
};
