// A voxgate plugin template in JavaScript: `contacts` from a CRM's REST API, and
// `knowledge` from a small built-in FAQ. Replace both with your company's systems.
//
// Settings the operator gives your tenant: `crm-base-url` (required) and the secret
// `crm-api-key` (optional). Build (from a voxgate checkout):
//   sdk/javascript/build main.js -w contacts,knowledge -o my_plugin.wasm
import { config, encode, http, log, notFound } from "voxgate";

const TIERS = ["standard", "preferred", "vip"];

export const contacts = {
    lookupByPhone(ctx, phone) {
        const base = config.require("crm-base-url");
        const key = config.secret("crm-api-key");
        // getJson throws the error voxgate acts on: a 404 is `not-found`, an unreachable
        // CRM `unavailable`, a host the tenant does not allow `denied`.
        const found = http.getJson(`${base}/contacts/by-phone/${encode(phone)}`, { bearer: key });
        log.debug(`call ${ctx.callId}: found contact ${found.id}`);
        return {
            id: found.id,
            firstName: found.first_name,
            lastName: found.last_name,
            phone: found.phone,
            email: found.email ?? null,
            language: found.language ?? null,
            tier: TIERS.includes(found.tier) ? found.tier : "standard",
            company: null,
        };
    },
};

export const knowledge = {
    answer(_ctx, question) {
        const q = question.toLowerCase();
        let text;
        if (q.includes("open") || q.includes("hours")) {
            text = "We are open Monday to Friday from 8 to 18, and on Saturday from 9 to 13.";
        } else if (q.includes("return")) {
            text = "You can return any item within 30 days of delivery.";
        } else {
            throw notFound("no FAQ entry matches");
        }
        return { text, source: "template-faq", confidence: 80 };
    },
};
