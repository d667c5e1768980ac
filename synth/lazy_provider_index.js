// Loaded into jsii's Node process with `--require` (synth/providers.py `set_node_options`):
// a prebuilt cdktf provider's JavaScript index requires only the submodules a stack uses.
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

module.exports = { lazy, PROVIDER_INDEX };
