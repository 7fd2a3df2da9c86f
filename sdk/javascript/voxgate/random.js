// Randomness from the host (wasi:random), fresh in every call.
//
// The QuickJS engine's own Math.random is seeded once at build time and the seeded state
// is part of the snapshot, so without this every call would see the same "random"
// numbers. Nothing is buffered for the same reason: bytes fetched at build time would be
// replayed by every instance.
import random from "voxgate-wasi:random/random";

/** `n` cryptographically secure random bytes. */
export function bytes(n) {
    return random.getRandomBytes(n);
}

/** A float in [0, 1) from 53 random bits, like Math.random. */
export function float() {
    const b = bytes(7);
    let v = b[0] & 0x1f;
    for (let i = 1; i < 7; i++) v = v * 256 + b[i];
    return v / 2 ** 53;
}

/** Fills an integer typed array with random bytes, like crypto.getRandomValues. */
export function fill(array) {
    if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
        throw new TypeError("getRandomValues needs an integer typed array");
    }
    if (array.byteLength > 65536) throw new RangeError("getRandomValues fills at most 65536 bytes");
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes(array.byteLength));
    return array;
}

/** A random UUID (version 4), like crypto.randomUUID. */
export function uuid() {
    const b = bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
