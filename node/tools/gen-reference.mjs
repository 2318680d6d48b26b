#!/usr/bin/env node
// Generates node/API.md, the API reference: every class, function, interface and type the package
// exports (from its entry points `aerostack`, `aerostack/local`, `aerostack/hooks`), with
// signatures as written in node/src/*.ts and the first paragraph of their JSDoc.
//
// Read with the TypeScript compiler API (nothing of src is executed). The operation-style `SDK`
// builds its operations at run time from the engine's table, so their names come from the addon
// (`restOperations()`). Run `node node/tools/gen-reference.mjs` after changing a public signature
// or doc comment; `--check` exits 1 when API.md is stale (node/test/reference.test.mjs runs it).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");
const OUT = path.join(ROOT, "API.md");
const ENTRIES = ["index.ts", "local.ts", "hooks.ts"];

// Sections by source file, in this order; an exported file not listed lands in "Other exports".
const SECTIONS = [
  ["client.ts", "AerostackClient and its namespaces",
    "`import { AerostackClient } from \"aerostack\"`. Every namespace method takes a last optional `CallOptions` " +
      "argument (`{ timeoutMs, retry, idempotencyKey, headers, signal }`); results are camelCase with times as `Date` " +
      "(their shapes are under Results)."],
  ["gateway-socket.ts", "The gateway's WebSocket", "`await client.gateway.connectWebSocket(apiSlug, { consumerKey })`: chat, events, close."],
  ["realtime.ts", "Realtime", "`client.realtime.channel(topic)` and `client.socket`."],
  ["transport.ts", "Call options and streams", "`Stream<T>` is what `listAll`, `jobsAll` and `chatStream` return: an async iterator (`for await`)."],
  ["hooks.ts", "Logic Modules and queue workers (aerostack/hooks)",
    "`import { serve } from \"aerostack/hooks\"`; the `sdk` argument of a handler is a `ScopedSdk`."],
  ["local.ts", "Local platform (aerostack/local)", "`import { LocalPlatform } from \"aerostack/local\"`."],
  ["sdk.ts", "Operation-style SDK (seed 002)",
    "`new SDK({ apiKeyAuth, serverURL })` / `createClient(...)`: the face of `@aerostack/sdk-node`. Every operation is " +
      "`op(request?: OperationRequest, options?: OperationOptions): Promise<any>`; `request.requestBody` uses the REST API's " +
      "field names and the result is the platform's JSON answer (wire shapes, not renamed)."],
  ["types.ts", "Results", "The shapes the client's calls resolve to: camelCase keys, times as `Date`, your own data (rows, `data`, `customFields`, ...) as stored."],
  ["errors.ts", "Errors", "Every failure rejects with an `AerostackError` subclass chosen by its family; `instanceof` and `err.code` both work."],
  ["log.ts", "Logging", ""],
];

// One line per signature; doc comments inside type literals are dropped (the member docs show them).
const norm = (s) => s.replace(/\/\*\*[\s\S]*?\*\//g, "").replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")").trim();

function firstParagraph(node) {
  const docs = ts.getJSDocCommentsAndTags(node).filter((d) => d.kind === ts.SyntaxKind.JSDoc);
  const doc = docs[docs.length - 1];
  if (!doc || !doc.comment) return "";
  const text = typeof doc.comment === "string" ? doc.comment : doc.comment.map((c) => c.text ?? c.getText()).join("");
  const para = [];
  for (const line of text.trim().split("\n")) {
    if (!line.trim()) break;
    para.push(line.trim());
  }
  return para.join(" ");
}

const isInternal = (node) => ts.getJSDocTags(node).some((t) => t.tagName.text === "internal");
const hasMod = (node, kind) => (ts.getCombinedModifierFlags(node) & kind) !== 0;
const isPublicMember = (m) =>
  !hasMod(m, ts.ModifierFlags.Private | ts.ModifierFlags.Protected) && !isInternal(m) &&
  !(m.name && ts.isPrivateIdentifier(m.name));

// Parameters as a caller writes them (no `private readonly` of parameter properties).
const params = (node) =>
  node.parameters
    .map((p) => norm(`${p.dotDotDotToken ? "..." : ""}${p.name.getText()}${p.questionToken ? "?" : ""}${p.type ? `: ${p.type.getText()}` : ""}${p.initializer ? ` = ${p.initializer.getText()}` : ""}`))
    .join(", ");
const typeParams = (node) => (node.typeParameters ? `<${node.typeParameters.map((t) => norm(t.getText())).join(", ")}>` : "");
const ret = (node) => (node.type ? `: ${norm(node.type.getText())}` : "");
const asyncKw = (node) => (hasMod(node, ts.ModifierFlags.Async) ? "async " : "");
const line = (sig, doc) => `- \`${sig}\`` + (doc ? `  \n  ${doc}` : "");

// Names the entry points export: an `extends` of an unexported helper class (`Ns`) is left out.
let PUBLIC = new Set();
function heritage(node) {
  return (node.heritageClauses ?? [])
    .map((h) => {
      const types = h.types.filter((t) => h.token !== ts.SyntaxKind.ExtendsKeyword || !ts.isIdentifier(t.expression) || PUBLIC.has(t.expression.text));
      return types.length ? `${ts.tokenToString(h.token)} ${types.map((t) => norm(t.getText())).join(", ")}` : "";
    })
    .filter(Boolean)
    .join(" ");
}

function classBlock(node, name) {
  const out = [`### class \`${name}\``, ""];
  const h = heritage(node);
  if (h) out.push(`\`class ${name}${typeParams(node)} ${h}\``, "");
  const doc = firstParagraph(node);
  if (doc) out.push(doc, "");
  const rows = [];
  const overloaded = new Set(node.members.filter((m) => ts.isMethodDeclaration(m) && !m.body).map((m) => m.name.getText()));
  for (const m of node.members) {
    if (!isPublicMember(m)) continue;
    const d = firstParagraph(m);
    if (ts.isConstructorDeclaration(m)) {
      if (m.body || !overloaded.has("constructor")) rows.push(line(`new ${name}(${params(m)})`, d));
    } else if (ts.isMethodDeclaration(m)) {
      const n = m.name.getText();
      if (m.body && overloaded.has(n)) continue; // the implementation of overloads
      const st = hasMod(m, ts.ModifierFlags.Static) ? "static " : "";
      rows.push(line(`${st}${asyncKw(m)}${n}${typeParams(m)}(${params(m)})${ret(m)}`, d));
    } else if (ts.isGetAccessorDeclaration(m)) {
      rows.push(line(`get ${m.name.getText()}${ret(m)}`, d));
    } else if (ts.isPropertyDeclaration(m)) {
      const ro = hasMod(m, ts.ModifierFlags.Readonly) ? "readonly " : "";
      const opt = m.questionToken ? "?" : "";
      rows.push(line(`${ro}${m.name.getText()}${opt}${m.type ? `: ${norm(m.type.getText())}` : ""}`, d));
    }
  }
  // Constructor parameter properties (`constructor(readonly name: string)`).
  for (const m of node.members) {
    if (!ts.isConstructorDeclaration(m)) continue;
    for (const p of m.parameters) {
      if (ts.isParameterPropertyDeclaration(p, m) && isPublicMember(p)) {
        rows.push(line(`readonly ${p.name.getText()}${p.type ? `: ${norm(p.type.getText())}` : ""}`, ""));
      }
    }
  }
  return [...out, ...rows, ""];
}

function interfaceBlock(node, name) {
  const out = [`### interface \`${name}${typeParams(node)}\``, ""];
  const h = heritage(node);
  if (h) out.push(`\`interface ${name} ${h}\``, "");
  const doc = firstParagraph(node);
  if (doc) out.push(doc, "");
  for (const m of node.members) {
    if (isInternal(m)) continue;
    if (ts.isPropertySignature(m)) {
      const ro = hasMod(m, ts.ModifierFlags.Readonly) ? "readonly " : "";
      out.push(line(`${ro}${m.name.getText()}${m.questionToken ? "?" : ""}${m.type ? `: ${norm(m.type.getText())}` : ""}`, firstParagraph(m)));
    } else if (ts.isMethodSignature(m)) {
      out.push(line(`${m.name.getText()}${m.questionToken ? "?" : ""}${typeParams(m)}(${params(m)})${ret(m)}`, firstParagraph(m)));
    } else {
      out.push(line(norm(m.getText()).replace(/;$/, ""), firstParagraph(m)));
    }
  }
  return [...out, ""];
}

function typeBlock(node, name) {
  const out = [`### type \`${name}\``, "", "```ts", `type ${name}${typeParams(node)} = ${norm(node.type.getText())};`, "```", ""];
  const doc = firstParagraph(node);
  if (doc) out.push(doc, "");
  return out;
}

function functionBlock(node, name) {
  return [line(`function ${asyncKw(node)}${name}${typeParams(node)}(${params(node)})${ret(node)}`, firstParagraph(node)), ""];
}

function variableBlock(decl, stmt, name) {
  const t = decl.type ? `: ${norm(decl.type.getText())}` : "";
  return [line(`const ${name}${t}`, firstParagraph(stmt)), ""];
}

/** The SDK's run-time operations, by group (`cache` -> [`cacheGet`, ...]), from the addon's table. */
function restOperations() {
  const libc = process.platform === "linux" ? "-gnu" : "";
  const file = process.env.AEROSTACK_NODE_ADDON ?? path.join(ROOT, `aerostack.${process.platform}-${process.arch}${libc}.node`);
  const m = { exports: {} };
  try {
    process.dlopen(m, file);
  } catch (e) {
    throw new Error(`gen-reference: could not load the addon ${file} for the SDK's operation names (${e.message}); run \`node node/scripts/build.cjs\``);
  }
  const groups = new Map();
  for (const q of m.exports.restOperations()) {
    const [g, op] = q.split(".");
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(op.replace(/_([a-z])/g, (_, c) => c.toUpperCase()));
  }
  return groups;
}

/** Declarations the entry points export (aliases resolved), keyed by source file, in source order. */
function publicDeclarations(program) {
  const checker = program.getTypeChecker();
  const byFile = new Map();
  const seen = new Set();
  for (const entry of ENTRIES) {
    const sf = program.getSourceFile(path.join(SRC, entry));
    const mod = checker.getSymbolAtLocation(sf);
    for (let sym of checker.getExportsOfModule(mod)) {
      const exported = sym.getName();
      if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
      for (const d of sym.getDeclarations() ?? []) {
        const file = path.basename(d.getSourceFile().fileName);
        // `export { A as B }` aliases show once, under the declaration's own name (noted below).
        const key = `${file}:${d.pos}`;
        if (seen.has(key)) {
          const item = byFile.get(file).find((x) => x.key === key);
          if (item && !item.aliases.includes(exported) && exported !== item.name) item.aliases.push(exported);
          continue;
        }
        seen.add(key);
        const name = sym.getName();
        if (!byFile.has(file)) byFile.set(file, []);
        byFile.get(file).push({ key, decl: d, name, aliases: exported !== name ? [exported] : [] });
      }
    }
  }
  // Source order, except that the client comes before its namespaces.
  const rank = (x) => (x.name === "AerostackClient" ? -1 : x.decl.pos);
  for (const items of byFile.values()) items.sort((a, b) => rank(a) - rank(b));
  return byFile;
}

function render() {
  const files = fs.readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, f));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
    strict: true, skipLibCheck: true, types: ["node"], noEmit: true,
  });
  const byFile = publicDeclarations(program);
  PUBLIC = new Set([...byFile.values()].flat().map((x) => x.name));
  const out = [
    "# Aerostack Node SDK: API reference",
    "",
    "Generated by `node node/tools/gen-reference.mjs` from `node/src/*.ts` (the TypeScript compiler API); do not edit.",
    "A test checks it is current and lists every public method. See README.md for a tour.",
    "",
  ];
  const order = [...SECTIONS.map((s) => s[0]), ...[...byFile.keys()].filter((f) => !SECTIONS.some((s) => s[0] === f)).sort()];
  for (const file of order) {
    const items = (byFile.get(file) ?? []).filter((x) => !isInternal(x.decl));
    if (!items.length) continue;
    const sec = SECTIONS.find((s) => s[0] === file);
    out.push(`## ${sec ? sec[1] : `Other exports (${file})`}`, "");
    if (sec && sec[2]) out.push(sec[2], "");
    for (const { decl, name, aliases } of items) {
      let block;
      if (ts.isClassDeclaration(decl)) block = classBlock(decl, name);
      else if (ts.isInterfaceDeclaration(decl)) block = interfaceBlock(decl, name);
      else if (ts.isTypeAliasDeclaration(decl)) block = typeBlock(decl, name);
      else if (ts.isFunctionDeclaration(decl)) block = functionBlock(decl, name);
      else if (ts.isVariableDeclaration(decl)) block = variableBlock(decl, decl.parent.parent, name);
      else continue;
      if (aliases.length) {
        const at = block.findIndex((l, i) => i > 0 && l === "") + 1;
        block.splice(at, 0, `Also exported as ${aliases.map((a) => `\`${a}\``).join(", ")}.`, "");
      }
      out.push(...block);
    }
    if (file === "sdk.ts") {
      out.push("### SDK operations", "", "The methods of each group of `SDK` (built from the engine's operation table):", "");
      const groups = restOperations();
      const fields = { authentication: "auth / authentication", database: "database", cache: "cache (besides the client's Cache methods)" };
      for (const [g, ops] of groups) out.push(`- \`sdk.${fields[g] ?? g}\`: ${ops.map((o) => `\`${o}\``).join(", ")}`);
      out.push("");
    }
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

const text = render();
if (process.argv.includes("--check")) {
  if (!fs.existsSync(OUT) || fs.readFileSync(OUT, "utf8") !== text) {
    console.error("node/API.md is stale: run node node/tools/gen-reference.mjs");
    process.exit(1);
  }
} else {
  fs.writeFileSync(OUT, text);
}
