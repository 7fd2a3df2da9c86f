//! The shop's FAQ, worded to be read aloud: short sentences, no lists, no links.

use crate::model::KnowledgeEntry;

const fn entry(
    id: &'static str,
    question: &'static str,
    answer: &'static str,
    keywords: &'static [&'static str],
) -> KnowledgeEntry {
    KnowledgeEntry {
        id,
        question,
        answer,
        keywords,
    }
}

/// Order matters only for ties: the more specific entry comes first.
pub const FAQ: &[KnowledgeEntry] = &[
    entry(
        "opening-hours",
        "When are you open?",
        "Our phone line and our showroom in Rijeka are open Monday to Friday from 8 in the \
         morning to 8 in the evening, and on Saturday from 8 to 2, Central European Time. We \
         are closed on Sundays and public holidays. The web shop is open around the clock.",
        &[
            "open", "opening", "hours", "close", "closed", "saturday", "sunday", "weekend",
            "holiday", "showroom", "today", "tomorrow",
        ],
    ),
    entry(
        "returns",
        "Can I return something?",
        "You can return any unused item within 30 days of delivery for a full refund. We send \
         you a prepaid return label by e-mail, and the refund goes back to your original \
         payment method within 5 working days of the item reaching us.",
        &[
            "return",
            "returns",
            "refund",
            "money back",
            "send back",
            "exchange",
            "unused",
            "bring back",
        ],
    ),
    entry(
        "shipping-costs",
        "How much does shipping cost?",
        "Shipping costs 4.99 EUR within Croatia, 6.99 EUR to Germany, 9.99 EUR to the United \
         Kingdom and 19.99 EUR to the United States. Orders over 50 EUR ship free within \
         Croatia and Germany.",
        &[
            "shipping",
            "cost",
            "costs",
            "price",
            "postage",
            "fee",
            "charge",
            "free",
            "expensive",
            "pay for delivery",
        ],
    ),
    entry(
        "delivery-times",
        "How long does delivery take?",
        "Delivery takes 1 to 2 working days within Croatia, 2 to 4 to Germany, 3 to 5 to the \
         United Kingdom and 5 to 8 to the United States. You get a tracking number by e-mail as \
         soon as your parcel leaves our warehouse.",
        &[
            "delivery", "take", "takes", "days", "arrive", "fast", "quick", "soon", "tracking",
            "wait",
        ],
    ),
    entry(
        "delivery-areas",
        "Where do you deliver?",
        "We deliver to Croatia, Germany, the United Kingdom and the United States. Because of \
         plant health rules we cannot send live plants, seeds or soil to the United Kingdom or \
         the United States.",
        &[
            "ship",
            "deliver",
            "where",
            "country",
            "countries",
            "germany",
            "croatia",
            "uk",
            "britain",
            "england",
            "usa",
            "america",
            "abroad",
            "international",
            "area",
            "areas",
        ],
    ),
    entry(
        "payment-methods",
        "How can I pay?",
        "We accept Visa, Mastercard, PayPal, Apple Pay and Google Pay, bank transfer in advance, \
         and cash on delivery within Croatia. Business customers can also pay by invoice within \
         14 days.",
        &[
            "pay",
            "payment",
            "payments",
            "card",
            "credit",
            "debit",
            "paypal",
            "invoice",
            "cash",
            "bank",
            "transfer",
            "visa",
            "mastercard",
            "apple",
            "google",
        ],
    ),
    entry(
        "warranty",
        "What warranty do I get?",
        "Every product has the two-year legal warranty. Our teak furniture has five years on the \
         frame. If something breaks, tell us the order number and we repair or replace it, \
         free of charge.",
        &[
            "warranty",
            "guarantee",
            "broken",
            "breaks",
            "defect",
            "defective",
            "repair",
            "faulty",
            "stopped working",
            "years",
        ],
    ),
    entry(
        "order-changes",
        "Can I change or cancel my order?",
        "You can change or cancel an order free of charge until it has been shipped. I can do \
         that for you right now on this call: just tell me the order number.",
        &[
            "change",
            "cancel",
            "cancellation",
            "modify",
            "amend",
            "edit",
            "add",
            "remove",
            "different quantity",
        ],
    ),
    entry(
        "click-and-collect",
        "Can I pick up my order myself?",
        "Yes. Choose click and collect at checkout and pick up your order free of charge at our \
         warehouse in Rijeka during opening hours, usually the next working day.",
        &[
            "collect",
            "pick",
            "pickup",
            "pick up",
            "myself",
            "warehouse",
            "rijeka",
            "store",
            "shop in person",
        ],
    ),
    entry(
        "damaged-parcel",
        "My parcel arrived damaged or incomplete. What now?",
        "I am sorry about that. Please keep the packaging and tell us within 14 days. We open a \
         complaint, and you get a replacement or a refund; you never pay for sending damaged \
         goods back.",
        &[
            "damaged",
            "damage",
            "broken",
            "missing",
            "wrong",
            "incomplete",
            "crushed",
            "parcel",
            "package",
        ],
    ),
    entry(
        "gift-vouchers",
        "Do you sell gift vouchers?",
        "Yes, gift vouchers from 10 to 500 EUR, sent by e-mail straight away or printed on a card \
         by post. They are valid for three years.",
        &[
            "gift",
            "voucher",
            "vouchers",
            "present",
            "coupon",
            "gift card",
        ],
    ),
];
