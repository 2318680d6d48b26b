#!/usr/bin/env node
// Builds what the package loads, doing only what is missing or stale:
//
// 1. the native addon `aerostack.<platform>-<arch>[-gnu].node`: copied from the workspace's
//    `target/debug/libaerostack_node.so` (built by `make build` with the rest of the workspace, so
//    CI compiles the engine once); `cargo build -p aerostack-node` runs only when that artifact is
//    missing (a fresh machine running `npm install ./node`);
// 2. the JavaScript: `tsc` (CommonJS + .d.ts in dist/cjs), then ESM entry points in dist/esm that
//    re-export the CommonJS modules (one copy of every class, so `instanceof` holds whichever way
//    the package was loaded). TypeScript is a devDependency: installed from the lock file first
//    when missing (a package installed from its folder gets no devDependencies).
//
// `--force` rebuilds the JavaScript even when it looks current.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const PKG = path.resolve(__dirname, "..");
const ROOT = path.resolve(PKG, "..");
const force = process.argv.includes("--force");

function say(msg) {
  process.stderr.write(`aerostack build: ${msg}\n`);
}

function run(cmd, args, cwd) {
  say(`${cmd} ${args.join(" ")}  (in ${cwd})`);
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
}

function addonName() {
  const libc = process.platform === "linux" ? "-gnu" : "";
  return `aerostack.${process.platform}-${process.arch}${libc}.node`;
}

function artifact() {
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
  const lib = process.platform === "darwin" ? "libaerostack_node.dylib" : process.platform === "win32" ? "aerostack_node.dll" : "libaerostack_node.so";
  return path.join(target, "debug", lib);
}

function buildNative() {
  const dest = path.join(PKG, addonName());
  const src = artifact();
  if (!fs.existsSync(src)) {
    if (!fs.existsSync(path.join(ROOT, "bindings", "node", "Cargo.toml"))) {
      throw new Error(`no ${src} and no Rust sources at ${ROOT}/bindings/node: install from a checkout of the repository`);
    }
    run(process.env.CARGO || "cargo", ["build", "--locked", "-p", "aerostack-node"], ROOT);
  }
  const s = fs.statSync(src);
  if (fs.existsSync(dest)) {
    const d = fs.statSync(dest);
    if (d.size === s.size && d.mtimeMs >= s.mtimeMs) return;
  }
  // Copy to a temporary name, then rename: a process that has the old addon loaded keeps its mapping.
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.copyFileSync(src, tmp);
  fs.renameSync(tmp, dest);
  say(`${path.relative(ROOT, src)} -> node/${addonName()}`);
}

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

const ENTRIES = ["index", "local", "hooks"];

function buildJs() {
  const stamp = path.join(PKG, "dist", ".stamp");
  const inputs = Math.max(newest(path.join(PKG, "src")), fs.statSync(path.join(PKG, "tsconfig.json")).mtimeMs, fs.statSync(__filename).mtimeMs);
  if (!force && fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= inputs) return;
  const tsc = path.join(PKG, "node_modules", "typescript", "bin", "tsc");
  if (!fs.existsSync(tsc)) {
    const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ["npm", []];
    run(npm[0], [...npm[1], "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--include=dev"], PKG);
  }
  fs.rmSync(path.join(PKG, "dist"), { recursive: true, force: true });
  run(process.execPath, [tsc, "-p", "tsconfig.json"], PKG);
  fs.writeFileSync(path.join(PKG, "dist", "cjs", "package.json"), '{"type": "commonjs"}\n');
  const esm = path.join(PKG, "dist", "esm");
  fs.mkdirSync(esm, { recursive: true });
  for (const name of ENTRIES) {
    const cjs = path.join(PKG, "dist", "cjs", `${name}.js`);
    if (!fs.existsSync(cjs)) continue;
    const names = Object.keys(require(cjs)).filter((n) => n !== "__esModule" && n !== "default");
    fs.writeFileSync(
      path.join(esm, `${name}.mjs`),
      `// ESM entry: the CommonJS module re-exported (one copy of every class).\n` +
        `import m from "../cjs/${name}.js";\n` +
        (names.length ? `export const { ${names.join(", ")} } = m;\n` : "") +
        `export default m;\n`,
    );
    fs.writeFileSync(path.join(esm, `${name}.d.mts`), `export * from "../cjs/${name}.js";\n`);
  }
  fs.writeFileSync(stamp, new Date().toISOString() + "\n");
  say("dist/ built");
}

try {
  buildNative();
  buildJs();
} catch (e) {
  say(`failed: ${e && e.message ? e.message : e}`);
  process.exit(1);
}
