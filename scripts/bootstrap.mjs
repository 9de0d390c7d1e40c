#!/usr/bin/env node
// Entry of this repository's `npm run setup|doctor|pipeline|release|test` and of
// `bootstrap.mjs exec CMD…`. Plain Node with no dependencies, because it runs before
// node_modules exists and on whatever Node the machine has:
//  1. when the machine's Node is older than the one this repository runs on (the pin in
//     packages/mcp-pipeline/assets/node.json), it fetches that Node and puts it first on PATH;
//  2. it installs npm dependencies when they are missing or older than the lockfile;
//  3. it rebuilds the mcp-pipeline workspace package when its sources are newer than its build;
//  4. it runs the package's command as an adopter's repository would: node_modules/.bin/mcp-pipeline.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode, fail } from "../packages/mcp-pipeline/bin/node-runtime.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const installed = join(root, "node_modules", ".package-lock.json");
const lockfile = join(root, "package-lock.json");
const pkg = join(root, "packages", "mcp-pipeline");

const nodeBin = ensureNode("major");
const env = {
  ...process.env,
  PATH: [
    ...(nodeBin ? [nodeBin] : []),
    join(root, "node_modules", ".bin"),
    process.env.PATH ?? "",
  ].join(delimiter),
};

function run(file, args, options = {}) {
  const child = spawnSync(file, args, { cwd: root, stdio: "inherit", env, ...options });
  if (child.error) fail(`could not start ${file}: ${child.error.message}`);
  return child.status ?? (child.signal ? 130 : 1);
}

/** The newest modification time of the files under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lockfile).mtimeMs) {
  const started = Date.now();
  process.stderr.write("[deps] npm ci …\n");
  // npm ci also builds the workspace package (its `prepare` script).
  if (run("npm", ["ci", "--no-audit", "--no-fund"]) !== 0) {
    fail(
      "npm ci failed.",
      "check the npm registry is reachable and package-lock.json is committed.",
    );
  }
  process.stderr.write(`[deps] npm ci done (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

const built = join(pkg, "dist", "cli.js");
if (
  !existsSync(built) ||
  statSync(built).mtimeMs <
    Math.max(newest(join(pkg, "src")), statSync(join(pkg, "package.json")).mtimeMs)
) {
  const started = Date.now();
  process.stderr.write("[build] mcp-pipeline …\n");
  if (run("npm", ["run", "--silent", "build", "--workspace", "mcp-pipeline"]) !== 0)
    fail("building packages/mcp-pipeline failed.");
  process.stderr.write(
    `[build] mcp-pipeline done (${((Date.now() - started) / 1000).toFixed(1)}s)\n`,
  );
}

const [command, ...rest] = process.argv.slice(2);
const cli = join(root, "node_modules", ".bin", "mcp-pipeline");
const cwd = process.cwd();
let status;
switch (command) {
  case "exec":
    if (!rest[0]) fail("usage: bootstrap.mjs exec COMMAND [ARGS…]");
    status = run(rest[0], rest.slice(1), { cwd });
    break;
  case "test":
    // The end-to-end tests publish images to the local authenticated registry, and server.json
    // to an MCP Registry of their own (built here, with PostgreSQL installed).
    status = run(cli, ["setup", "--with-local-registry", "--with-mcp-registry"]);
    // GH_SIM_TEST_FILTER (vitest filters, space-separated) narrows the whole suite while developing
    // the GitHub simulation (npm run test:github), whose workflows run `npm test` as written.
    if (status === 0) {
      const filter = (process.env.GH_SIM_TEST_FILTER ?? "").split(" ").filter(Boolean);
      status = run(cli, ["exec", "vitest", "run", ...rest, ...filter]);
    }
    break;
  case "pipeline":
    status = run(cli, rest);
    break;
  case undefined:
    fail("usage: bootstrap.mjs setup|doctor|pipeline|release|test|exec [ARGS…]");
    break;
  default:
    status = run(cli, [command, ...rest]);
}
process.exit(status);
