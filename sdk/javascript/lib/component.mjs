// Reads and rewrites the top-level import names of a WebAssembly component binary
// (component-model binary format: preamble, then sections of id, u32 size, contents;
// imports are section 10). Everything else is copied byte for byte.

const IMPORT_SECTION = 10;

function readU32(bytes, at) {
    let value = 0;
    let shift = 0;
    for (;;) {
        const b = bytes[at++];
        if (b === undefined) throw new Error("truncated LEB128");
        value += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) return [value, at];
        shift += 7;
        if (shift > 28) throw new Error("LEB128 too long for u32");
    }
}

function writeU32(value) {
    const out = [];
    do {
        let b = value & 0x7f;
        value = Math.floor(value / 128);
        if (value > 0) b |= 0x80;
        out.push(b);
    } while (value > 0);
    return Uint8Array.from(out);
}

// Skips one externdesc and returns where the next import starts.
function skipExternDesc(bytes, at) {
    const kind = bytes[at++];
    switch (kind) {
        case 0x00: // core module: 0x11 and a core type index
            return readU32(bytes, at + 1)[1];
        case 0x01: // func
        case 0x04: // component
        case 0x05: // instance
            return readU32(bytes, at)[1];
        case 0x02: // value: a bound tag, then an index or a one-byte primitive type
            return readU32(bytes, at + 1)[1];
        case 0x03: // type: `eq` with an index, or `sub resource`
            return bytes[at] === 0x00 ? readU32(bytes, at + 1)[1] : at + 1;
        default:
            throw new Error(`unknown externdesc kind 0x${kind.toString(16)}`);
    }
}

function* sections(bytes) {
    if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
        throw new Error("not a WebAssembly binary");
    }
    if (bytes[6] !== 0x01 || bytes[7] !== 0x00) throw new Error("not a component (a core module?)");
    let at = 8;
    while (at < bytes.length) {
        const id = bytes[at];
        const [size, start] = readU32(bytes, at + 1);
        yield { id, header: bytes.subarray(at, start), body: bytes.subarray(start, start + size) };
        at = start + size;
    }
}

function* imports(body) {
    const decoder = new TextDecoder();
    let [count, at] = readU32(body, 0);
    for (let i = 0; i < count; i++) {
        if (body[at] !== 0x00) throw new Error(`import name form 0x${body[at].toString(16)} is not supported`);
        const [length, nameAt] = readU32(body, at + 1);
        const name = decoder.decode(body.subarray(nameAt, nameAt + length));
        const descAt = nameAt + length;
        const end = skipExternDesc(body, descAt);
        yield { name, desc: body.subarray(descAt, end) };
        at = end;
    }
    if (at !== body.length) throw new Error("import section has trailing bytes");
}

/** The names of a component's top-level imports. */
export function importNames(bytes) {
    const names = [];
    for (const s of sections(bytes)) {
        if (s.id === IMPORT_SECTION) for (const i of imports(s.body)) names.push(i.name);
    }
    return names;
}

/**
 * A copy of the component with top-level imports renamed per `map` (old → new name).
 * Every name in the map must be imported, and no new name may already be imported.
 */
export function renameImports(bytes, map) {
    const existing = new Set(importNames(bytes));
    for (const [from, to] of map) {
        if (!existing.has(from)) throw new Error(`the component does not import ${from}`);
        if (existing.has(to)) throw new Error(`the component already imports ${to}`);
    }
    const encoder = new TextEncoder();
    const parts = [bytes.subarray(0, 8)];
    for (const s of sections(bytes)) {
        if (s.id !== IMPORT_SECTION) {
            parts.push(s.header, s.body);
            continue;
        }
        const entries = [...imports(s.body)];
        const body = [writeU32(entries.length)];
        for (const { name, desc } of entries) {
            const encoded = encoder.encode(map.get(name) ?? name);
            body.push(Uint8Array.of(0x00), writeU32(encoded.length), encoded, desc);
        }
        const length = body.reduce((n, p) => n + p.length, 0);
        parts.push(Uint8Array.of(IMPORT_SECTION), writeU32(length), ...body);
    }
    return Buffer.concat(parts);
}
