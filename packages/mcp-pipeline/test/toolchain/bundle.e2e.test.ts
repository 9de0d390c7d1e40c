import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { formatDuration } from "../../src/host/terminal.js";
import { BundleManifest } from "../../src/toolchain/bundle.js";
import { sha256File } from "../../src/toolchain/checksums.js";
import {
  currentEngineInstalled,
  engineBinaries,
  installCurrentEngine,
} from "../../src/toolchain/engine/install.js";
import { engineBinDir, loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { readProvenance } from "../../src/toolchain/state.js";
import { currentEngine } from "../../src/toolchain/versions.js";
import { expectCurrentEngine, Machines } from "./engine/machine.js";
import { paths, runEntry } from "./helpers.js";
import { Sandbox } from "./sandbox.js";

const TOOLS = ["cosign", "actionlint", "docker-compose", "docker-buildx", "trivy", "dagger"];
/** The current engine's binaries (dockerd, containerd, runc, …), as the bundle carries them. */
const ENGINE = engineBinaries().map((b) => b.name);
/**
 * Whether setup installed the current engine into this machine's cache (CI's machine: it had no
 * engine of its own), so the bundle carries it. A machine whose own engine runs (a hosted runner,
 * the GitHub simulation) exports a bundle without one.
 */
const engineHere = await currentEngineInstalled({ paths, env: process.env });

describe("an offline bundle: mcp-pipeline setup --export-bundle / --from-bundle", () => {
  const work = mkdtempSync(join(tmpdir(), "bundle-"));
  const bundle = join(work, "toolchain.tar.zst");
  const sandboxes: Sandbox[] = [];
  const machines = new Machines("bundle-machine-e2e");
  afterAll(async () => {
    for (const s of sandboxes) await s.cleanup();
    await machines.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  let manifest: BundleManifest;

  it("exports every binary and image the toolchain built, and the engine setup installed, into one archive with a manifest of sha256s", async () => {
    const res = await runEntry(["setup", "--export-bundle", bundle]);
    expect(res.exitCode, res.all).toBe(0);
    expect(readFileSync(`${bundle}.sha256`, "utf8")).toBe(
      `${await sha256File(bundle)}  toolchain.tar.zst\n`,
    );
    const listing = (await execa("tar", ["-tf", bundle])).stdout.split("\n");
    expect(listing).toEqual(
      expect.arrayContaining(["manifest.json", "images.tar", ...TOOLS.map((t) => `bin/${t}`)]),
    );
    expect(listing.filter((f) => f.startsWith("engine/") && !f.endsWith("/")).sort()).toEqual(
      engineHere ? ENGINE.map((b) => `engine/${b}`).sort() : [],
    );
    expect(res.stderr).toContain(
      engineHere ? `, with Docker ${currentEngine.docker};` : ", without a Docker engine:",
    );
    const dir = mkdtempSync(join(work, "manifest-"));
    await execa("tar", ["-xf", bundle, "-C", dir, "manifest.json", "bin/actionlint"]);
    manifest = BundleManifest.parse(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")));
    expect(manifest.images).toEqual(
      expect.arrayContaining(["debian:bookworm-slim", "node:24-bookworm-slim"]),
    );
    expect(manifest.images.some((i) => i.startsWith("registry.dagger.io/engine:v"))).toBe(true);
    expect(manifest.entries.find((e) => e.path === "bin/actionlint")?.sha256).toBe(
      await sha256File(join(dir, "bin", "actionlint")),
    );
    if (engineHere) {
      expect(manifest.entries.find((e) => e.path === "engine/dockerd")?.sha256).toBe(
        await sha256File(join(engineBinDir(paths), "dockerd")),
      );
      expect(manifest.versions["engine.docker"]).toBe(currentEngine.docker);
    } else expect(manifest.versions["engine.docker"]).toBeUndefined();
    process.stderr.write(
      `bundle: ${(statSync(bundle).size / 1e6).toFixed(0)} MB; ${res.stderr.split("\n").find((l) => l.startsWith("bundle:")) ?? ""}\n`,
    );
  });

  it("sets up a fresh cache from the bundle without building anything, the engine's binaries first, and doctor is green", async () => {
    const s = new Sandbox("from-bundle");
    sandboxes.push(s);
    const started = Date.now();
    const res = await s.entry(["setup", "--from-bundle", bundle]);
    const took = Date.now() - started;
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stderr).toContain("airgap mode (installing an offline bundle)");
    // Nothing was built or downloaded: no Go build, no debootstrap, no image build.
    expect(res.stderr).not.toMatch(/go build|debootstrap|docker build|npm pack|download /);
    process.stderr.write(`bundle: fresh cache ready in ${formatDuration(took)}\n`);
    // The files (and the engine) before the engine step, which starts the bundle's engine on a
    // machine that has none; the images once an engine runs.
    const order = [
      "Offline bundle toolchain.tar.zst",
      "Docker engine",
      "Images of toolchain.tar.zst",
    ];
    const at = order.map((title) => res.stderr.indexOf(`] ${title} `));
    expect(Math.min(...at), res.stderr).toBeGreaterThan(0);
    expect(at, res.stderr).toEqual([...at].sort((a, b) => a - b));
    expect(res.stderr).toMatch(/\[1\/\d+\] Offline bundle toolchain\.tar\.zst /);
    expect(existsSync(join(s.paths.root, "bundle-images")), "images.tar left in the cache").toBe(
      false,
    );
    const doctor = await s.entry(["doctor", "--json"]);
    const report = JSON.parse(doctor.stdout);
    expect(
      report.components.filter((c: { ok: boolean }) => !c.ok),
      doctor.all,
    ).toEqual([]);
    expect(report.mode).toBe("airgap");
    for (const tool of TOOLS) {
      const p = report.provenance.find((r: { tool: string }) => r.tool === tool);
      expect(p?.source).toBe("bundle");
      expect(p?.sha256).toBe(manifest.entries.find((e) => e.path === `bin/${tool}`)?.sha256);
    }
    for (const binary of engineHere ? ENGINE : []) {
      const p = report.provenance.find((r: { tool: string }) => r.tool === binary);
      expect(p?.source, binary).toBe("bundle");
      expect(await sha256File(join(engineBinDir(s.paths), binary))).toBe(
        manifest.entries.find((e) => e.path === `engine/${binary}`)?.sha256,
      );
    }
    if (!engineHere) return;
    // The engine step finds the current engine installed: with Debian's archive forbidden, the
    // install it would run on a machine without an engine has nothing left to fetch or build.
    const offline = { ...s.env, DEBIAN_MIRROR: "off", GOPROXY: "off" };
    expect(await currentEngineInstalled({ paths: s.paths, env: offline })).toBe(true);
    await installCurrentEngine({
      paths: s.paths,
      settings: loadSettings(offline),
      env: offline,
      logFile: join(work, "engine-install.log"),
      note: () => {},
    });
  });

  // Needs a bundle with the engine: CI's machine exports one, a hosted runner does not (above).
  it.runIf(engineHere)(
    "starts the bundle's engine on a machine that has none, with Debian's archive and the Go module proxy off",
    async () => {
      // A privileged Debian 12 container with an empty cache and no engine (engine/machine.ts):
      // the bundle's files, the engine step, then its images, as `setup --from-bundle` runs them.
      const cache = join(machines.root, "cache");
      // The bundle is zstd-compressed here, and tar needs zstd to read it (bundle.test.ts: the
      // error a machine without it gets).
      const prepare = [
        "apt-get update -q >/dev/null",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q zstd >/dev/null",
      ].join("\n");
      const report = await machines.run("bundle-machine", prepare, {
        cache,
        bundle,
        env: { DEBIAN_MIRROR: "off", GOPROXY: "off" },
      });
      expect(report.steps.map((s) => [s.id, s.status])).toEqual([
        ["bundle", "done"],
        ["docker-engine", "done"],
        ["bundle-images", "done"],
      ]);
      expectCurrentEngine(report);
      expect(report.debianPackage).toBe("not installed");
      const provenance = readProvenance(toolchainPaths({ MCP_PIPELINE_CACHE: cache }));
      for (const binary of ENGINE) {
        expect(provenance[binary]?.source, binary).toBe("bundle");
        expect(provenance[binary]?.sha256).toBe(
          manifest.entries.find((e) => e.path === `engine/${binary}`)?.sha256,
        );
      }
    },
    600_000,
  );

  it("refuses a bundle whose entry was altered, naming the entry and both hashes, and installs nothing", async () => {
    const dir = mkdtempSync(join(work, "tamper-"));
    await execa("tar", ["-xf", bundle, "-C", dir]);
    const fd = openSync(join(dir, "bin", "actionlint"), "r+");
    writeSync(fd, Buffer.from("altered"), 0, 7, 4096);
    closeSync(fd);
    const actual = await sha256File(join(dir, "bin", "actionlint"));
    const tampered = join(work, "tampered.tar.gz");
    await execa("tar", [
      "-I",
      "gzip -1",
      "-cf",
      tampered,
      "-C",
      dir,
      // Everything the bundle had: engine/ only where it carries the engine.
      ...readdirSync(dir),
    ]);
    rmSync(dir, { recursive: true, force: true });

    const s = new Sandbox("tampered-bundle");
    sandboxes.push(s);
    const res = await s.entry(["setup", "--from-bundle", tampered]);
    expect(res.exitCode, res.all).toBe(2);
    const expected = manifest.entries.find((e) => e.path === "bin/actionlint")?.sha256;
    expect(res.stderr).toContain(
      `tampered.tar.gz: entry bin/actionlint: sha256 mismatch — expected ${expected} (from manifest.json), got ${actual}.`,
    );
    expect(s.installedTools()).toEqual([]);
    expect(existsSync(engineBinDir(s.paths)), "the engine installed from a refused bundle").toBe(
      false,
    );
  });

  it("refuses a bundle that no longer matches the .sha256 written beside it", async () => {
    const copy = join(work, "copy.tar.zst");
    copyFileSync(bundle, copy);
    copyFileSync(`${bundle}.sha256`, `${copy}.sha256`);
    const fd = openSync(copy, "r+");
    writeSync(fd, Buffer.from("x"), 0, 1, Math.floor(statSync(copy).size / 2));
    closeSync(fd);
    const s = new Sandbox("damaged-bundle");
    sandboxes.push(s);
    const res = await s.entry(["setup", "--from-bundle", copy]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toContain(
      `copy.tar.zst: sha256 mismatch — expected ${readFileSync(`${bundle}.sha256`, "utf8").split(" ")[0]} (from copy.tar.zst.sha256), got ${await sha256File(copy)}.`,
    );
    expect(existsSync(s.paths.bin) ? s.installedTools() : []).toEqual([]);
  });
});
