// Shared helpers of the golden scripts: JSON form of decoded messages and the comparison
// rules (both sides write every field; empty lists/maps/bytes/strings compare equal to null).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const { PbCoder } = require("@openim/protocol");

// Fields that exist only in the JS package (closed-source encryption build / newer schema);
// the open-source server and openim-protocol ignore them.
export const JS_ONLY_KEYS = new Set(["keyVersion", "dstUserIDs", "displayIsRead"]);

export function toJson(value) {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = v === undefined ? null : toJson(v);
    return out;
  }
  return value === undefined ? null : value;
}

function isEmpty(v) {
  return (
    v === null ||
    v === undefined ||
    v === "" ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)
  );
}

function isDefault(v) {
  return isEmpty(v) || v === 0 || v === false;
}

// Compares `actual` (decoded here) with `expected` (written by the other implementation);
// pushes human-readable differences into `diffs`.
export function compare(actual, expected, path, diffs) {
  if (isEmpty(actual) && isEmpty(expected)) return;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) {
      diffs.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      return;
    }
    expected.forEach((e, i) => compare(actual[i], e, `${path}[${i}]`, diffs));
    return;
  }
  if (expected && typeof expected === "object" && actual && typeof actual === "object") {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const k of keys) {
      const inA = k in actual;
      const inE = k in expected;
      if (inA && inE) compare(actual[k], expected[k], `${path}.${k}`, diffs);
      else if (JS_ONLY_KEYS.has(k)) continue;
      else if (!isDefault(inA ? actual[k] : expected[k]))
        diffs.push(`${path}.${k}: present on one side only (${JSON.stringify(inA ? actual[k] : expected[k])})`);
    }
    return;
  }
  if (actual !== expected) diffs.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// A complete message of `type` with every field at its default, overridden by `fields`.
export function make(type, fields = {}) {
  const coder = PbCoder[type];
  if (!coder) throw new Error(`@openim/protocol has no coder for ${type}`);
  return Object.assign(coder.decode(new Uint8Array()), fields);
}
