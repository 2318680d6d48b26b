// node/src/native.ts declares the addon's classes by hand (the package is built without
// @napi-rs/cli, whose generated .d.ts would do it: docs/architecture.md says why). This keeps the
// declarations true: every member an interface declares is on the addon's class, and every method
// the addon's class has is declared, read with the TypeScript compiler from the source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function declared() {
  const file = path.join(ROOT, "src", "native.ts");
  const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const out = new Map();
  for (const s of src.statements) {
    if (ts.isInterfaceDeclaration(s) && s.name.text.startsWith("Native")) {
      out.set(s.name.text, new Set(s.members.filter((m) => m.name).map((m) => m.name.getText(src))));
    }
  }
  return out;
}

test("native.ts declares what the addon's classes have, and only that", () => {
  const addon = require(require(path.join(ROOT, "dist", "cjs", "native.js")).addonPath());
  const interfaces = declared();
  let checked = 0;
  for (const [name, members] of interfaces) {
    const cls = addon[name];
    if (typeof cls !== "function") continue; // a plain object type (NativeDownload, NativeHostRequest)
    const actual = new Set(Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== "constructor"));
    for (const m of members) assert.ok(actual.has(m), `native.ts declares ${name}.${m}, which the addon's ${name} lacks`);
    for (const m of actual) assert.ok(members.has(m), `the addon's ${name} has ${m}, which native.ts does not declare`);
    checked++;
  }
  const classes = Object.entries(addon).filter(([k, v]) => k.startsWith("Native") && typeof v === "function").map(([k]) => k);
  for (const c of classes) assert.ok(interfaces.has(c), `the addon exports ${c}, which native.ts does not declare`);
  assert.ok(checked >= 10, `checked ${checked} classes`);
});
