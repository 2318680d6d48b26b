// node/API.md is generated (tools/gen-reference.mjs) and current, and shows every public method
// and getter of every class the package exports under that class's heading.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

test("API.md is current (gen-reference --check)", () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "tools", "gen-reference.mjs"), "--check"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

test("API.md shows every public method of every exported class", () => {
  const ref = fs.readFileSync(path.join(ROOT, "API.md"), "utf8");
  const section = (name) => {
    const start = ref.indexOf(`### class \`${name}\``);
    if (start < 0) return null;
    const next = ["\n### ", "\n## "].map((h) => ref.indexOf(h, start + 1)).filter((i) => i >= 0);
    return ref.slice(start, next.length ? Math.min(...next) : ref.length);
  };
  const entries = ["index.ts", "local.ts", "hooks.ts"].map((f) => path.join(ROOT, "src", f));
  const program = ts.createProgram(entries, { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const missing = [];
  const seen = new Set();
  for (const entry of entries) {
    for (let sym of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)))) {
      if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
      const decl = (sym.getDeclarations() ?? []).find(ts.isClassDeclaration);
      if (!decl || seen.has(decl)) continue;
      seen.add(decl);
      const body = section(sym.getName());
      if (body === null) {
        missing.push(`class ${sym.getName()}`);
        continue;
      }
      for (const m of decl.members) {
        const flags = ts.getCombinedModifierFlags(m);
        const internal = ts.getJSDocTags(m).some((t) => t.tagName.text === "internal");
        if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || internal || !m.name || ts.isPrivateIdentifier(m.name)) continue;
        const n = m.name.getText();
        const esc = n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        if (ts.isMethodDeclaration(m) && !new RegExp(`\`(static )?(async )?${esc}(<[^(]*>)?\\(`).test(body)) missing.push(`${sym.getName()}.${n}()`);
        if (ts.isGetAccessorDeclaration(m) && !body.includes(`\`get ${n}:`)) missing.push(`${sym.getName()}.${n} (getter)`);
      }
    }
  }
  assert.ok(seen.size >= 20, `only ${seen.size} exported classes found`);
  assert.deepEqual(missing, [], `missing from API.md: ${missing.join(", ")}`);
});
