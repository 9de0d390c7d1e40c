// The Node.js the package runs on. Plain Node with no dependencies: it runs before anything is
// installed, on whatever Node the machine has. When that Node is older than wanted, the official
// binary comes from the npm registry (the package `node-<os>-<arch>` holds it), is checked against
// the sha512 pinned in assets/node.json, and is kept in the toolchain cache; the system Node is
// left alone.
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
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The pin: `{major, minimum, version, integrity: {"linux-x64": "sha512-…"}}`. */
export const pin = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "assets", "node.json"), "utf8"),
);

/** Stops with exit code 2 and a message that says what to do. */
export function fail(message, fix) {
  process.stderr.write(`\nerror: ${message}\n${fix ? `fix: ${fix}\n` : ""}`);
  process.exit(2);
}

/** `a >= b` for plain `X.Y.Z` versions. */
export function atLeast(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  return true;
}

/** The toolchain cache: `MCP_PIPELINE_CACHE`, else `$XDG_CACHE_HOME/mcp-pipeline` (`~/.cache`). */
export function cacheRoot(env = process.env) {
  return (
    env.MCP_PIPELINE_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mcp-pipeline")
  );
}

/**
 * The bin directory of a Node.js to run on, or undefined when the machine's own will do: it will
 * when it is at least `wanted` (`"major"`: the pinned major, what this repository runs on; or
 * `"minimum"`: the oldest release the package supports).
 */
export function ensureNode(wanted = "minimum", host = process.versions.node) {
  const enough =
    wanted === "major" ? Number(host.split(".")[0]) >= pin.major : atLeast(host, pin.minimum);
  if (enough) return undefined;
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
      `this needs Node.js >= ${pin.minimum} (it targets ${pin.major}); this machine has ${host}.`,
      `install Node.js ${pin.major} (https://nodejs.org, nvm, or your package manager) and run the command again.`,
    );
  }
  const dir = join(cacheRoot(), "node", `v${pin.version}-${platform}`);
  const binDir = join(dir, "bin");
  if (existsSync(join(binDir, "node"))) return binDir;

  const pkg = `node-${platform}@${pin.version}`;
  const started = Date.now();
  process.stderr.write(
    `[node] Node ${host} is older than ${wanted === "major" ? pin.major : pin.minimum}: fetching ${pkg} …\n`,
  );
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
