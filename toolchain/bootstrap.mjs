#!/usr/bin/env node
// Entry of `npm run setup|doctor|test|pipeline` and of `bootstrap.mjs exec CMD…`.
// Plain Node with no dependencies, because it runs before node_modules exists
// and on whatever Node the machine has:
//  1. when the machine's Node is older than the project's (toolchain/node.json),
//     it fetches the official Node binary from the npm registry into the cache,
//     checks it against the pinned sha512 and puts it first on PATH for
//     everything that follows — the system Node is left alone;
//  2. it installs npm dependencies when they are missing or older than the lockfile;
//  3. it hands over to the TypeScript CLI, bundled for plain Node (compile.mjs),
//     or runs CMD (`exec`).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "./compile.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const installed = join(root, "node_modules", ".package-lock.json");
const lockfile = join(root, "package-lock.json");
const pin = JSON.parse(readFileSync(join(root, "toolchain", "node.json"), "utf8"));

function fail(message, fix) {
  process.stderr.write(`\nerror: ${message}\n${fix ? `fix: ${fix}\n` : ""}`);
  process.exit(2);
}

/** `a >= b` for plain `X.Y.Z` versions. */
function atLeast(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  return true;
}

function cacheRoot() {
  return (
    process.env.MCP_PIPELINE_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mcp-pipeline")
  );
}

/**
 * The bin directory of the Node.js to run on, or undefined when the machine's
 * own is recent enough. The binary comes from the npm registry (the package
 * `node-<os>-<arch>` holds the official build), so it works wherever npm does,
 * behind the same proxy and CA settings.
 */
function ensureNode() {
  const host = process.versions.node;
  if (Number(host.split(".")[0]) >= pin.major) return undefined;
  const platform = `${process.platform}-${process.arch}`;
  const integrity = pin.integrity[platform];
  if (!integrity) {
    if (atLeast(host, pin.minimum)) {
      process.stderr.write(
        `[node] Node ${host} is older than ${pin.major}, and no pinned Node ${pin.major} exists for ${platform}; continuing on ${host}.\n`,
      );
      return undefined;
    }
    fail(
      `this project needs Node.js >= ${pin.minimum} (it targets ${pin.major}); this machine has ${host}.`,
      `install Node.js ${pin.major} (https://nodejs.org, nvm, or your package manager) and run the command again.`,
    );
  }
  const dir = join(cacheRoot(), "node", `v${pin.version}-${platform}`);
  const binDir = join(dir, "bin");
  if (existsSync(join(binDir, "node"))) return binDir;

  const pkg = `node-${platform}@${pin.version}`;
  const started = Date.now();
  process.stderr.write(`[node] Node ${host} is older than ${pin.major}: fetching ${pkg} …\n`);
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(join(dirname(dir), ".download-"));
  // process.exit skips `finally`, so every way out removes the partial download first.
  const abort = (message, fix) => {
    rmSync(tmp, { recursive: true, force: true });
    fail(message, fix);
  };
  const packed = spawnSync("npm", ["pack", "--silent", "--pack-destination", tmp, pkg], {
    encoding: "utf8",
  });
  const file = join(
    tmp,
    String(packed.stdout ?? "")
      .trim()
      .split("\n")
      .pop() ?? "",
  );
  if (packed.status !== 0 || !existsSync(file)) {
    abort(
      `could not download ${pkg} from the npm registry: ${String(packed.stderr ?? "")
        .trim()
        .split("\n")
        .slice(-3)
        .join(" ")}`,
      "check that the npm registry is reachable (npm config get registry) and trusted (npm config get cafile).",
    );
  }
  const actual = `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
  if (actual !== integrity) {
    abort(
      `${pkg} does not match its pinned checksum: expected ${integrity}, got ${actual}. Nothing was installed.`,
      "a proxy or mirror altered the download; fetch it from a trusted registry.",
    );
  }
  const untar = spawnSync("tar", ["-xzf", file, "-C", tmp], { encoding: "utf8" });
  if (untar.status !== 0) abort(`could not unpack ${file}: ${untar.stderr}`);
  chmodSync(join(tmp, "package", "bin", "node"), 0o755);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(tmp, "package"), dir);
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(
    `[node] Node ${pin.version} ready in ${binDir} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`,
  );
  return binDir;
}

function depsAreCurrent() {
  return existsSync(installed) && statSync(installed).mtimeMs >= statSync(lockfile).mtimeMs;
}

const nodeBin = ensureNode();
const env = {
  ...process.env,
  PATH: [...(nodeBin ? [nodeBin] : []), process.env.PATH ?? ""].join(delimiter),
};

if (!depsAreCurrent()) {
  const started = Date.now();
  process.stderr.write("[deps] npm ci …\n");
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  if (npm.status !== 0) {
    fail(
      "npm ci failed.",
      "check the npm registry is reachable and package-lock.json is committed.",
    );
  }
  process.stderr.write(`[deps] npm ci done (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

const [command, ...rest] = process.argv.slice(2);
const [file, args] =
  command === "exec"
    ? [rest[0], rest.slice(1)]
    : [
        nodeBin ? join(nodeBin, "node") : process.execPath,
        [
          "--enable-source-maps",
          await compile(join(root, "toolchain", "cli.ts"), root),
          ...process.argv.slice(2),
        ],
      ];
if (!file) fail("usage: bootstrap.mjs exec COMMAND [ARGS…]");
const child = spawnSync(file, args, {
  cwd: command === "exec" ? process.cwd() : root,
  stdio: "inherit",
  env: { ...env, PATH: [join(root, "node_modules", ".bin"), env.PATH].join(delimiter) },
});
if (child.error) fail(`could not start ${file}: ${child.error.message}`);
process.exit(child.status ?? (child.signal ? 130 : 1));
