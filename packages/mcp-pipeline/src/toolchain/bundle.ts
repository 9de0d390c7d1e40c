import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { ToolchainError, ToolchainErrorCode } from "../host/errors.js";
import { run, succeeds, which } from "../host/exec.js";
import { sha256File } from "./checksums.js";
import type { Step, StepContext } from "./context.js";
import { DAGGER_ENGINE_IMAGE } from "./dagger-engine-image.js";
import { installBinary } from "./download.js";
import { currentEngineInstalled, engineBinaries } from "./engine/install.js";
import { engineBinDir, type ToolchainPaths } from "./settings.js";
import { readProvenance, recordProvenance } from "./state.js";
import { keptBaseImages } from "./steps/base-images.js";
import { baseImages, currentEngine, goTools, versions } from "./versions.js";

/**
 * An offline bundle: one tar archive (zstd- or gzip-compressed) holding
 * `manifest.json`, the toolchain's binaries under `bin/`, the current Docker
 * engine's under `engine/` (when setup installed it on the exporting machine)
 * and `images.tar` (`docker save` of the Dagger engine image and the base
 * images). The system
 * `tar` writes and reads it: GNU tar is on every machine setup supports,
 * detects the compression when reading, and streams gigabytes without holding
 * them in memory; entries are verified against the manifest after extraction
 * and before anything is installed.
 */
export const BUNDLE_FORMAT = "mcp-pipeline-toolchain-bundle/1";

const Entry = z.object({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number(),
});

export const BundleManifest = z.object({
  format: z.literal(BUNDLE_FORMAT),
  createdAt: z.string(),
  platform: z.string(),
  versions: z.record(z.string(), z.string()),
  /** Files in the archive besides the manifest, each with its sha256. */
  entries: z.array(Entry),
  /** Image references inside `images.tar`. */
  images: z.array(z.string()),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

/** The binaries a bundle carries: every tool setup installs into bin/. */
export const BUNDLED_TOOLS = [...goTools.map((t) => t.name), "dagger"];
const IMAGES_TAR = "images.tar";
/** Where a bundle's engine binaries sit in the archive. */
const ENGINE_DIR = "engine";

/**
 * The engine's pins, recorded in the manifest of a bundle that carries the engine and checked
 * on import like `versions`.
 */
const ENGINE_VERSIONS: Record<string, string> = {
  "engine.docker": currentEngine.docker,
  "engine.containerd": currentEngine.containerd,
  "engine.runc": currentEngine.runc,
  "engine.tini": currentEngine.tini,
};

function carriesEngine(manifest: Pick<BundleManifest, "entries">): boolean {
  return manifest.entries.some((e) => e.path.startsWith(`${ENGINE_DIR}/`));
}

function platform(): string {
  return `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
}

function bundleError(message: string, hint: string, cause?: unknown): ToolchainError {
  return new ToolchainError(ToolchainErrorCode.Integrity, message, { hint, cause });
}

/** True when `file` starts with zstd's magic number (what `tar` needs the `zstd` program for). */
function isZstd(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  } finally {
    closeSync(fd);
  }
}

/** `tar` arguments that compress: zstd when installed (fast on few cores), gzip otherwise. */
function compressArgs(env: NodeJS.ProcessEnv): string[] {
  return which("zstd", env) ? ["-I", "zstd -T0 -3"] : ["-z"];
}

/**
 * Writes every binary and image the toolchain built into `file`, with a
 * manifest of sha256s, and `<file>.sha256` beside it to check the archive as a
 * whole before import. Writes to a temporary name first, so a failed export
 * leaves no half bundle under the final name.
 */
export async function exportBundle(
  paths: ToolchainPaths,
  file: string,
  env: NodeJS.ProcessEnv,
  options: { online: boolean; note: (text: string) => void },
): Promise<{ file: string; bytes: number; sha256: string; engine: boolean }> {
  const { note } = options;
  // The current engine when setup installed it here (a machine with an engine of its own has
  // none in the cache): what a machine without one starts, bundle-installed.
  const engine = (await currentEngineInstalled({ paths, env }))
    ? engineBinaries().map((b) => `${ENGINE_DIR}/${b.name}`)
    : [];
  // Air-gapped the base images of every platform are here under their kept names; online the
  // official (multi-platform) images are pulled where they are used.
  const images = bundledImages({ mode: options.online ? "online" : "airgap" });
  for (const image of images) {
    const present = () => succeeds("docker", ["image", "inspect", image], { env });
    if (!(await present()) && options.online) {
      // Online, the official images are what the engine and the builds would pull anyway.
      note(`docker pull ${image}`);
      await run("docker", ["pull", image], { env });
    }
    if (!(await present())) {
      throw new ToolchainError(
        ToolchainErrorCode.NotReady,
        `${image} is not in the local Docker engine, so it cannot go into the bundle.`,
        {
          hint: "Export from a machine set up air-gapped (`AIRGAP=1 mcp-pipeline setup`), which builds the engine and base images, or from one online, which pulls them.",
        },
      );
    }
  }
  const staging = mkdtempSync(join(paths.root, "bundle-export-"));
  const partial = `${file}.partial-${process.pid}`;
  try {
    mkdirSync(join(staging, "bin"));
    const entries: BundleManifest["entries"] = [];
    for (const tool of BUNDLED_TOOLS) {
      const src = join(paths.bin, tool);
      if (!existsSync(src)) {
        throw new ToolchainError(ToolchainErrorCode.NotReady, `${src} is missing.`, {
          hint: "Run `mcp-pipeline setup` first; the bundle carries what it installed.",
        });
      }
      installBinary(src, join(staging, "bin", tool));
    }
    for (const path of engine)
      installBinary(join(engineBinDir(paths), basename(path)), join(staging, path));
    note(`docker save ${images.join(" ")}`);
    await run("docker", ["save", "-o", join(staging, IMAGES_TAR), ...images], { env });
    note("sha256 of every entry");
    for (const path of [...BUNDLED_TOOLS.map((t) => `bin/${t}`), ...engine, IMAGES_TAR]) {
      const full = join(staging, path);
      entries.push({ path, sha256: await sha256File(full), size: statSync(full).size });
    }
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      createdAt: new Date().toISOString(),
      platform: platform(),
      versions: { ...versions, ...(engine.length ? ENGINE_VERSIONS : {}) },
      entries,
      images,
    };
    writeFileSync(join(staging, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    note(`tar ${basename(file)}`);
    await run(
      "tar",
      [
        ...compressArgs(env),
        "-cf",
        partial,
        "-C",
        staging,
        "manifest.json",
        "bin",
        ...(engine.length ? [ENGINE_DIR] : []),
        IMAGES_TAR,
      ],
      { env },
    );
    renameSync(partial, file);
    const sha256 = await sha256File(file);
    writeFileSync(`${file}.sha256`, `${sha256}  ${basename(file)}\n`);
    return { file, bytes: statSync(file).size, sha256, engine: engine.length > 0 };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}

/** Reads and checks the manifest of an extracted bundle. */
function readManifest(dir: string, file: string): BundleManifest {
  const path = join(dir, "manifest.json");
  if (!existsSync(path)) {
    throw bundleError(
      `${file} has no manifest.json, so it is not a toolchain bundle.`,
      "Make the bundle with `mcp-pipeline setup --export-bundle FILE`.",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw bundleError(
      `${file}: manifest.json is not JSON (${(err as Error).message}).`,
      "Export the bundle again with `mcp-pipeline setup --export-bundle FILE`.",
      err,
    );
  }
  const parsed = BundleManifest.safeParse(json);
  if (!parsed.success) {
    throw bundleError(
      `${file}: manifest.json is not a ${BUNDLE_FORMAT} manifest (${parsed.error.issues[0]?.message}).`,
      "Export the bundle again with this version of the toolchain.",
      parsed.error,
    );
  }
  const manifest = parsed.data;
  if (manifest.platform !== platform()) {
    throw bundleError(
      `${file} was made for ${manifest.platform}; this machine is ${platform()}.`,
      "Export a bundle on a machine of this platform.",
    );
  }
  if (!manifest.entries.some((e) => e.path === IMAGES_TAR)) {
    throw bundleError(
      `${file}: manifest.json lists no ${IMAGES_TAR}, so the bundle brings no images.`,
      "Export the bundle again with `mcp-pipeline setup --export-bundle FILE`.",
    );
  }
  const pins = { ...versions, ...(carriesEngine(manifest) ? ENGINE_VERSIONS : {}) };
  const differ = Object.entries(pins).filter(([k, v]) => manifest.versions[k] !== v);
  if (differ.length) {
    throw bundleError(
      `${file} carries other versions than mcp-pipeline's src/toolchain/versions.ts pins: ${differ.map(([k, v]) => `${k} ${manifest.versions[k] ?? "(none)"} ≠ ${v}`).join(", ")}.`,
      "Export the bundle from a checkout at the same commit as this one.",
    );
  }
  return manifest;
}

/** Where `images.tar` waits, verified, between the bundle step and the engine that loads it. */
function pendingImages(paths: Pick<ToolchainPaths, "root">): string {
  return join(paths.root, "bundle-images", IMAGES_TAR);
}

/**
 * Checks a bundle and installs its files: the archive against `<file>.sha256`
 * when that file is present, then every entry against the manifest — all
 * before anything is installed, so a bad entry (exit 2, naming it and both
 * hashes) leaves the machine as it was. Then the tools go into bin/, the
 * engine (when the bundle carries it) into the engine's bin/, and `images.tar`
 * waits in the cache (`pendingImages`) for the engine to load it
 * (`loadBundleImages`): the engine may be the bundle's own. Nothing is built.
 */
export async function importBundle(
  ctx: Pick<StepContext, "paths" | "env" | "note" | "warn" | "logFile">,
  file: string,
): Promise<void> {
  if (!existsSync(file)) {
    throw new ToolchainError(
      ToolchainErrorCode.BadSetting,
      `--from-bundle: ${file} does not exist.`,
      {
        hint: "Give the path of a bundle made with `mcp-pipeline setup --export-bundle FILE`.",
      },
    );
  }
  const sidecar = `${file}.sha256`;
  if (existsSync(sidecar)) {
    ctx.note(`sha256 ${basename(file)}`);
    const expected = readFileSync(sidecar, "utf8").trim().split(/\s+/)[0] ?? "";
    const actual = await sha256File(file);
    if (actual !== expected) {
      throw bundleError(
        `${basename(file)}: sha256 mismatch — expected ${expected} (from ${basename(sidecar)}), got ${actual}.`,
        "Nothing was installed. The bundle was damaged or altered in transit; copy it again.",
      );
    }
  }
  if (isZstd(file) && !which("zstd", ctx.env)) {
    throw new ToolchainError(
      ToolchainErrorCode.Unsupported,
      `${basename(file)} is zstd-compressed, and this machine has no zstd for tar to read it with. Nothing was installed.`,
      {
        hint: "Install zstd (Debian's and Ubuntu's package `zstd`), or export the bundle on a machine without zstd, which writes gzip.",
      },
    );
  }
  const staging = mkdtempSync(join(ctx.paths.root, "bundle-import-"));
  try {
    ctx.note(`extract ${basename(file)}`);
    await run("tar", ["-xf", file, "-C", staging, "manifest.json"], { env: ctx.env }).catch(
      (err: unknown) => {
        throw bundleError(
          `${file} is not a readable toolchain bundle.`,
          "Make the bundle with `mcp-pipeline setup --export-bundle FILE` and copy it whole.",
          err,
        );
      },
    );
    const manifest = readManifest(staging, file);
    const paths = manifest.entries.map((e) => e.path);
    if (paths.some((p) => p.startsWith("/") || p.split("/").includes(".."))) {
      throw bundleError(
        `${file}: the manifest names a path outside the bundle.`,
        "Do not use this bundle.",
      );
    }
    await run("tar", ["-xf", file, "-C", staging, ...paths], {
      env: ctx.env,
      logFile: ctx.logFile,
    }).catch((err: unknown) => {
      throw bundleError(
        `${file} lacks files its manifest lists.`,
        "Nothing was installed. Copy the bundle again; it may be truncated.",
        err,
      );
    });
    ctx.note("verify every entry against the manifest");
    for (const entry of manifest.entries) {
      const actual = await sha256File(join(staging, entry.path));
      if (actual !== entry.sha256) {
        throw bundleError(
          `${basename(file)}: entry ${entry.path}: sha256 mismatch — expected ${entry.sha256} (from manifest.json), got ${actual}.`,
          "Nothing was installed. The bundle was damaged or altered; export it again.",
        );
      }
    }
    const destinations: Record<string, string> = {
      bin: ctx.paths.bin,
      [ENGINE_DIR]: engineBinDir(ctx.paths),
    };
    for (const entry of manifest.entries) {
      const dest = destinations[entry.path.split("/")[0] ?? ""];
      if (!dest) continue;
      const tool = basename(entry.path);
      installBinary(join(staging, entry.path), join(dest, tool));
      recordProvenance(ctx.paths, {
        tool,
        source: "bundle",
        asset: entry.path,
        url: file,
        sha256: entry.sha256,
        checksumSource: `manifest.json of ${basename(file)} (exported ${manifest.createdAt})`,
        at: new Date().toISOString(),
      });
    }
    if (!carriesEngine(manifest) && !(await succeeds("docker", ["version"], { env: ctx.env })))
      ctx.warn(
        `${basename(file)} carries no Docker engine (it was exported where the machine's own engine ran), and none answers here: the next step needs Docker ≥ ${currentEngine.oldestKept} on this machine, or a bundle exported where setup installed the engine.`,
      );
    const pending = pendingImages(ctx.paths);
    rmSync(dirname(pending), { recursive: true, force: true });
    mkdirSync(dirname(pending), { recursive: true });
    renameSync(join(staging, IMAGES_TAR), pending);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The images a bundle brings: what the export saves, and what the steps after it look for. */
function bundledImages(ctx: Pick<StepContext, "mode">): string[] {
  const bases = ctx.mode === "online" ? Object.values(baseImages) : keptBaseImages();
  return [DAGGER_ENGINE_IMAGE, ...bases];
}

async function imagesLoaded(ctx: Pick<StepContext, "mode" | "env">): Promise<boolean> {
  for (const image of bundledImages(ctx)) {
    if (!(await succeeds("docker", ["image", "inspect", image], { env: ctx.env }))) return false;
  }
  return true;
}

/**
 * Loads the verified `images.tar` the bundle step left in the cache (unless Docker already has
 * every image), then removes it.
 */
export async function loadBundleImages(
  ctx: Pick<StepContext, "paths" | "env" | "note" | "logFile" | "mode">,
  file: string,
): Promise<void> {
  const pending = pendingImages(ctx.paths);
  const loaded = await imagesLoaded(ctx);
  if (!existsSync(pending) && !loaded)
    throw new ToolchainError(
      ToolchainErrorCode.NotReady,
      `The images of ${basename(file)} are neither in Docker nor waiting in ${dirname(pending)}.`,
      { hint: `Run \`mcp-pipeline setup --from-bundle ${file}\` again.` },
    );
  if (!loaded) {
    ctx.note(`docker load ${IMAGES_TAR}`);
    await run("docker", ["load", "-i", pending], { env: ctx.env, logFile: ctx.logFile });
  }
  rmSync(dirname(pending), { recursive: true, force: true });
}

/**
 * Installs an offline bundle's files, before the Docker engine step (which starts the
 * bundle's engine where the machine has none): done when every tool came from a bundle and
 * the images are in Docker or wait to be loaded.
 */
export function bundleStep(file: string): Step {
  return {
    id: "bundle",
    title: `Offline bundle ${basename(file)}`,
    async isDone(ctx) {
      const provenance = readProvenance(ctx.paths);
      const tools = BUNDLED_TOOLS.every(
        (tool) => existsSync(join(ctx.paths.bin, tool)) && provenance[tool],
      );
      return tools && (existsSync(pendingImages(ctx.paths)) || (await imagesLoaded(ctx)));
    },
    run: (ctx) => importBundle(ctx, file),
  };
}

/** Loads the bundle's images once the Docker engine runs. */
export function bundleImagesStep(file: string): Step {
  return {
    id: "bundle-images",
    title: `Images of ${basename(file)}`,
    // Done once Docker has every image and no images.tar waits in the cache (GBs).
    isDone: async (ctx) => !existsSync(pendingImages(ctx.paths)) && (await imagesLoaded(ctx)),
    run: (ctx) => loadBundleImages(ctx, file),
  };
}
