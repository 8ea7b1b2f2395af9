// Files for the SDK's upload path under Node. The SDK reads each part of a File
// with the browser's FileReader (readAsArrayBuffer + onload), which Node lacks;
// `installFileReader()` adds a minimal one built on Blob.arrayBuffer(). Opt-in:
// only scenarios that upload call it.

export function installFileReader() {
  if (typeof globalThis.FileReader !== 'undefined') return;
  globalThis.FileReader = class FileReader {
    constructor() {
      this.result = null;
      this.onload = null;
      this.onerror = null;
    }
    readAsArrayBuffer(blob) {
      blob.arrayBuffer().then(
        (buf) => {
          this.result = buf;
          if (this.onload) this.onload({ target: this });
        },
        (err) => {
          if (this.onerror) this.onerror(err);
        },
      );
    }
  };
}

/** `n` bytes of a repeatable pattern (distinct per `seed`). */
export function patternBytes(n, seed = 1) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The bytes at `url` (the sandbox serves stored objects without a token). */
export async function download(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
