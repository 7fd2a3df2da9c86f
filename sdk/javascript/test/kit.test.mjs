// Unit tests of the kit's pure parts: `node --test sdk/javascript/test/`. The rest (HTTP,
// settings, errors crossing into WIT) needs the engine and is covered by building the
// demo-shop plugin and running the conformance suite against it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importNames, renameImports } from "../lib/component.mjs";
import { moneyText } from "../voxgate/money.js";
import { encode, utf8Decode, utf8Encode } from "../voxgate/text.js";
import { VoxgateError, notFound } from "../voxgate/errors.js";

// (component (import "wasi:io/poll" (type (sub resource))) (import "x" (type (sub resource))))
function component(...names) {
    const body = [names.length];
    for (const n of names) body.push(0x00, n.length, ...Buffer.from(n), 0x03, 0x01);
    return Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 10, body.length, ...body]);
}

test("renames imports and keeps the rest", () => {
    const before = component("voxgate-wasi:io/poll", "x");
    assert.deepEqual(importNames(before), ["voxgate-wasi:io/poll", "x"]);
    const after = renameImports(before, new Map([["voxgate-wasi:io/poll", "wasi:io/poll@0.2.0"]]));
    assert.deepEqual(importNames(after), ["wasi:io/poll@0.2.0", "x"]);
    assert.deepEqual(importNames(renameImports(after, new Map())), ["wasi:io/poll@0.2.0", "x"]);
});

test("refuses a rename onto an existing import or of a missing one", () => {
    const c = component("a", "b");
    assert.throws(() => renameImports(c, new Map([["a", "b"]])), /already imports b/);
    assert.throws(() => renameImports(c, new Map([["z", "y"]])), /does not import z/);
    assert.throws(() => importNames(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])), /core module/);
});

test("UTF-8 round trip, and lossy decoding of bad bytes", () => {
    for (const s of ["", "plain", "Kovačić", "Größe", "日本", "🌱 garden"]) {
        assert.equal(utf8Decode(utf8Encode(s)), s);
        assert.deepEqual([...utf8Encode(s)], [...Buffer.from(s, "utf8")]);
    }
    assert.equal(utf8Decode(Uint8Array.of(0x61, 0xff, 0x62, 0xc3)), "a\ufffdb\ufffd");
});

test("percent-encoding keeps only unreserved characters", () => {
    assert.equal(encode("+44 20"), "%2B44%2020");
    assert.equal(encode("a-b_c.d~e"), "a-b_c.d~e");
    assert.equal(encode("č/?&='!"), "%C4%8D%2F%3F%26%3D%27%21");
});

test("money text", () => {
    assert.equal(moneyText({ amount: 6497, currency: "EUR" }), "64.97 EUR");
    assert.equal(moneyText({ amount: -5, currency: "USD" }), "-0.05 USD");
});

test("errors carry the WIT variant", () => {
    const e = notFound("no such order");
    assert.ok(e instanceof VoxgateError && e instanceof Error);
    assert.deepEqual(e.payload, { tag: "not-found", val: "no such order" });
    assert.throws(() => new VoxgateError("oops", "x"), /unknown voxgate error kind/);
});
