// Money is integer minor units plus an ISO 4217 code. WIT's s64 arrives in JavaScript as
// a plain number, exact up to 2^53 minor units (90 trillion euros), so no BigInt.

/** `money(1999, "EUR")` is 19.99 euros. */
export function money(amount, currency) {
    if (!Number.isSafeInteger(amount)) throw new TypeError(`money amount must be an integer, got ${amount}`);
    return { amount, currency };
}

/** `19.99 EUR` (two decimals for every currency, JPY included). */
export function moneyText(m) {
    const sign = m.amount < 0 ? "-" : "";
    const abs = Math.abs(m.amount);
    return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")} ${m.currency}`;
}
