// Decodes samples written by openim-protocol (Rust) with the official @openim/protocol
// decoders and compares every field with the values Rust says it encoded.
// Reads <dir>/manifest.json [{id, type, file, expected}]. Exit code 0 = all equal.
// Usage: node check.mjs <dir>
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PbCoder, compare, toJson } from "./common.mjs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node check.mjs <dir>");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
let failures = 0;
for (const { id, type, file, expected } of manifest) {
  const coder = PbCoder[type];
  if (!coder) {
    console.error(`${id}: no official decoder for ${type}`);
    failures++;
    continue;
  }
  let decoded;
  try {
    decoded = toJson(coder.decode(new Uint8Array(readFileSync(join(dir, file)))));
  } catch (e) {
    console.error(`${id}: official decoder failed: ${e}`);
    failures++;
    continue;
  }
  const diffs = [];
  compare(decoded, expected, id, diffs);
  if (diffs.length) {
    failures++;
    console.error(`${id} (${type}):\n  ${diffs.join("\n  ")}`);
  }
}
console.log(`checked ${manifest.length} samples, ${failures} failed`);
process.exit(failures ? 1 : 0);
