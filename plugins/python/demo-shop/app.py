"""demo-shop in Python: the same integration as the Rust reference plugin, serving every
voxgate interface for the fictional "Kvarner Home & Garden" shop by calling its ERP over
HTTP.

Settings: `erp-base-url` (required, e.g. `http://127.0.0.1:8700`); secret `erp-api-key`
(optional, sent as a bearer token).
"""

from wit_world import exports
from wit_world.exports.complaints import Complaint, ComplaintStatus
from wit_world.exports.contacts import Contact, Tier
from wit_world.exports.delivery import DeliveryEta, DeliveryStatus
from wit_world.exports.escalation import Channel, Priority, Ticket
from wit_world.exports.knowledge import FaqAnswer
from wit_world.exports.orders import Order, OrderLine, OrderStatus, OrderSummary
from wit_world.exports.products import FrequentItem, Product, Promotion
from wit_world.exports.recordings import Recording
from wit_world.exports import transactions as tx

from voxgate import Money, errors
from erp import Erp, encode, wav_duration_ms


class Contacts(exports.Contacts):
    def lookup_by_phone(self, ctx, phone):
        return _contact(Erp().get(f"/contacts/by-phone/{encode(phone)}"))


class Orders(exports.Orders):
    def list_recent(self, ctx, contact_id, limit):
        found = Erp().get(f"/contacts/{encode(contact_id)}/orders?limit={limit}")
        return [OrderSummary(id=o["id"], placed_at=o["placed_at"],
                             status=_order_status(o["status"]), total=_money(o["total"]),
                             item_count=o["item_count"])
                for o in found]

    def get(self, ctx, order_id):
        o = Erp().get(f"/orders/{encode(order_id)}")
        return Order(
            id=o["id"],
            contact_id=o["contact_id"],
            placed_at=o["placed_at"],
            status=_order_status(o["status"]),
            lines=[OrderLine(sku=l["sku"], name=l["name"], quantity=l["quantity"],
                             unit_price=_money(l["unit_price"]),
                             line_total=_money(l["line_total"]))
                   for l in o["lines"]],
            total=_money(o["total"]),
        )


class Products(exports.Products):
    def search(self, ctx, query, limit):
        return [_product(p) for p in Erp().get(f"/products?q={encode(query)}&limit={limit}")]

    def frequent(self, ctx, contact_id, limit):
        found = Erp().get(f"/contacts/{encode(contact_id)}/frequent?limit={limit}")
        return [FrequentItem(product=_product(f["product"]), times_ordered=f["times_ordered"],
                             last_ordered=f["last_ordered"])
                for f in found]

    def recommend(self, ctx, contact_id, limit):
        found = Erp().get(f"/contacts/{encode(contact_id)}/recommendations?limit={limit}")
        return [_product(p) for p in found]

    def promotions(self, ctx, contact_id):
        path = "/promotions" if contact_id is None else f"/promotions?contact_id={encode(contact_id)}"
        return [Promotion(id=p["id"], title=p["title"], description=p["description"],
                          valid_until=p["valid_until"], sku=p.get("sku"),
                          discount_percent=p.get("discount_percent"))
                for p in Erp().get(path)]


class Transactions(exports.Transactions):
    def prepare(self, ctx, op):
        if not ctx.idempotency_key:
            raise errors.invalid("prepare needs an idempotency key in the call context")
        t = Erp().post("/transactions",
                       {"idempotency_key": ctx.idempotency_key, "operation": _operation(op)})
        total = t.get("total")
        return tx.Prepared(transaction_id=t["id"], summary=t.get("summary") or "",
                           total=_money(total) if total is not None else None,
                           expires_at=t.get("expires_at") or "")

    def commit(self, ctx, transaction_id):
        t = Erp().post(f"/transactions/{encode(transaction_id)}/commit", {})
        message = t.get("message")
        return tx.Committed(transaction_id=t["id"], reference=t.get("reference") or "",
                            message="committed" if message is None else message)

    def abort(self, ctx, transaction_id):
        Erp().post(f"/transactions/{encode(transaction_id)}/abort", {})


class Delivery(exports.Delivery):
    def eta(self, ctx, order_id):
        d = Erp().get(f"/deliveries/by-order/{encode(order_id)}")
        return DeliveryEta(order_id=d["order_id"],
                           status=_enum(DeliveryStatus, d["status"], "delivery status"),
                           carrier=d.get("carrier"), tracking_number=d.get("tracking"),
                           eta_earliest=d.get("eta_earliest"), eta_latest=d.get("eta_latest"),
                           updated_at=d["updated_at"])


class Complaints(exports.Complaints):
    def list_open(self, ctx, contact_id):
        found = Erp().get(f"/contacts/{encode(contact_id)}/complaints?status=open")
        return [_complaint(c) for c in found]

    def get(self, ctx, complaint_id):
        return _complaint(Erp().get(f"/complaints/{encode(complaint_id)}"))


class Knowledge(exports.Knowledge):
    def answer(self, ctx, question):
        a = Erp().get(f"/knowledge?q={encode(question)}")
        return FaqAnswer(text=a["answer"], source=a.get("source"),
                         confidence=min(a["score"], 100))


class Escalation(exports.Escalation):
    def open_ticket(self, ctx, request):
        t = Erp().post("/tickets", {
            "channel": request.channel.name.lower(),
            "contact_id": request.contact_id,
            "phone": request.phone,
            "subject": request.subject,
            "body": request.body,
            "priority": request.priority.name.lower(),
        })
        return Ticket(id=t["id"], channel=request.channel, reference=t.get("reference"),
                      message=t["message"])


class Recordings(exports.Recordings):
    def fetch(self, ctx, reference):
        response = Erp().get_raw(f"/recordings/{encode(reference)}")
        return Recording(content_type=response.header("content-type") or "audio/wav",
                         data=response.body, duration_ms=wav_duration_ms(response.body))


def _money(m):
    return Money(amount=m["amount"], currency=m["currency"])


def _enum(enum, value, what):
    """The ERP's snake_case names are the WIT names; an unknown one is `internal`."""
    if value == value.lower() and value.upper() in enum.__members__:
        return enum[value.upper()]
    raise errors.internal(f"ERP sent unknown {what} `{value}`")


def _order_status(value):
    return _enum(OrderStatus, value, "order status")


def _contact(c):
    tier = {"vip": Tier.VIP, "preferred": Tier.PREFERRED}.get(c["tier"], Tier.STANDARD)
    return Contact(id=c["id"], first_name=c["first_name"], last_name=c["last_name"],
                   phone=c["phone"], email=c.get("email"), language=c.get("language"),
                   tier=tier, company=c.get("company"))


def _product(p):
    # The ERP's `in_stock` is only a yes/no flag; `stock` is the count.
    return Product(sku=p["sku"], name=p["name"], description=p["description"],
                   category=p["category"], unit=p["unit"], price=_money(p["price"]),
                   in_stock=p["stock"])


def _complaint(c):
    return Complaint(id=c["id"], contact_id=c["contact_id"], order_id=c.get("order_id"),
                     subject=c["subject"],
                     status=_enum(ComplaintStatus, c["status"], "complaint status"),
                     opened_at=c["opened_at"], updated_at=c["updated_at"],
                     last_note=c.get("last_note"))


def _lines(lines):
    return [{"sku": l.sku, "quantity": l.quantity} for l in lines]


def _operation(op):
    """The WIT variant as the ERP's tagged JSON (`"type": "create_order"` …)."""
    if isinstance(op, tx.Operation_CreateOrder):
        return {"type": "create_order", "contact_id": op.value.contact_id,
                "lines": _lines(op.value.lines)}
    if isinstance(op, tx.Operation_ModifyOrder):
        return {"type": "modify_order", "order_id": op.value.order_id,
                "lines": _lines(op.value.lines)}
    if isinstance(op, tx.Operation_CancelOrder):
        return {"type": "cancel_order", "order_id": op.value}
    if isinstance(op, tx.Operation_RepeatOrder):
        return {"type": "repeat_order", "order_id": op.value}
    c = op.value
    return {"type": "open_complaint", "contact_id": c.contact_id, "order_id": c.order_id,
            "subject": c.subject, "description": c.description}
