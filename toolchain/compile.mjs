// Compiles one of the project's TypeScript entry points (the toolchain CLI, the
// pipeline) into a single ES module that plain Node runs. tsx resolves every
// import through loader hooks, which costs about a second per process for the
// pipeline's module graph (the Dagger SDK alone is ~1.4 s under tsx, 0.6 s
// without); esbuild bundles our own sources in ~30 ms and leaves packages to
// Node's own resolver.
import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";

/** Bundles older than this, of a source that has changed since, are removed. */
const STALE_MS = 60 * 60 * 1000;

/**
 * Keeps every module's own `import.meta.url`, so a module that finds files
 * beside itself (`toolchain/images/`, the hash of `ci/`) finds the same ones
 * bundled as it does from source.
 * @type {import("esbuild").Plugin}
 */
const ownUrls = {
  name: "own-import-meta-url",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, "utf8")).replaceAll(
        "import.meta.url",
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: "ts",
    }));
  },
};

/**
 * Bundles `entry` (a `.ts` file of the repository at `root`) and returns the
 * path of the bundle, under `node_modules/.cache/mcp-pipeline/` so that Node
 * resolves its packages from the repository's `node_modules`. The name carries
 * the content's hash: concurrent runs of the same sources share one file, and
 * runs of different sources never overwrite each other's. Run it with
 * `node --enable-source-maps` so stack traces name the TypeScript sources.
 * @param {string} entry
 * @param {string} root
 * @returns {Promise<string>}
 */
export async function compile(entry, root) {
  const { build } = await import("esbuild");
  // `ci/main.ts` → `ci-main`: one name per entry point.
  const name = relative(root, entry).replace(/\.ts$/, "").replaceAll("/", "-");
  const dir = join(root, "node_modules", ".cache", "mcp-pipeline");
  const result = await build({
    entryPoints: [entry],
    // Not written there, but the source map's paths are relative to it: the bundle's directory.
    outfile: join(dir, `${name}.mjs`),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    packages: "external",
    sourcemap: "inline",
    write: false,
    logLevel: "silent",
    plugins: [ownUrls],
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  const hash = createHash("sha256").update(output.contents).digest("hex").slice(0, 16);
  const file = join(dir, `${name}-${hash}.mjs`);
  mkdirSync(dir, { recursive: true });
  try {
    // Fresh again, so a concurrent run of other sources does not prune it.
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // By hand, not with write-file-atomic: bootstrap.mjs imports this module before npm ci has
    // installed anything.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, output.contents);
    renameSync(tmp, file);
  }
  prune(dir, name, file);
  return file;
}

/** Removes this entry's bundles of earlier sources, once no run can still be starting from them. */
function prune(dir, name, keep) {
  const now = Date.now();
  for (const other of readdirSync(dir)) {
    const path = join(dir, other);
    if (path === keep || !other.startsWith(`${name}-`)) continue;
    try {
      if (now - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    } catch {
      // Another run pruned it first.
    }
  }
}
