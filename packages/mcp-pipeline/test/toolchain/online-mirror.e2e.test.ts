import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestDigest } from "../../src/host/registry-api.js";
import { sha256File } from "../../src/toolchain/checksums.js";
import { toolchainEnv } from "../../src/toolchain/env.js";
import { TOKEN_REGISTRY_ADDRESS } from "../../src/toolchain/registry-config.js";
import { readRegistryAuth, readState } from "../../src/toolchain/state.js";
import { PACKAGE_ROOT } from "../paths.js";
import { paths, repoRoot } from "./helpers.js";
import {
  buildReleaseMirror,
  type MirrorServer,
  type ReleaseMirror,
  serveMirror,
} from "./release-mirror.js";
import { Sandbox } from "./sandbox.js";

const TOOLS = ["cosign", "actionlint", "docker-compose", "docker-buildx", "trivy", "dagger"];

interface Doctor {
  ok: boolean;
  mode: string;
  components: { name: string; ok: boolean; detail: string }[];
  provenance: {
    tool: string;
    source: string;
    asset?: string;
    url?: string;
    sha256: string;
    checksumSource?: string;
    signature?: { verified: boolean; by?: string };
  }[];
}

describe("mcp-pipeline setup online (AIRGAP=0) from a DOWNLOAD_MIRROR laid out like the upstream hosts", () => {
  const work = mkdtempSync(join(tmpdir(), "online-mirror-"));
  let mirror: ReleaseMirror;
  let server: MirrorServer;
  let otherKey: string;
  const sandboxes: Sandbox[] = [];
  const sandbox = (name: string, env: NodeJS.ProcessEnv = {}) => {
    const s = new Sandbox(name, {
      AIRGAP: "0",
      DOWNLOAD_MIRROR: server.url,
      DOWNLOAD_MIRROR_COSIGN_KEY: mirror.key.public,
      ...env,
    });
    sandboxes.push(s);
    return s;
  };

  beforeAll(async () => {
    // Release archives made from the binaries the air-gapped setup built on this machine.
    mirror = await buildReleaseMirror(paths.bin, join(work, "mirror"));
    server = await serveMirror(mirror.dir);
    const keyDir = mkdtempSync(join(work, "other-key-"));
    await execa(join(paths.bin, "cosign"), ["generate-key-pair"], {
      cwd: keyDir,
      env: { ...process.env, COSIGN_PASSWORD: "other" },
    });
    otherKey = join(keyDir, "cosign.pub");
  });

  afterAll(async () => {
    for (const s of sandboxes) await s.cleanup();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  let online: Sandbox;

  it("installs every tool from the mirror only after checking it against its project's checksums, and doctor is green", async () => {
    online = sandbox("online");
    // A user's own engine config, which setup must keep.
    mkdirSync(join(online.env.XDG_CONFIG_HOME ?? "", "dagger"), { recursive: true });
    const engineJson = join(online.env.XDG_CONFIG_HOME ?? "", "dagger", "engine.json");
    writeFileSync(
      engineJson,
      JSON.stringify({ registries: { "registry.corp.example": { http: true } } }),
    );

    const res = await online.entry(["setup"]);
    expect(res.exitCode, res.all).toBe(0);
    expect(online.installedTools().sort()).toEqual([...TOOLS].sort());

    // Every download went to the mirror, in the upstream hosts' layout.
    expect(server.requests.length).toBeGreaterThanOrEqual(TOOLS.length * 2 + 1);
    for (const path of server.requests) expect(path).toMatch(/^\/(github\.com|dl\.dagger\.io)\//);
    expect(server.requests).toContain(
      `/github.com/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt.sigstore.json`,
    );

    const doctor = await online.entry(["doctor", "--json"]);
    const report = JSON.parse(doctor.stdout) as Doctor;
    expect(
      report.components.filter((c) => !c.ok),
      doctor.all,
    ).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.mode).toBe("online");
    expect(report.provenance.map((p) => p.tool).sort()).toEqual([...TOOLS].sort());
    for (const p of report.provenance) {
      const asset = mirror.assets[p.tool];
      expect(p.source).toBe("release");
      expect(p.sha256).toBe(asset?.sha256);
      expect(p.url).toBe(`${server.url}${asset?.path}`);
      expect(p.checksumSource?.startsWith(`${server.url}/`)).toBe(true);
    }
    const trivy = report.provenance.find((p) => p.tool === "trivy");
    expect(trivy?.signature).toEqual({ verified: true, by: `key ${mirror.key.public}` });

    // Online, only the authenticated registry runs (the tests publish to it), and the
    // engine config the CLI mounts marks it plain HTTP, next to the user's own entry.
    const state = readState(online.paths);
    const auth = readRegistryAuth(online.paths);
    expect(state?.registry.mirror).toBeNull();
    expect(state?.registry.auth?.address).toBe(auth?.address);
    expect(JSON.parse(readFileSync(engineJson, "utf8"))).toEqual({
      registries: {
        "registry.corp.example": { http: true },
        [auth?.address ?? ""]: { http: true },
        [TOKEN_REGISTRY_ADDRESS]: { http: true },
      },
    });
  });

  it("publishes to the local registry from an engine the CLI starts with that engine config", async () => {
    const auth = readRegistryAuth(online.paths);
    expect(auth).toBeDefined();
    if (!auth) return;
    const tag = `online-${randomBytes(4).toString("hex")}`;
    const res = await execa(
      join(online.paths.bin, "dagger"),
      [
        "run",
        "--progress=plain",
        join(repoRoot, "node_modules", ".bin", "tsx"),
        join(PACKAGE_ROOT, "test", "toolchain", "fixtures", "publish-scratch.ts"),
        tag,
      ],
      {
        cwd: repoRoot,
        env: toolchainEnv(online.paths, online.env),
        extendEnv: false,
        reject: false,
        all: true,
      },
    );
    expect(res.exitCode, res.all?.split("\n").slice(-30).join("\n")).toBe(0);
    const digest = res.stdout.trim().split("@")[1];
    expect(await manifestDigest(auth.address, "toolchain-online/scratch", tag, auth)).toBe(digest);
    // The engine container the CLI started mounts that file as its config.
    const mounts = await execa("docker", [
      "inspect",
      "--format",
      "{{range .Mounts}}{{.Source}}->{{.Destination}} {{end}}",
      online.engineContainer,
    ]);
    expect(mounts.stdout).toContain(
      `${join(online.env.XDG_CONFIG_HOME ?? "", "dagger", "engine.json")}->/etc/dagger/engine.json`,
    );
  });

  it("stops with exit 2 naming the asset and both hashes when an archive was tampered with, and installs nothing of it", async () => {
    const s = sandbox("tampered");
    const trivy = mirror.assets.trivy;
    if (!trivy) throw new Error("no trivy in the mirror");
    const tampered = join(work, "trivy-tampered.tar.gz");
    copyFileSync(join(mirror.dir, trivy.path), tampered);
    const fd = openSync(tampered, "r+");
    writeSync(fd, Buffer.from("tampered"), 0, 8, 1024);
    closeSync(fd);
    const actual = await sha256File(tampered);
    server.override(trivy.path, tampered);
    try {
      const res = await s.entry(["setup"]);
      expect(res.exitCode, res.all).toBe(2);
      expect(res.stderr).toContain(
        `trivy_0.74.0_Linux-64bit.tar.gz: sha256 mismatch — expected ${trivy.sha256}`,
      );
      expect(res.stderr).toContain(`got ${actual}`);
      expect(res.stderr).toMatch(/Nothing was installed/);
    } finally {
      server.reset();
    }
    expect(s.installedTools()).not.toContain("trivy");
    expect(existsSync(join(s.paths.downloads)) ? readdirSync(s.paths.downloads) : []).toEqual([]);
  });

  it("stops with exit 2 when the checksums file does not list the asset", async () => {
    const s = sandbox("unlisted");
    const checksums = "/github.com/sigstore/cosign/releases/download/v2.6.5/cosign_checksums.txt";
    const without = join(work, "cosign_checksums_without.txt");
    writeFileSync(
      without,
      readFileSync(join(mirror.dir, checksums), "utf8")
        .split("\n")
        .filter((l) => !l.endsWith("  cosign-linux-amd64"))
        .join("\n"),
    );
    server.override(checksums, without);
    try {
      const res = await s.entry(["setup"]);
      expect(res.exitCode, res.all).toBe(2);
      expect(res.stderr).toContain(
        `cosign-linux-amd64: no checksum for it in ${server.url}${checksums}.`,
      );
    } finally {
      server.reset();
    }
    expect(s.installedTools()).toEqual([]);
  });

  it("stops with exit 2 when the checksums file is not published at all", async () => {
    const s = sandbox("no-checksums");
    const checksums = "/github.com/sigstore/cosign/releases/download/v2.6.5/cosign_checksums.txt";
    server.override(checksums, null);
    try {
      const res = await s.entry(["setup"]);
      expect(res.exitCode, res.all).toBe(2);
      expect(res.stderr).toContain(
        `cosign-linux-amd64: its checksums file could not be fetched from ${server.url}${checksums}`,
      );
    } finally {
      server.reset();
    }
    expect(s.installedTools()).toEqual([]);
  });

  it("stops with exit 2 when Trivy's checksums are not signed by the key they must be signed by", async () => {
    const s = sandbox("wrong-signer", { DOWNLOAD_MIRROR_COSIGN_KEY: otherKey });
    const res = await s.entry(["setup"]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toContain(
      `trivy_0.74.0_Linux-64bit.tar.gz: the signature of its checksums file does not verify as signed by key ${otherKey}.`,
    );
    expect(s.installedTools()).not.toContain("trivy");
  });
});
