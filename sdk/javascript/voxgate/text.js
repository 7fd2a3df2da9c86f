// Text helpers. UTF-8 by hand: the QuickJS runtime has no TextEncoder/TextDecoder.

/** @param {string} s @returns {Uint8Array} */
export function utf8Encode(s) {
    const out = [];
    for (const ch of String(s)) {
        let c = ch.codePointAt(0);
        // A lone surrogate cannot be encoded; U+FFFD is what TextEncoder writes too.
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    }
    return Uint8Array.from(out);
}

/**
 * Decodes UTF-8; malformed sequences become U+FFFD (lossy, like TextDecoder).
 * @param {Uint8Array} bytes @returns {string}
 */
export function utf8Decode(bytes) {
    let out = "";
    let i = 0;
    const n = bytes.length;
    const cont = (k) => i + k < n && (bytes[i + k] & 0xc0) === 0x80;
    while (i < n) {
        const b = bytes[i];
        let c = 0xfffd;
        let len = 1;
        if (b < 0x80) {
            c = b;
        } else if (b >= 0xc2 && b < 0xe0 && cont(1)) {
            c = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
            len = 2;
        } else if (b >= 0xe0 && b < 0xf0 && cont(1) && cont(2)) {
            const v = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
            if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
                c = v;
                len = 3;
            }
        } else if (b >= 0xf0 && b < 0xf5 && cont(1) && cont(2) && cont(3)) {
            const v = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
            if (v >= 0x10000 && v <= 0x10ffff) {
                c = v;
                len = 4;
            }
        }
        out += String.fromCodePoint(c);
        i += len;
    }
    return out;
}

/** Percent-encodes a value for a URL path segment or query value (RFC 3986 unreserved kept). */
export function encode(value) {
    let out = "";
    for (const b of utf8Encode(String(value))) {
        const keep = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
            || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
        out += keep ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return out;
}
