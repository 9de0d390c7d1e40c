import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadImageOnce } from "../../../src/ci/docker/load.js";
import { dockerEngine } from "../../../src/ci/replay/key.js";
import { run } from "../../../src/host/exec.js";
import type { ImageStore } from "../../../src/host/image-store.js";
import { hostGlibc } from "../../../src/toolchain/debian-archive/elf-glibc.js";
import {
  DEBIAN_ARCHIVE_KEYRING,
  installPackagesFromDebianArchive,
} from "../../../src/toolchain/debian-archive/install.js";
import {
  aptDebianMirror,
  DEFAULT_DEBIAN_MIRROR,
} from "../../../src/toolchain/debian-archive/mirror.js";
import {
  engineBinaries,
  installEngineArchivePart,
  installRunc,
} from "../../../src/toolchain/engine/install.js";
import { canBeRoot } from "../../../src/toolchain/privilege.js";
import { engineBinDir, loadSettings, toolchainPaths } from "../../../src/toolchain/settings.js";
import { readProvenance } from "../../../src/toolchain/state.js";
import { currentEngine } from "../../../src/toolchain/versions.js";
import { writeOciTarball } from "./oci-tarball.js";
import {
  NEWEST_ENGINE,
  newestEngineBinDir,
  OLDEST_ENGINE,
  oldestEngineBinDir,
} from "./other-engines.js";
import { SandboxEngine } from "./sandbox-engine.js";

// The real thing: Debian's signed archive (the mirror apt uses), the Go module proxy, and a
// dockerd of the installed engine started beside the machine's, in directories of the test's own.
const root = mkdtempSync(join(tmpdir(), "current-engine-e2e-"));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  MCP_PIPELINE_CACHE: join(root, "cache"),
  DOCKER_CONFIG: join(root, "docker-config"),
};
delete env.MCP_PIPELINE_BIN;
delete env.DEBIAN_MIRROR;
const paths = toolchainPaths(env);
const ctx = {
  paths,
  settings: loadSettings(env),
  env,
  logFile: join(root, "install.log"),
  note: () => {},
};
const sandboxes: SandboxEngine[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The health check the Dockerfile declares: a probe every second until healthy, then every 10 s. */
const HEALTHCHECK =
  'HEALTHCHECK --interval=10s --start-interval=1s --start-period=10s CMD ["/bin/true"]';

let rootfsTar: string;
const timings: string[] = [];

/** The host's network links and their addresses: what a sandboxed daemon must leave as it was. */
const hostLinks = async (): Promise<string[]> =>
  (await run("ip", ["-brief", "address", "show"]))
    .split("\n")
    // Name and addresses; not the state nor link-local addresses, which come and go with ports.
    .map((line) =>
      line
        .trim()
        .split(/\s+/)
        .filter((f, i) => i !== 1 && !f.startsWith("fe80:"))
        .join(" "),
    )
    .filter((line) => line !== "" && !line.startsWith("veth"))
    .sort();
let linksBefore: string[];

beforeAll(async () => {
  linksBefore = await hostLinks();
  // A tiny root filesystem: Debian's static busybox, from the same signed archive.
  const busybox = join(root, "busybox-bin");
  const outcome = await installPackagesFromDebianArchive(
    [
      {
        package: "busybox-static",
        version: "1.38.0",
        binaries: [{ member: "usr/bin/busybox", name: "busybox", versionArgs: ["--help"] }],
      },
    ],
    ["sid"],
    {
      mirror: aptDebianMirror() ?? DEFAULT_DEBIAN_MIRROR,
      keyring: DEBIAN_ARCHIVE_KEYRING,
      arch: "amd64",
      glibc: hostGlibc(),
      downloads: paths.downloads,
      destDir: busybox,
      env,
      logFile: ctx.logFile,
      note: () => {},
    },
  );
  if (!outcome.installed) throw new Error(`no busybox for the test image: ${outcome.reason}`);
  const rootfs = join(root, "rootfs");
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  writeFileSync(join(rootfs, "bin", "busybox"), readFileSync(join(busybox, "busybox")), {
    mode: 0o755,
  });
  for (const applet of ["sh", "true", "sleep"]) symlinkSync("busybox", join(rootfs, "bin", applet));
  rootfsTar = join(root, "rootfs.tar");
  await run("tar", ["-C", rootfs, "-cf", rootfsTar, "."]);
}, 300_000);

afterAll(async () => {
  for (const s of sandboxes) await s.stop();
  rmSync(root, { recursive: true, force: true });
  if (timings.length) process.stderr.write(`current engine:\n  ${timings.join("\n  ")}\n`);
}, 120_000);

describe("the current engine, installed into the toolchain cache", () => {
  it("installs Docker, containerd and tini from Debian's signed archive and builds runc with seccomp, each with its provenance", async () => {
    let started = Date.now();
    await installEngineArchivePart(ctx, {});
    timings.push(`archive part (5 packages, 7 binaries): ${seconds(Date.now() - started)}`);
    started = Date.now();
    // runc's build needs libseccomp-dev: installed with apt as setup does (root, or sudo on a
    // hosted runner), so a machine that never had it passes too.
    await installRunc(ctx, await canBeRoot(env));
    timings.push(`runc ${currentEngine.runc} go install: ${seconds(Date.now() - started)}`);

    const bin = engineBinDir(paths);
    expect(bin).toBe(join(paths.root, "engine", currentEngine.docker, "bin"));
    for (const b of engineBinaries()) {
      const { stdout } = await execa(join(bin, b.name), [...b.versionArgs], { env });
      expect(stdout, b.name).toContain(b.version);
    }
    const runc = await execa(join(bin, "runc"), ["--version"], { env });
    expect(runc.stdout).toMatch(/libseccomp: 2\.\d+/);

    const provenance = readProvenance(paths);
    for (const name of ["dockerd", "docker-proxy", "docker", "containerd", "ctr", "docker-init"]) {
      expect(provenance[name], name).toMatchObject({
        source: "debian-archive",
        signature: {
          verified: true,
          by: expect.stringMatching(/Debian Archive Automatic Signing Key/),
        },
        archive: { suite: "sid" },
      });
    }
    expect(provenance["containerd-shim-runc-v2"]?.archive?.package).toBe("containerd");
    expect(provenance["docker-init"]?.archive?.package).toBe("tini-static");
    expect(provenance.runc).toMatchObject({
      source: "go-build",
      asset: `github.com/opencontainers/runc@v${currentEngine.runc}`,
    });

    // A second run finds everything in place and fetches nothing.
    started = Date.now();
    await installEngineArchivePart(
      { ...ctx, settings: loadSettings({ ...env, DEBIAN_MIRROR: "http://127.0.0.1:9/debian" }) },
      {},
    );
    await installRunc({ ...ctx, env: { ...env, GOPROXY: "off" } }, false);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 900_000);
});

/** Times of a container's `start` and first `health_status: healthy` events, from the daemon. */
async function startToHealthy(
  engine: SandboxEngine,
  id: string,
  since: number,
): Promise<{ startToHealthyMs: number; events: string[] }> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = await engine.docker(["inspect", "-f", "{{.State.Health.Status}}", id]);
    if (status.trim() === "healthy") break;
    if (status.trim() === "unhealthy") throw new Error(`${id} turned unhealthy`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = await engine.docker([
    "events",
    "--since",
    (since / 1000).toFixed(3),
    "--until",
    (Date.now() / 1000 + 1).toFixed(3),
    "--filter",
    `container=${id}`,
    "--format",
    "{{.TimeNano}} {{.Action}}",
  ]);
  const events = out.split("\n").filter(Boolean);
  const at = (action: string) => {
    const line = events.find((e) => e.split(" ").slice(1).join(" ").trim() === action);
    return line ? Number(BigInt(line.split(" ")[0] ?? "0") / 1_000_000n) : undefined;
  };
  const start = at("start");
  const healthy = at("health_status: healthy");
  if (start === undefined || healthy === undefined)
    throw new Error(`no start or healthy event for ${id}:\n${events.join("\n")}`);
  return { startToHealthyMs: healthy - start, events };
}

// A second dockerd, in a network namespace of its own, needs root: a hosted runner's user
// (under the GitHub simulation) skips the sandbox; the install above and the machine's engine
// below run for every user.
const AS_ROOT = process.getuid?.() === 0;

// The current engine under both stores; the oldest supported engine (Docker 25) under the classic
// store, its default and the only one it supports (its containerd store was experimental); and
// the newest (Docker 29) under the containerd store, its default for new installs. Those two are
// built from the Go module proxy: no Debian suite has them.
const SANDBOXES: { store: ImageStore; engine: "current" | "oldest" | "newest" }[] = [
  { store: "classic", engine: "current" },
  { store: "containerd", engine: "current" },
  { store: "classic", engine: "oldest" },
  { store: "containerd", engine: "newest" },
];
const OTHER = {
  oldest: { spec: OLDEST_ENGINE, binDir: oldestEngineBinDir },
  newest: { spec: NEWEST_ENGINE, binDir: newestEngineBinDir },
} as const;

describe.skipIf(!AS_ROOT).each(SANDBOXES)(
  "a sandboxed dockerd of the $engine engine with the $store image store (needs root)",
  ({ store, engine: which }) => {
    const other = which === "current" ? undefined : OTHER[which];
    const label = other ? `Docker ${other.spec.version} ${store}` : store;
    const serverVersion = other ? other.spec.version : currentEngine.docker;
    let engine: SandboxEngine;
    beforeAll(async () => {
      const started = Date.now();
      const bin = other
        ? await other.binDir(engineBinDir(paths), join(root, which), env, ctx.logFile)
        : engineBinDir(paths);
      if (other) timings.push(`${label} go build: ${seconds(Date.now() - started)}`);
      engine = new SandboxEngine(bin, join(root, `sandbox-${which}-${store}`), store);
      sandboxes.push(engine);
      await engine.start();
    }, 900_000);

    it("runs the engine's own containerd, runc and docker-init beside the machine's engine", async () => {
      const info = JSON.parse(await engine.docker(["info", "--format", "{{json .}}"])) as {
        ServerVersion: string;
        Driver: string;
        DriverStatus: [string, string][];
        ContainerdCommit: { ID: string };
        RuncCommit: { ID: string };
        DockerRootDir: string;
      };
      expect(info.ServerVersion).toContain(serverVersion);
      expect(info.DockerRootDir).toBe(join(engine.dir, "data"));
      const version = await engine.docker(["version", "--format", "{{json .Server.Components}}"]);
      expect(version).toContain(`"Version":"${currentEngine.containerd}`);
      expect(version).toContain(`"Version":"${currentEngine.runc}"`);
      expect(version).toContain(`"Version":"${currentEngine.tini}"`);
      if (store === "containerd")
        expect(info.DriverStatus).toContainEqual(["driver-type", "io.containerd.snapshotter.v1"]);
      else expect(info.Driver).toBe("overlay2");
      // The machine's engine still answers on its own socket, with its own data root.
      const machine = { ...process.env };
      delete machine.DOCKER_HOST;
      const machineRoot = await execa("docker", ["info", "--format", "{{.DockerRootDir}}"], {
        env: machine,
      });
      expect(machineRoot.stdout.trim()).not.toBe(info.DockerRootDir);
    }, 120_000);

    it("turns a container healthy within 2 s of its start with HEALTHCHECK --start-interval=1s", async () => {
      await engine.docker(["import", rootfsTar, "sandbox/busybox:1"]);
      const context = join(engine.dir, "context");
      mkdirSync(context, { recursive: true });
      writeFileSync(
        join(context, "Dockerfile"),
        `FROM sandbox/busybox:1\n${HEALTHCHECK}\nCMD ["/bin/sleep", "600"]\n`,
      );
      await engine.docker(["build", "-q", "-t", "sandbox/healthy:1", context]);
      const health = JSON.parse(
        await engine.docker([
          "image",
          "inspect",
          "-f",
          "{{json .Config.Healthcheck}}",
          "sandbox/healthy:1",
        ]),
      );
      expect(health).toMatchObject({ StartInterval: 1e9, StartPeriod: 10e9, Interval: 10e9 });

      const since = Date.now() - 1000;
      const id = (
        await engine.docker(["run", "-d", "--network", "none", "sandbox/healthy:1"])
      ).trim();
      const { startToHealthyMs, events } = await startToHealthy(engine, id, since);
      // A container names its image by the image's id, whichever digest the store uses for it.
      const imageId = await engine.docker([
        "image",
        "inspect",
        "-f",
        "{{.Id}}",
        "sandbox/healthy:1",
      ]);
      expect(await engine.docker(["inspect", "-f", "{{.Image}}", id])).toBe(imageId);
      timings.push(`${label}: built image ${imageId}`);
      timings.push(
        `${label}: start → healthy ${startToHealthyMs} ms (${events.map((e) => e.split(" ").slice(1).join(" ")).join(", ")})`,
      );
      // One start interval (1 s) and the probe itself; with --interval=10s alone it would be 10 s.
      expect(startToHealthyMs).toBeGreaterThanOrEqual(900);
      expect(startToHealthyMs).toBeLessThanOrEqual(2000);
      await engine.docker(["rm", "-f", id]);
    }, 180_000);

    it("lets the pipeline load an exported image once, find it again by this store's id, and key its runs by the store", async () => {
      const layer = readFileSync(rootfsTar);
      const exported = await writeOciTarball(join(engine.dir, "export.tar"), {
        layer,
        platforms: ["linux/amd64", "linux/arm64"],
        cmd: ["/bin/sleep", "602"],
      });
      const named = join(engine.dir, "export-named.tar");
      await writeOciTarball(named, {
        name: "docker.io/sandbox/exported:1",
        layer,
        platforms: ["linux/amd64", "linux/arm64"],
        cmd: ["/bin/sleep", "603"],
      });
      const since = (Date.now() / 1000 - 1).toFixed(3);
      // The pipeline's Docker CLI calls take the process's environment: point it at the sandbox.
      const saved = { DOCKER_HOST: process.env.DOCKER_HOST, PATH: process.env.PATH };
      Object.assign(process.env, { DOCKER_HOST: engine.env.DOCKER_HOST, PATH: engine.env.PATH });
      try {
        // What the run key records of the engine: a run checked under one store is not replayed
        // under the other.
        expect(await dockerEngine()).toEqual({
          // Debian's build says so: 28.5.2+dfsg4.
          version: expect.stringMatching(new RegExp(`^${serverVersion.replaceAll(".", "\\.")}\\b`)),
          store,
        });
        const first = await loadImageOnce(join(engine.dir, "export.tar"));
        expect(await loadImageOnce(join(engine.dir, "export.tar"))).toBe(first);
        // The classic store keeps the first platform (Docker's manifest.json) under its config
        // digest; the containerd store the whole index under the digest index.json names.
        expect(first).toBe(
          store === "classic" ? exported.platforms[0]?.config : exported.indexDigest,
        );
        const fromName = await loadImageOnce(named);
        expect(fromName).toBe(
          (await engine.docker(["image", "inspect", "-f", "{{.Id}}", "sandbox/exported:1"])).trim(),
        );
        expect(await loadImageOnce(named)).toBe(fromName);
      } finally {
        for (const [k, v] of Object.entries(saved))
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
      }
      const loads = (
        await engine.docker([
          "events",
          "--since",
          since,
          "--until",
          (Date.now() / 1000 + 1).toFixed(3),
          "--filter",
          "type=image",
          "--filter",
          "event=load",
          "--format",
          "{{.Action}}",
        ])
      )
        .split("\n")
        .filter(Boolean);
      // Two tarballs, each loaded once; the second call found each by its id.
      expect(loads).toHaveLength(2);
    }, 120_000);

    it("gives loaded and imported images the ids this store gives them", async () => {
      const layer = readFileSync(rootfsTar);
      const named = await writeOciTarball(join(engine.dir, "named.tar"), {
        name: "docker.io/sandbox/multi:1",
        layer,
        platforms: ["linux/amd64", "linux/arm64"],
        cmd: ["/bin/sleep", "600"],
      });
      const anonymous = await writeOciTarball(join(engine.dir, "anonymous.tar"), {
        layer,
        platforms: ["linux/amd64", "linux/arm64"],
        cmd: ["/bin/sleep", "601"],
      });
      const amd64 = named.platforms[0];
      if (!amd64) throw new Error("no amd64 image in the tarball");
      const since = Date.now() - 1000;
      const loadedNamed = await engine.docker(["load", "-q", "-i", join(engine.dir, "named.tar")]);
      const loadedAnonymous = await engine.docker([
        "load",
        "-q",
        "-i",
        join(engine.dir, "anonymous.tar"),
      ]);
      const inspect = (ref: string, ...flags: string[]) =>
        engine.docker(["image", "inspect", ...flags, "-f", "{{.Id}}", ref]).then(
          (id) => id.trim(),
          () => "no such image",
        );
      const loadEventsFor = async (image: string) =>
        (
          await engine.docker([
            "events",
            "--since",
            (since / 1000).toFixed(3),
            "--until",
            (Date.now() / 1000 + 1).toFixed(3),
            "--filter",
            `image=${image}`,
            "--format",
            "{{.Action}}",
          ])
        )
          .split("\n")
          .filter(Boolean).length;
      const facts = {
        loadNamed: loadedNamed.trim(),
        loadAnonymous: loadedAnonymous.trim(),
        id: await inspect("sandbox/multi:1"),
        repoDigests: (
          await engine.docker([
            "image",
            "inspect",
            "-f",
            "{{json .RepoDigests}}",
            "sandbox/multi:1",
          ])
        ).trim(),
        byConfigDigest: await inspect(amd64.config),
        byManifestDigest: await inspect(amd64.manifest),
        byIndexDigest: await inspect(named.indexDigest),
        arm64: await inspect("sandbox/multi:1", "--platform", "linux/arm64"),
        importedId: await inspect("sandbox/busybox:1"),
        importedRepoDigests: (
          await engine.docker([
            "image",
            "inspect",
            "-f",
            "{{json .RepoDigests}}",
            "sandbox/busybox:1",
          ])
        ).trim(),
        /** `docker events --filter image=<digest>` for the amd64 config digest and the index digest. */
        eventsByImage: {
          config: await loadEventsFor(amd64.config),
          index: await loadEventsFor(named.indexDigest),
        },
        loadEvents: (
          await engine.docker([
            "events",
            "--since",
            (since / 1000).toFixed(3),
            "--until",
            (Date.now() / 1000 + 1).toFixed(3),
            "--filter",
            "type=image",
            "--filter",
            "event=load",
            "--format",
            '{{.Action}} {{.Actor.ID}} name={{index .Actor.Attributes "name"}}',
          ])
        )
          .trim()
          .split("\n"),
      };
      timings.push(`${label} ids: ${JSON.stringify(facts)}`);
      if (store === "classic") {
        // manifest.json (one platform) is what the classic store reads; the id is the config digest.
        expect(facts.loadNamed).toBe("Loaded image: sandbox/multi:1");
        expect(facts.loadAnonymous).toBe(`Loaded image ID: ${anonymous.platforms[0]?.config}`);
        expect(facts.id).toBe(amd64.config);
        expect(facts.byConfigDigest).toBe(amd64.config);
        expect(facts.byIndexDigest).toBe("no such image");
        expect(facts.arm64).toBe("no such image");
        expect(facts.repoDigests).toBe("[]");
        expect(facts.importedRepoDigests).toBe("[]");
        expect(facts.eventsByImage).toEqual({ config: 1, index: 0 });
        expect(facts.loadEvents).toEqual([
          `load ${amd64.config} name=${amd64.config}`,
          `load ${anonymous.platforms[0]?.config} name=${anonymous.platforms[0]?.config}`,
        ]);
      } else {
        // index.json is what the containerd store reads; the id is the index digest, every platform kept.
        expect(facts.loadNamed).toBe("Loaded image: sandbox/multi:1");
        expect(facts.loadAnonymous).toBe(`Loaded image ID: ${anonymous.indexDigest}`);
        expect(facts.id).toBe(named.indexDigest);
        expect(facts.byConfigDigest).toBe("no such image");
        expect(facts.byManifestDigest).toBe("no such image");
        expect(facts.byIndexDigest).toBe(named.indexDigest);
        expect(facts.arm64).toBe(named.platforms[1]?.manifest);
        expect(facts.repoDigests).toBe(`["sandbox/multi@${named.indexDigest}"]`);
        // An imported image's id is its manifest digest, and it gets a digest reference too.
        expect(facts.importedRepoDigests).toBe(`["sandbox/busybox@${facts.importedId}"]`);
        expect(facts.eventsByImage).toEqual({ config: 0, index: 1 });
        expect(facts.loadEvents).toEqual([
          `load ${named.indexDigest} name=${named.indexDigest}`,
          `load ${anonymous.indexDigest} name=${anonymous.indexDigest}`,
        ]);
      }
    }, 180_000);
  },
);

describe("the machine's engine, as the contrast", () => {
  it("refuses HEALTHCHECK --start-interval when it is older than Docker 25 (and keeps it when newer)", async () => {
    const machine: NodeJS.ProcessEnv = {
      ...process.env,
      DOCKER_BUILDKIT: "0",
      DOCKER_CONFIG: join(root, "machine-cli"),
    };
    delete machine.DOCKER_HOST;
    mkdirSync(join(root, "machine-cli"), { recursive: true });
    const server = (
      await execa("docker", ["version", "--format", "{{.Server.Version}}"], { env: machine })
    ).stdout.trim();
    const context = join(root, "machine-context");
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, "Dockerfile"), `FROM scratch\n${HEALTHCHECK}\n`);
    const tag = `mcp-pipeline-start-interval-probe:${randomBytes(4).toString("hex")}`;
    try {
      const built = await execa("docker", ["build", "-q", "-t", tag, context], {
        env: machine,
        reject: false,
        all: true,
      });
      const refusal =
        String(built.all ?? "")
          .split("\n")
          .find((l) => /start-interval/.test(l)) ?? "";
      timings.push(
        `machine's Docker ${server}: docker build ${built.exitCode === 0 ? "accepted" : `refused (exit ${built.exitCode}): ${refusal.trim()}`}`,
      );
      if (Number(server.split(".")[0]) < currentEngine.oldestKept) {
        expect(built.exitCode).not.toBe(0);
        expect(refusal).toMatch(/Unknown flag: start-interval/);
        expect(
          (await execa("docker", ["image", "inspect", tag], { env: machine, reject: false }))
            .exitCode,
        ).not.toBe(0);
      } else {
        expect(built.exitCode).toBe(0);
      }
    } finally {
      await execa("docker", ["image", "rm", "-f", tag], { env: machine, reject: false });
    }
  }, 120_000);
});

describe("the sandbox, stopped", () => {
  it("left the host's network as it was: the machine engine's docker0 and its address are there", async () => {
    // Started outside a namespace of its own, a daemon with --bridge=none deletes docker0.
    expect(await hostLinks()).toEqual(linksBefore);
    expect(linksBefore.some((l) => l.startsWith("docker0 "))).toBe(true);
  });

  it("leaves no process, mount or directory behind", async () => {
    for (const s of sandboxes) {
      await s.stop();
      expect(s.leftovers()).toEqual({ processes: [], mounts: [] });
      expect(existsSync(s.dir)).toBe(false);
    }
    sandboxes.length = 0;
  }, 120_000);
});
