// Loaded into jsii's Node process with `--require` (synth/providers.py `set_node_options`):
// a prebuilt cdktf provider's JavaScript index requires only the submodules a stack uses, and
// jsii reads each type's definition by its byte range (the second half of this file).
//
// Why: `lib/index.js` of @cdktf/provider-* is one `exports.<name> = require("./<dir>");` line
// per resource type (1,527 for azurerm, 2,212 for aws; 185 MB of JavaScript for azurerm), and
// jsii's kernel requires the package when Python loads its assembly. Requiring all of them was
// most of a stack's start-up (load_provider: 1.8-3.1 s eagerly, 0.5 s with this; make bench,
// issue 13).
// The generated index is the same file with each such line turned into a getter that requires
// the submodule on first use and then keeps it as a plain value. jsii's kernel reaches a type
// through these properties (`closure.<submodule>.<Type>`), so it requires what Python creates
// and nothing else. This is the JavaScript half of what synth/providers.py does to the
// package's Python `__init__.py`; the synthesized JSON is byte-identical to an eager load
// (tests/synth/test_providers.py, every cloud and environment).
//
// It uses Node's synchronous module hooks (`module.registerHooks`, Node 22.15 and later; the
// project's Node is 22, package.json). A Node without them, or an index of another layout,
// is loaded unchanged: slower, same output. Nothing outside @cdktf/provider-*/lib/index.js is
// touched.
"use strict";

const { registerHooks } = require("node:module");

// The package's own index (jsii links packages under node_modules/ in its kernel folder).
const PROVIDER_INDEX = /\/node_modules\/@cdktf\/provider-[a-z0-9-]+\/lib\/index\.js$/;
// One generated submodule line: exports.<identifier> = require("./<relative path>");
const SUBMODULE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[^"\\]+)"\);$/gm;

function lazy(source) {
  return source.replace(SUBMODULE, (_, name, path) => {
    const key = JSON.stringify(name);
    const target = JSON.stringify(path);
    return (
      `Object.defineProperty(exports, ${key}, { enumerable: true, configurable: true, ` +
      `get() { const value = require(${target}); Object.defineProperty(exports, ${key}, ` +
      `{ value, enumerable: true, writable: true, configurable: true }); return value; } });`
    );
  });
}

if (typeof registerHooks === "function") {
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (PROVIDER_INDEX.test(url) && result.source != null) {
        return { ...result, source: lazy(String(result.source)) };
      }
      return result;
    },
  });
}

// jsii's type definitions, read by the byte range of each type instead of whole.
//
// jsii 1.142's kernel indexes an assembly's types at install (.jsii.runtime-index.*) and keeps
// each type's JSON on one line of `.jsii.runtime-defs.v1.jsonl`, at offsets the index gives.
// Its `LazyTypes.get` (jsii/_embedded/jsii/lib__program.js) reads that whole file with
// `fs.readFileSync(path)` on the first type it needs, keeps the Buffer, and only ever reads
// one type's range of it back (`buffer.toString("utf-8", start, end)`). For the providers that
// is 22 MB (azurerm), 26 MB (google) and 35 MB (aws) held outside V8's heap, for the few
// hundred types a stack uses: the largest part of the kernel's memory left at `make synth`'s
// peak after the lazy index (issue 13). Here that call gets a reader of the same file that
// answers `toString(encoding, start, end)` with a positioned read of those bytes. It is not a
// Buffer: a jsii that used the file another way would stop working rather than read other
// bytes, and every synthesis of the test suite goes through it (the byte-identity proof in
// tests/synth/test_providers.py compares with a plain run, which loads without this file).
// Other files, and calls with options, go to Node's own function.
const fs = require("node:fs");

const DEFS_FILE = /\/\.jsii\.runtime-defs\.v1\.jsonl$/;

class RangedFile {
  constructor(path) {
    this.fd = fs.openSync(path, "r"); // kept open for the process's life, as the Buffer was
  }

  toString(encoding, start, end) {
    const bytes = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < bytes.length) {
      const read = fs.readSync(this.fd, bytes, done, bytes.length - done, start + done);
      if (read === 0) throw new Error(`jsii type definitions: the file ended at ${start + done}`);
      done += read;
    }
    return bytes.toString(encoding);
  }
}

const readFileSync = fs.readFileSync;
fs.readFileSync = function readFileSyncByRange(path, options) {
  if (arguments.length === 1 && typeof path === "string" && DEFS_FILE.test(path)) {
    return new RangedFile(path);
  }
  return readFileSync.apply(this, arguments);
};

module.exports = { lazy, PROVIDER_INDEX, RangedFile, DEFS_FILE };
