// voxgate's JavaScript plugin helpers: an idiomatic layer over the raw WIT bindings.
//
//   import { http, config, log, notFound } from "voxgate";
//
// Module code runs once at build time (componentize-qjs snapshots the evaluated module);
// host functions (config, log, http) only work inside exported functions.
import * as log from "./log.js";
import * as random from "./random.js";

export * as http from "./http.js";
export * as config from "./config.js";
export { log, random };
export { VoxgateError, notFound, invalid, unavailable, conflict, denied, internal } from "./errors.js";
export { HttpError, Response, encode } from "./http.js";
export { money, moneyText } from "./money.js";
export { utf8Decode, utf8Encode } from "./text.js";

// The QuickJS runtime has no console; plugin code and libraries expect one, and voxgate's
// log is where its lines belong.
if (typeof globalThis.console === "undefined") {
    globalThis.console = {
        trace: log.trace,
        debug: log.debug,
        log: log.info,
        info: log.info,
        warn: log.warn,
        error: log.error,
    };
}

// Math.random's state is frozen into the build (see random.js): draw from the host instead.
Math.random = random.float;
if (typeof globalThis.crypto === "undefined") {
    globalThis.crypto = { getRandomValues: random.fill, randomUUID: random.uuid };
}
