import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import {
  BUNDLE_FORMAT,
  BUNDLED_TOOLS,
  bundleStep,
  importBundle,
  loadBundleImages,
} from "../../src/toolchain/bundle.js";
import { sha256File } from "../../src/toolchain/checksums.js";
import { engineBinaries } from "../../src/toolchain/engine/install.js";
import { engineBinDir, toolchainPaths } from "../../src/toolchain/settings.js";
import { readProvenance } from "../../src/toolchain/state.js";
import { currentEngine, versions } from "../../src/toolchain/versions.js";
import { toolchainFailure } from "./helpers.js";

// The checks and the layout of `setup --from-bundle` on small bundles made here with GNU tar
// (bundle.e2e.test.ts exports and installs a real one): what is refused before anything is
// installed, and where a good bundle's files go. No Docker: importBundle leaves the images to
// the step after the engine.
const scratch = mkdtempSync(join(tmpdir(), "bundle-unit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const ENGINE = engineBinaries().map((b) => b.name);
const ENGINE_PINS = {
  "engine.docker": currentEngine.docker,
  "engine.containerd": currentEngine.containerd,
  "engine.runc": currentEngine.runc,
  "engine.tini": currentEngine.tini,
};

interface Made {
  file: string;
  entries: Record<string, string>;
}

/** A bundle of small stand-in files: every tool, the engine unless `engine` is false, images.tar. */
async function makeBundle(
  name: string,
  options: {
    engine?: boolean;
    images?: boolean;
    versions?: Record<string, string>;
    manifestText?: string;
  } = {},
): Promise<Made> {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const files = [
    ...BUNDLED_TOOLS.map((t) => `bin/${t}`),
    ...(options.engine === false ? [] : ENGINE.map((b) => `engine/${b}`)),
    ...(options.images === false ? [] : ["images.tar"]),
  ];
  const entries: Made["entries"] = {};
  for (const path of files) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), `${name} ${path}\n`);
    entries[path] = await sha256File(join(dir, path));
  }
  const manifest = {
    format: BUNDLE_FORMAT,
    createdAt: "2026-12-03T00:00:00.000Z",
    platform: `linux/${process.arch === "x64" ? "amd64" : process.arch}`,
    versions: options.versions ?? {
      ...versions,
      ...(options.engine === false ? {} : ENGINE_PINS),
    },
    entries: files.map((path) => ({ path, sha256: entries[path], size: 1 })),
    images: ["debian:bookworm-slim"],
  };
  writeFileSync(join(dir, "manifest.json"), options.manifestText ?? JSON.stringify(manifest));
  const file = join(scratch, `${name}.tar.gz`);
  const top = ["manifest.json", ...new Set(files.map((f) => f.split("/")[0] as string))];
  await execa("tar", ["-czf", file, "-C", dir, ...top]);
  rmSync(dir, { recursive: true, force: true });
  return { file, entries };
}

function machine(name: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MCP_PIPELINE_CACHE: join(scratch, `cache-${name}`),
  };
  delete env.MCP_PIPELINE_BIN;
  const paths = toolchainPaths(env);
  mkdirSync(paths.root, { recursive: true });
  const warnings: string[] = [];
  const ctx = {
    paths,
    env,
    note: () => {},
    warn: (text: string) => warnings.push(text),
    logFile: join(scratch, `${name}.log`),
  };
  return { ctx, paths, warnings };
}

describe("setup --from-bundle: the bundle's files", () => {
  it("installs the tools into bin/ and the engine into engine/<docker>/bin with their provenance, and leaves images.tar for the engine to load", async () => {
    const made = await makeBundle("good");
    const { ctx, paths, warnings } = machine("good");
    await importBundle(ctx, made.file);
    expect(readdirSync(paths.bin).sort()).toEqual([...BUNDLED_TOOLS].sort());
    expect(readdirSync(engineBinDir(paths)).sort()).toEqual([...ENGINE].sort());
    const provenance = readProvenance(paths);
    for (const path of Object.keys(made.entries).filter((p) => p !== "images.tar")) {
      const tool = path.split("/")[1] as string;
      expect(provenance[tool], path).toMatchObject({
        source: "bundle",
        asset: path,
        sha256: made.entries[path],
      });
    }
    const pending = join(paths.root, "bundle-images", "images.tar");
    expect(readFileSync(pending, "utf8")).toBe("good images.tar\n");
    // The tools are there and the images wait: the step counts as done until the engine loads them.
    expect(await bundleStep(made.file).isDone({ ...ctx, mode: "airgap" } as never)).toBe(true);
    expect(warnings).toEqual([]);
    // No staging directory is left behind.
    expect(readdirSync(paths.root).filter((f) => f.startsWith("bundle-import-"))).toEqual([]);
  });

  it("warns when the bundle carries no engine and none answers here", async () => {
    const made = await makeBundle("no-engine", { engine: false });
    const { ctx, paths, warnings } = machine("no-engine");
    // A socket nothing listens on: no engine answers.
    const nowhere = `unix://${join(scratch, "no-engine.sock")}`;
    await importBundle({ ...ctx, env: { ...ctx.env, DOCKER_HOST: nowhere } }, made.file);
    expect(existsSync(engineBinDir(paths))).toBe(false);
    expect(warnings).toEqual([
      expect.stringContaining("no-engine.tar.gz carries no Docker engine"),
    ]);
    expect(warnings[0]).toContain(`Docker ≥ ${currentEngine.oldestKept}`);
  });

  it("refuses a bundle whose engine pins differ from this package's, naming them, and installs nothing", async () => {
    const made = await makeBundle("old-engine", {
      versions: { ...versions, ...ENGINE_PINS, "engine.docker": "27.5.1" },
    });
    const { ctx, paths } = machine("old-engine");
    const err = await toolchainFailure(importBundle(ctx, made.file));
    expect(err.code).toBe("TOOLCHAIN_INTEGRITY");
    expect(err.message).toContain(`engine.docker 27.5.1 ≠ ${currentEngine.docker}`);
    expect(existsSync(paths.bin) ? readdirSync(paths.bin) : []).toEqual([]);
    expect(existsSync(engineBinDir(paths))).toBe(false);
  });

  it("refuses a bundle that carries an engine but records no engine pins", async () => {
    const made = await makeBundle("unpinned-engine", { versions: { ...versions } });
    const err = await toolchainFailure(importBundle(machine("unpinned-engine").ctx, made.file));
    expect(err.message).toContain(`engine.docker (none) ≠ ${currentEngine.docker}`);
  });

  it("refuses a bundle whose manifest lists no images.tar", async () => {
    const made = await makeBundle("no-images", { images: false });
    const err = await toolchainFailure(importBundle(machine("no-images").ctx, made.file));
    expect(err.message).toBe(
      `${made.file}: manifest.json lists no images.tar, so the bundle brings no images.`,
    );
  });

  it("refuses a manifest that is not JSON with a clear error", async () => {
    const made = await makeBundle("not-json", { manifestText: "{ not json" });
    const err = await toolchainFailure(importBundle(machine("not-json").ctx, made.file));
    expect(err.message).toMatch(/not-json\.tar\.gz: manifest\.json is not JSON \(/);
  });

  it("refuses a zstd bundle on a machine without zstd, saying to install it, before extracting anything", async () => {
    const file = join(scratch, "bundle.tar.zst");
    // zstd's magic number, then anything: the check reads only the first four bytes.
    writeFileSync(file, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
    const { ctx, paths } = machine("no-zstd");
    const bare = mkdtempSync(join(scratch, "bare-path-"));
    const err = await toolchainFailure(
      importBundle({ ...ctx, env: { ...ctx.env, PATH: bare } }, file),
    );
    expect(err.code).toBe("TOOLCHAIN_UNSUPPORTED");
    expect(err.message).toBe(
      "bundle.tar.zst is zstd-compressed, and this machine has no zstd for tar to read it with. Nothing was installed.",
    );
    expect(readdirSync(paths.root).filter((f) => f.startsWith("bundle-import-"))).toEqual([]);
  });

  it("says to run the bundle again when its images are neither loaded nor waiting", async () => {
    const { ctx } = machine("no-pending");
    // An engine nothing listens on: no image is in Docker.
    const env = { ...ctx.env, DOCKER_HOST: `unix://${join(scratch, "no-engine.sock")}` };
    const err = await toolchainFailure(
      loadBundleImages({ ...ctx, env, mode: "airgap" }, "/tmp/toolchain.tar.zst"),
    );
    expect(err.code).toBe("TOOLCHAIN_NOT_READY");
    expect(err.hint).toBe("Run `mcp-pipeline setup --from-bundle /tmp/toolchain.tar.zst` again.");
  });
});
