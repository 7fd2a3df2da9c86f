"""A voxgate plugin template in Python: `contacts` from a CRM's REST API.

Replace the request and the field mapping with your CRM's. Settings the operator gives
your tenant: `crm-base-url` (required) and the secret `crm-api-key` (optional).
Build: `./build` (see ../README.md).
"""

from wit_world import exports
from wit_world.exports.contacts import Contact, Tier

from voxgate import config, http, log

TIERS = {"vip": Tier.VIP, "preferred": Tier.PREFERRED}


class Contacts(exports.Contacts):
    def lookup_by_phone(self, ctx, phone):
        base = config.require("crm-base-url").rstrip("/")
        # A failed request raises an error voxgate understands: HTTP 404 is `not-found`
        # (a new caller), an unreachable CRM `unavailable`, a host the tenant has not
        # allowed `denied`.
        found = http.get(f"{base}/contacts/by-phone/{http.encode(phone)}",
                         bearer=config.secret("crm-api-key")).raise_for_status().json()
        log.debug(f"call {ctx.call_id}: found contact {found['id']}")
        return Contact(
            id=found["id"],
            first_name=found["first_name"],
            last_name=found["last_name"],
            phone=found["phone"],
            email=found.get("email"),
            language=found.get("language"),
            tier=TIERS.get(found.get("tier"), Tier.STANDARD),
            company=found.get("company"),
        )
