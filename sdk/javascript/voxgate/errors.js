// The WIT `error` variant as JavaScript errors.
//
// componentize-qjs turns a thrown `Error` that carries a `payload` into the `err` side of
// the function's `result<T, error>`; anything else thrown traps the call. So a
// VoxgateError is an ordinary Error (stack, message, instanceof) whose payload is the
// variant `{tag, val}`.

const KINDS = ["not-found", "invalid", "unavailable", "conflict", "denied", "internal"];

export class VoxgateError extends Error {
    /**
     * @param {"not-found"|"invalid"|"unavailable"|"conflict"|"denied"|"internal"} kind
     * @param {string} message for logs and operators; never read to the caller
     */
    constructor(kind, message) {
        if (!KINDS.includes(kind)) {
            throw new TypeError(`unknown voxgate error kind \`${kind}\` (one of ${KINDS.join(", ")})`);
        }
        super(String(message));
        this.name = "VoxgateError";
        this.kind = kind;
        this.payload = { tag: kind, val: String(message) };
    }
}

/** The thing asked for does not exist (unknown phone number, order id, SKU …). */
export const notFound = (message) => new VoxgateError("not-found", message);
/** The request itself is wrong; asking again the same way will fail again. */
export const invalid = (message) => new VoxgateError("invalid", message);
/** The tenant's system cannot be reached right now; a retry later may succeed. */
export const unavailable = (message) => new VoxgateError("unavailable", message);
/** The request clashes with the current state (out of stock, already shipped). */
export const conflict = (message) => new VoxgateError("conflict", message);
/** The caller may not do this. */
export const denied = (message) => new VoxgateError("denied", message);
/** Anything else that went wrong. */
export const internal = (message) => new VoxgateError("internal", message);
