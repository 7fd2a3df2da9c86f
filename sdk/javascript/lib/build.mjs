// Builds a voxgate plugin component from JavaScript with componentize-qjs (QuickJS).
// Run through sdk/javascript/build; `--help` prints the usage.
//
// Why the detour through `voxgate-wasi:*`: componentize-qjs evaluates the JavaScript at
// build time inside Wasmtime (Wizer) and fills imports it does not know with trapping
// stubs. Its Wasmtime (47) cannot stub an interface that uses a resource of a WASI
// interface it implements for real, and wasi:http/types uses wasi:io's streams and
// pollables ("instance export `input-stream` has the wrong type: mismatched resource
// types"). So the build hands it copies of the WASI packages the helpers use (http, io,
// random) under the package names `voxgate-wasi:*`, and afterwards renames those imports
// in the finished component to the real `wasi:*` names. The types are the WASI ones,
// unchanged, so the host links them as ordinary WASI imports. Where the language runtime
// already imports an interface at the deps' version (it does wasi:io), the copy takes
// another 0.2 version (0.2.0); Wasmtime resolves every 0.2.x name to the host's one
// implementation, which makes their resources and the runtime's the same. The copies
// carry no version, so the helpers' import specifiers do not change when WASI does.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { renameImports, importNames } from "./component.mjs";

const KIT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = resolve(KIT, "..", "..");
const SHIM = "voxgate-wasi";

const USAGE = `usage: sdk/javascript/build ENTRY.js -w WORLD[,WORLD…] [-o OUT.wasm] [--root DIR] [--opt-size] [--keep]

  ENTRY.js     the plugin's main ES module; it exports one object per interface it serves
               (export const contacts = { lookupByPhone(ctx, phone) { … } })
  -w WORLD     what the plugin serves: plugin (everything), or a list of provider worlds,
               e.g. contacts-provider,knowledge-provider (the -provider suffix is optional)
  -o OUT       the component to write (default: ./plugin.wasm)
  --root DIR   the folder the plugin's modules live in (default: ENTRY's folder); its
               files are what relative and bare imports can reach
  --opt-size   embed QuickJS built for size instead of speed
  --keep       keep the staging folder (WIT, copied sources) and print where it is`;

class BuildError extends Error {}

function fail(message) {
    throw new BuildError(message);
}

function parseArgs(argv) {
    const args = { worlds: null, out: "plugin.wasm", root: null, optSize: false, keep: false, entry: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) fail(`${a} needs a value\n${USAGE}`);
            return argv[++i];
        };
        if (a === "-h" || a === "--help") {
            console.log(USAGE);
            process.exit(0);
        } else if (a === "-w" || a === "--world") args.worlds = value();
        else if (a === "-o" || a === "--out") args.out = value();
        else if (a === "--root") args.root = value();
        else if (a === "--opt-size") args.optSize = true;
        else if (a === "--keep") args.keep = true;
        else if (a.startsWith("-")) fail(`unknown option ${a}\n${USAGE}`);
        else if (args.entry === null) args.entry = a;
        else fail(`one entry file only (got ${args.entry} and ${a})\n${USAGE}`);
    }
    if (args.entry === null) fail(`no entry file\n${USAGE}`);
    if (args.worlds === null) fail(`say what the plugin serves with -w\n${USAGE}`);
    return args;
}

// The contract's version, its worlds (with the interfaces each exports) and each
// interface's functions, read from the WIT the host is built with.
function contract(deps) {
    const dir = join(deps, "voxgate-plugin");
    let version = null;
    const worlds = new Map();
    const functions = new Map();
    for (const file of readdirSync(dir)) {
        const text = readFileSync(join(dir, file), "utf8");
        version ??= text.match(/^package voxgate:plugin@([0-9.]+);/m)?.[1] ?? null;
        for (const [, name, body] of text.matchAll(/^interface ([a-z0-9-]+) \{([\s\S]*?)^\}/gm)) {
            functions.set(name, [...body.matchAll(/^\s*([a-z0-9-]+): func\(/gm)].map((m) => m[1]));
        }
        for (const [, name, body] of text.matchAll(/^world ([a-z0-9-]+) \{([\s\S]*?)^\}/gm)) {
            worlds.set(name, {
                exports: [...body.matchAll(/^\s*export ([a-z0-9-]+);/gm)].map((m) => m[1]),
                includes: [...body.matchAll(/^\s*include ([a-z0-9-]+);/gm)].map((m) => m[1]),
            });
        }
    }
    if (!version) fail(`no voxgate:plugin package in ${dir}`);
    const exportsOf = (w) => [...worlds.get(w).exports, ...worlds.get(w).includes.flatMap(exportsOf)];
    return { version, worlds: [...worlds.keys()], exportsOf, functions };
}

function packageVersion(file, name) {
    const v = readFileSync(file, "utf8").match(new RegExp(`^package ${name}@([0-9.]+);`, "m"))?.[1];
    if (!v) fail(`no ${name} package in ${file}`);
    return v;
}

// The WASI packages copied under the shim's name, and what the world imports from them.
const SHIMMED = ["io", "http", "random"];
const SHIM_IMPORTS = ["http/outgoing-handler", "random/random"];

// A copy of a WASI package under the shim's name. `@since`/`@deprecated` go because an
// unversioned package cannot carry them; they describe, they do not gate. `@unstable`
// gates and stays.
function shimPackage(text, pkg) {
    const shimmed = new RegExp(`wasi:(${SHIMMED.join("|")})/([a-z-]+)@\\d+\\.\\d+\\.\\d+`, "g");
    return text
        .replace(/^\s*@(since|deprecated)\(version = [0-9.]+\)\s*\n/gm, "")
        .replace(new RegExp(`^package wasi:${pkg}@[0-9.]+;`, "m"), `package ${SHIM}:${pkg};`)
        .replace(shimmed, `${SHIM}:$1/$2`);
}

function writeWit(stage, requested) {
    const wit = join(stage, "wit");
    const deps = join(wit, "deps");
    mkdirSync(wit, { recursive: true });
    execFileSync(join(REPO, "sdk", "wit-deps"), [deps], { stdio: ["ignore", "ignore", "inherit"] });
    const { version, worlds, exportsOf, functions } = contract(deps);
    const chosen = [];
    for (const w of requested.split(",").map((s) => s.trim()).filter(Boolean)) {
        const name = worlds.includes(w) ? w : `${w}-provider`;
        if (!worlds.includes(name)) fail(`unknown world \`${w}\`; voxgate:plugin@${version} has ${worlds.join(", ")}`);
        if (!chosen.includes(name)) chosen.push(name);
    }
    if (chosen.length === 0) fail("-w names no world");
    const versions = {};
    for (const pkg of SHIMMED) {
        const text = readFileSync(join(deps, `${pkg}.wit`), "utf8");
        versions[pkg] = packageVersion(join(deps, `${pkg}.wit`), `wasi:${pkg}`);
        writeFileSync(join(deps, `${SHIM}-${pkg}.wit`), shimPackage(text, pkg));
    }
    const lines = [
        ...chosen.map((w) => `    include voxgate:plugin/${w}@${version};`),
        ...SHIM_IMPORTS.map((i) => `    import ${SHIM}:${i};`),
    ];
    writeFileSync(join(wit, "world.wit"), `package voxgate:javascript-build;\n\nworld plugin {\n${lines.join("\n")}\n}\n`);
    const served = [...new Set(chosen.flatMap(exportsOf))];
    return { wit, chosen, versions, served, functions };
}

const camel = (kebab) => kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

// What the JavaScript can import: the project folder, and `voxgate` as a package beside
// it. Copies, not links: the module loader sees only this folder. The entry is a small
// module that re-exports the plugin's and first checks, in the engine itself at build
// time, that it exports every function of the chosen worlds (a missing one would only
// trap at call time) and no interface the worlds leave out (it would never be called).
function stageSources(stage, root, entry, wit) {
    const modules = join(stage, "root");
    const project = join(modules, "plugin");
    cpSync(root, project, {
        recursive: true,
        filter: (src) => {
            const name = basename(src);
            return name !== ".git" && !name.endsWith(".wasm");
        },
    });
    cpSync(join(KIT, "voxgate"), join(modules, "node_modules", "voxgate"), { recursive: true });
    const target = `./plugin/${relative(root, entry).split(sep).join("/")}`;
    const needed = Object.fromEntries(wit.served.map((i) => [camel(i), wit.functions.get(i).map(camel)]));
    const others = [...wit.functions.keys()].filter((i) => !wit.served.includes(i)).map(camel);
    const check = [
        `import * as plugin from ${JSON.stringify(target)};`,
        `const needed = ${JSON.stringify(needed)};`,
        `const others = ${JSON.stringify(others)};`,
        "const wrong = [];",
        "for (const [name, functions] of Object.entries(needed)) {",
        "    const object = plugin[name];",
        "    if (object === undefined || object === null) {",
        "        wrong.push('it exports no `' + name + '` (export const ' + name + ' = { ' + functions.join(', ') + ' })');",
        "        continue;",
        "    }",
        "    const missing = functions.filter((f) => typeof object[f] !== 'function');",
        "    if (missing.length > 0) wrong.push('`' + name + '` has no function ' + missing.join(', '));",
        "}",
        "for (const name of others) {",
        "    if (plugin[name] !== undefined) wrong.push('it exports `' + name + '`, which -w does not include, so voxgate would never call it');",
        "}",
        "if (wrong.length > 0) throw new Error('the plugin does not match -w: ' + wrong.join('; '));",
        `export * from ${JSON.stringify(target)};`,
        "",
    ].join("\n");
    const entryPath = join(modules, "voxgate-entry.js");
    writeFileSync(entryPath, check);
    return { moduleRoot: modules, jsPath: entryPath, jsSource: check };
}

// Real names for the shim's imports: the deps' version, or 0.2.0 where the runtime
// already imports the interface at that version.
function renames(component, versions) {
    const imported = new Set(importNames(component));
    const map = new Map();
    for (const name of imported) {
        const m = name.match(new RegExp(`^${SHIM}:([a-z-]+)/([a-z-]+)$`));
        if (!m) continue;
        const version = [versions[m[1]], "0.2.0"].find((v) => !imported.has(`wasi:${m[1]}/${m[2]}@${v}`));
        if (!version) fail(`the runtime already imports wasi:${m[1]}/${m[2]} at every version the build could use`);
        map.set(name, `wasi:${m[1]}/${m[2]}@${version}`);
    }
    return map;
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const entry = resolve(args.entry);
    if (!existsSync(entry) || !statSync(entry).isFile()) fail(`no such file: ${args.entry}`);
    const root = resolve(args.root ?? dirname(entry));
    if (!entry.startsWith(root + sep)) fail(`${args.entry} is not inside --root ${root}`);
    const modulesDir = join(KIT, "node_modules", "componentize-qjs");
    if (!existsSync(modulesDir)) fail("componentize-qjs is not installed; run sdk/javascript/setup");
    const { componentize } = await import(join(modulesDir, "index.js"));

    const started = Date.now();
    const stage = mkdtempSync(join(tmpdir(), "voxgate-js-"));
    try {
        const wit = writeWit(stage, args.worlds);
        const { moduleRoot, jsPath, jsSource } = stageSources(stage, root, entry, wit);
        let built;
        try {
            built = await componentize({
                witPath: wit.wit,
                jsSource,
                jsPath,
                moduleRoot,
                world: "plugin",
                // The host does not enable the component-model async ABI.
                sync: true,
                optSize: args.optSize,
            });
        } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            const early = message.match(/unknown import: `([^`]+)` has not been defined/);
            const hint = early
                ? `\n\nThe module's top-level code called ${early[1].replace(`${SHIM}:`, "wasi:")} while it was being built. ` +
                  "Module code runs once, at build time, where the host is not there: move calls to config, log, http, " +
                  "Math.random and crypto into the exported functions."
                : "";
            fail(`componentize-qjs failed:\n${message}${hint}`);
        }
        const component = renameImports(built.component, renames(built.component, wit.versions));
        const out = resolve(args.out);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, component);
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const shown = relative(process.cwd(), out).startsWith("..") ? out : relative(process.cwd(), out);
        console.log(`built ${shown} (${component.length} bytes, ${wit.chosen.join(" + ")}) in ${seconds} s`);
        if (args.keep) console.log(`staging kept in ${stage}`);
    } finally {
        if (!args.keep) rmSync(stage, { recursive: true, force: true });
    }
}

try {
    await main();
} catch (e) {
    if (!(e instanceof BuildError)) throw e;
    console.error(`build: ${e.message}`);
    process.exitCode = 2;
}
