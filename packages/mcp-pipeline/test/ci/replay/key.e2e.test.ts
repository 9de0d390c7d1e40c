import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Config } from "../../../src/ci/config/schema.js";
import { tryDocker } from "../../../src/ci/docker/docker.js";
import { resolveBaseDigest } from "../../../src/ci/replay/base-digests.js";
import {
  keyDifferences,
  NotReplayable,
  type RunKeyInputs,
  runKey,
} from "../../../src/ci/replay/key.js";
import { basicAuth, MANIFEST_ACCEPT, manifestDigest } from "../../../src/host/registry-api.js";
import { readRegistries } from "../../../src/toolchain/state.js";
import { paths } from "../../toolchain/helpers.js";
import { startTokenRegistry, type TokenRegistry } from "../support/token-registry.js";

// The run key against the real local registry (base images resolved through it as the engine's
// mirror), real `docker compose config`, real Trivy and real Docker image ids.

const mirror = readRegistries(paths).mirror?.address ?? "172.17.0.1:5000";
const hosts = { "docker.io": { mirrors: [mirror] }, [mirror]: { http: true } };
const id = randomBytes(3).toString("hex");
/** A tag of the mirror's library/node this file alone moves between two real manifests (one name, so none pile up). */
const movingTag = "pipeline-replay-test";
const neighbourBase = `replay-key-base-${id}:1`;

let dir: string;

async function manifest(tag: string): Promise<{ body: ArrayBuffer; type: string }> {
  const res = await fetch(`http://${mirror}/v2/library/node/manifests/${tag}`, {
    headers: { Accept: MANIFEST_ACCEPT },
  });
  if (!res.ok) throw new Error(`the mirror has no library/node:${tag} (run mcp-pipeline setup)`);
  return { body: await res.arrayBuffer(), type: res.headers.get("content-type") ?? "" };
}

/** Points library/node:<movingTag> at the image of `platform`, as a base image update would. */
async function moveTag(platform: "amd64" | "arm64"): Promise<void> {
  const { body, type } = await manifest(`24-bookworm-slim-linux-${platform}`);
  const res = await fetch(`http://${mirror}/v2/library/node/manifests/${movingTag}`, {
    method: "PUT",
    headers: { "Content-Type": type },
    body,
  });
  if (res.status !== 201) throw new Error(`PUT ${movingTag} answered ${res.status}`);
}

function write(file: string, content: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), content);
}

/** A neighbour's base image in Docker: an empty file system with a unique label. */
async function localImage(ref: string): Promise<void> {
  await execa(
    "docker",
    ["import", "-c", `LABEL unique=${randomBytes(6).toString("hex")}`, "-", ref],
    {
      input: Buffer.alloc(1024),
    },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "replay-key-"));
  await moveTag("amd64");
  await localImage(neighbourBase);
  write("Dockerfile", `ARG BASE=node:${movingTag}\nFROM \${BASE}\nCOPY app /app\n`);
  write(".dockerignore", "notes.md\nbackend/\ntrivy-db/\ncompose.yml\n");
  write("app/server.js", "console.log(1)");
  write("notes.md", "not sent");
  write("backend/Dockerfile", `FROM ${neighbourBase}\nCOPY . /b\n`);
  write("backend/b.txt", "backend");
  write(
    "compose.yml",
    `services:\n  app:\n    image: replay-key-app\n  backend:\n    build: ./backend\n`,
  );
  write("trivy-db/db/metadata.json", '{"Version":2,"UpdatedAt":"2026-11-01T00:00:00Z"}');
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await tryDocker(["image", "rm", "-f", neighbourBase]);
});

function inputs(
  over: Record<string, unknown> = {},
  rest: Partial<RunKeyInputs> = {},
): RunKeyInputs {
  const config = Config.parse({
    image: { name: "replay-key", platforms: ["linux/amd64"] },
    compose: { file: "compose.yml", service: "app", port: 3000 },
    trivy: { dbDir: "trivy-db" },
    ...over,
  });
  return {
    stage: "verify",
    skip: [],
    config: {
      ...config,
      image: { ...config.image, name: "replay-key" },
      reportDir: join(dir, "report"),
    },
    cwd: dir,
    labels: {
      version: "0.0.0-main+abc1234",
      revision: "abc1234",
      created: "2026-11-26T00:00:00.000Z",
      source: "unknown",
    },
    offline: true,
    ci: false,
    npmCaFile: undefined,
    registryHosts: hosts,
    ...rest,
  };
}

describe("resolveBaseDigest", () => {
  it("asks the engine's mirror first, as the engine does", async () => {
    const expected = await manifestDigest(mirror, "library/node", "24-bookworm-slim");
    expect(expected).toMatch(/^sha256:/);
    expect(await resolveBaseDigest("node:24-bookworm-slim", hosts)).toBe(expected);
  });

  it("takes a digest-pinned reference as it is, asking nobody", async () => {
    const pinned = `sha256:${"a".repeat(64)}`;
    expect(await resolveBaseDigest(`node@${pinned}`, {})).toBe(pinned);
  });

  it("names every place it asked when none has the image", async () => {
    const err = await resolveBaseDigest(`node:absent-${id}`, hosts).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      `cannot resolve node:absent-${id}: ${mirror}: no such manifest; docker.io: `,
    );
  });
});

describe("resolveBaseDigest through a Bearer challenge (as Docker Hub and GHCR ask)", () => {
  let registry: TokenRegistry;
  afterEach(async () => registry?.close());

  /** Pushes a one-config image with a push token from the registry's token endpoint; its digest. */
  async function pushTiny(name: string, tag: string): Promise<string> {
    const base = `http://${registry.address}`;
    const tokenRes = await fetch(
      `${base}/token?service=token-test-registry&scope=repository:${name}:pull,push`,
      { headers: { Authorization: basicAuth(registry) } },
    );
    const { token } = (await tokenRes.json()) as { token: string };
    const headers = { Authorization: `Bearer ${token}` };
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [] },
      }),
    );
    const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
    const start = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: "POST", headers });
    const location = new URL(start.headers.get("location") ?? "", base);
    location.searchParams.set("digest", configDigest);
    const blob = await fetch(location, { method: "PUT", headers, body: config });
    expect(blob.status).toBe(201);
    const manifest = await fetch(`${base}/v2/${name}/manifests/${tag}`, {
      method: "PUT",
      headers: { ...headers, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: config.length,
        },
        layers: [],
      }),
    });
    expect(manifest.status).toBe(201);
    return manifest.headers.get("docker-content-digest") ?? "";
  }

  it("gets an anonymous token and the digest, with a HEAD request", async () => {
    registry = await startTokenRegistry({ anonymousPull: true });
    const digest = await pushTiny("base/tiny", "1");
    expect(digest).toMatch(/^sha256:/);
    registry.requests.length = 0;
    const http = { [registry.address]: { http: true } };
    expect(await resolveBaseDigest(`${registry.address}/base/tiny:1`, http)).toBe(digest);
    expect(registry.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      "HEAD 401",
      "HEAD 200",
    ]);
  });

  it("names the registry that refuses an anonymous token", async () => {
    registry = await startTokenRegistry();
    await pushTiny("base/tiny", "1");
    const http = { [registry.address]: { http: true } };
    await expect(resolveBaseDigest(`${registry.address}/base/tiny:1`, http)).rejects.toThrow(
      `${registry.address}: HEAD /v2/base/tiny/manifests/1 at ${registry.address} answered 401`,
    );
  });
});

describe("runKey", () => {
  it("is the same for the same inputs", async () => {
    const [a, b] = await Promise.all([runKey(inputs()), runKey(inputs())]);
    expect(a.key).toMatch(/^[0-9a-f]{64}$/);
    expect(b.key).toBe(a.key);
  });

  it("ignores where the report goes and where a publish would go", async () => {
    const base = await runKey(inputs());
    const moved = inputs({
      registry: { address: "ghcr.io", repository: "o/r" },
      tags: { extra: ["x"] },
    });
    moved.config.reportDir = join(dir, "elsewhere");
    expect((await runKey(moved)).key).toBe(base.key);
  });

  it("changes with a file the build is sent, not with one it is not", async () => {
    const base = await runKey(inputs());
    write("notes.md", `changed ${Date.now()}`);
    expect((await runKey(inputs())).key).toBe(base.key);
    write("app/server.js", "console.log(2)");
    const changed = await runKey(inputs());
    write("app/server.js", "console.log(1)");
    expect(keyDifferences(base.parts, changed.parts)).toEqual(["build.context"]);
  });

  it("changes when the base image's tag moves, and back when it returns", async () => {
    const base = await runKey(inputs());
    await moveTag("arm64");
    const moved = await runKey(inputs());
    await moveTag("amd64");
    expect(keyDifferences(base.parts, moved.parts)).toEqual(["build.bases"]);
    expect((await runKey(inputs())).key).toBe(base.key);
  });

  it("cannot be made when a check that would run has no cache key (it always runs)", async () => {
    const always = {
      id: "always",
      run: async () => ({ status: "passed" as const, summary: "", details: [] }),
    };
    await expect(runKey({ ...inputs(), checks: [always] })).rejects.toThrow(NotReplayable);
    // Control: skipped, it does not count.
    await expect(
      runKey({ ...inputs(), checks: [always], skip: ["always"] }),
    ).resolves.toHaveProperty("key");
  });

  it("cannot be made when no registry serves a base image", async () => {
    const unknown = inputs({
      image: {
        name: "replay-key",
        platforms: ["linux/amd64"],
        buildArgs: { BASE: `node:absent-${id}` },
      },
    });
    await expect(runKey(unknown)).rejects.toThrow(`cannot resolve node:absent-${id}`);
  });

  it("changes with a neighbour's source and with the local image it builds from", async () => {
    const base = await runKey(inputs());
    write("backend/b.txt", "changed");
    const source = await runKey(inputs());
    write("backend/b.txt", "backend");
    expect(keyDifferences(base.parts, source.parts)).toEqual([
      "checks.compose-smoke",
      "checks.mcp-conformance",
      "checks.mcp-contract",
    ]);
    await localImage(neighbourBase);
    expect((await runKey(inputs())).key).not.toBe(base.key);
  });

  it("changes with the vulnerability database, the request and the labels", async () => {
    const base = await runKey(inputs());
    write("trivy-db/db/metadata.json", '{"Version":2,"UpdatedAt":"2026-11-02T00:00:00Z"}');
    const db = await runKey(inputs());
    write("trivy-db/db/metadata.json", '{"Version":2,"UpdatedAt":"2026-11-01T00:00:00Z"}');
    expect(keyDifferences(base.parts, db.parts)).toEqual([
      "checks.trivy",
      "checks.trivy-vulnerabilities",
    ]);
    const budget = await runKey(inputs({ sizeBudget: { uncompressedMB: 1 } }));
    expect(keyDifferences(base.parts, budget.parts)).toEqual([
      "config.sizeBudget",
      "checks.size-budget",
    ]);
    const skipped = await runKey(inputs({}, { skip: ["trivy"] }));
    expect(keyDifferences(base.parts, skipped.parts)).toEqual(["skip", "checks.trivy"]);
    const commit = await runKey(
      inputs({}, { labels: { ...inputs().labels, revision: "def5678" } }),
    );
    expect(keyDifferences(base.parts, commit.parts)).toEqual(["labels.revision"]);
  });
});
