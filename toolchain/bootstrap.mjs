#!/usr/bin/env node
// Entry of `npm run setup|doctor|test|pipeline`. Plain Node with no
// dependencies, because it runs before node_modules exists: it installs npm
// dependencies when they are missing or older than the lockfile, then hands
// over to the TypeScript CLI through tsx.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const installed = join(root, "node_modules", ".package-lock.json");
const lockfile = join(root, "package-lock.json");

function depsAreCurrent() {
  return existsSync(installed) && statSync(installed).mtimeMs >= statSync(lockfile).mtimeMs;
}

if (!depsAreCurrent()) {
  const started = Date.now();
  process.stderr.write("[deps] npm ci …\n");
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (npm.status !== 0) {
    process.stderr.write(
      "[deps] npm ci failed: check the npm registry is reachable and package-lock.json is committed.\n",
    );
    process.exit(2);
  }
  process.stderr.write(`[deps] npm ci done (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

const tsx = join(root, "node_modules", ".bin", "tsx");
const cli = spawnSync(tsx, [join(root, "toolchain", "cli.ts"), ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
if (cli.error) {
  process.stderr.write(`could not start tsx: ${cli.error.message}\n`);
  process.exit(2);
}
process.exit(cli.status ?? (cli.signal ? 130 : 1));
