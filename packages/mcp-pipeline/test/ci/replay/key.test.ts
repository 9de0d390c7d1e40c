import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Check } from "../../../src/ci/checks/check.js";
import { Config } from "../../../src/ci/config/schema.js";
import {
  type KeyReads,
  keyDifferences,
  type RunKeyInputs,
  replayable,
  runKey,
} from "../../../src/ci/replay/key.js";

// The run key with its reads of the world injected: every input it is made of, changed one at a
// time, must change the key (and name itself in keyDifferences), and what it leaves out on
// purpose must not. The real readers are exercised by key.e2e.test.ts.

let dir: string;
const write = (file: string, content: string) => {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), content);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "replay-key-unit-"));
  write(
    "Dockerfile",
    "FROM node:24-bookworm-slim AS build\nFROM debian:bookworm-slim\nCOPY app /app\n",
  );
  write(".dockerignore", "notes.md\n");
  write("app/server.js", "console.log(1)");
  write("notes.md", "not sent");
  write("ca.pem", "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The outside world the key reads, as one mutable object the tests change. */
const world = () => ({
  digests: {
    "node:24-bookworm-slim": `sha256:${"1".repeat(64)}`,
    "debian:bookworm-slim": `sha256:${"2".repeat(64)}`,
  } as Record<string, string>,
  arm64: { ok: true } as Awaited<ReturnType<KeyReads["emulation"]>>,
  code: "code-v1",
  engine: { version: "28.5.2", store: "classic" } as Awaited<ReturnType<KeyReads["engine"]>>,
  checkInput: "trivy-db-1",
  checkPerPlatform: "probe-250",
});
type World = ReturnType<typeof world>;

const reads = (w: World): Partial<KeyReads> => ({
  baseDigest: async (ref) => {
    const digest = w.digests[ref];
    if (!digest) throw new Error(`cannot resolve ${ref}`);
    return digest;
  },
  emulation: async () => w.arm64,
  hostArch: () => "amd64",
  code: () => w.code,
  engine: async () => w.engine,
});

const checks = (w: World): Check[] => [
  {
    id: "scan",
    run: async () => ({ status: "passed", summary: "", details: [] }),
    cacheKey: async () => ({ db: w.checkInput }),
  },
  {
    id: "health",
    perPlatform: true,
    run: async () => ({ status: "passed", summary: "", details: [] }),
    cacheKey: async (ctx) => ({ probe: w.checkPerPlatform, runnable: ctx.runnable.ok }),
  },
];

/** Changes to the inputs: any field, and configuration as the file would give it. */
type Over = Omit<Partial<RunKeyInputs>, "config"> & { config?: Record<string, unknown> };

function inputs(w: World, over: Over = {}): RunKeyInputs {
  const { config: configOver, ...rest } = over;
  const config = Config.parse({
    image: { name: "key-unit", platforms: ["linux/amd64", "linux/arm64"] },
    ...configOver,
  });
  return {
    stage: "verify",
    skip: [],
    config: {
      ...config,
      image: { ...config.image, name: "key-unit" },
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
    registryHosts: {},
    checks: checks(w),
    reads: reads(w),
    ...rest,
  };
}

describe("runKey", () => {
  it("is the same for the same inputs", async () => {
    const w = world();
    const [a, b] = await Promise.all([runKey(inputs(w)), runKey(inputs(w))]);
    expect(a.key).toMatch(/^[0-9a-f]{64}$/);
    expect(b.key).toBe(a.key);
  });

  // Each case changes one input and names the parts the key must say changed.
  const cases: {
    name: string;
    parts: string[];
    change(w: World): Over;
  }[] = [
    {
      name: "the stage",
      parts: ["stage", "checks.scan", "checks.health"],
      change: () => ({ stage: "build" }),
    },
    { name: "a skipped check", parts: ["skip", "checks.scan"], change: () => ({ skip: ["scan"] }) },
    {
      name: "a checked configuration section",
      parts: ["config.sizeBudget"],
      change: () => ({ config: { sizeBudget: { uncompressedMB: 99 } } }),
    },
    {
      name: "the version label",
      parts: ["labels.version"],
      change: () => ({
        labels: {
          version: "1.0.0",
          revision: "abc1234",
          created: "2026-11-26T00:00:00.000Z",
          source: "unknown",
        },
      }),
    },
    {
      name: "the revision label",
      parts: ["labels.revision"],
      change: () => ({
        labels: {
          version: "0.0.0-main+abc1234",
          revision: "def5678",
          created: "2026-11-26T00:00:00.000Z",
          source: "unknown",
        },
      }),
    },
    {
      name: "the created label",
      parts: ["labels.created"],
      change: () => ({
        labels: {
          version: "0.0.0-main+abc1234",
          revision: "abc1234",
          created: "2026-11-27T00:00:00.000Z",
          source: "unknown",
        },
      }),
    },
    {
      name: "the source label",
      parts: ["labels.source"],
      change: () => ({
        labels: {
          version: "0.0.0-main+abc1234",
          revision: "abc1234",
          created: "2026-11-26T00:00:00.000Z",
          source: "https://example.com/r",
        },
      }),
    },
    { name: "being offline", parts: ["offline"], change: () => ({ offline: false }) },
    { name: "being a CI run", parts: ["ci"], change: () => ({ ci: true }) },
    {
      name: "the npm CA",
      parts: ["build.npmCa"],
      change: () => ({ npmCaFile: join(dir, "ca.pem") }),
    },
    {
      name: "a base image's digest",
      parts: ["build.bases"],
      change: (w) => {
        w.digests["debian:bookworm-slim"] = `sha256:${"3".repeat(64)}`;
        return {};
      },
    },
    {
      name: "whether a platform can run here",
      parts: ["platforms", "checks.health"],
      change: (w) => {
        w.arm64 = { ok: false, reason: "no qemu" };
        return {};
      },
    },
    {
      name: "the pipeline's code",
      parts: ["code"],
      change: (w) => {
        w.code = "code-v2";
        return {};
      },
    },
    {
      name: "the engine's image store",
      parts: ["engine.store"],
      change: (w) => {
        w.engine = { ...w.engine, store: "containerd" };
        return {};
      },
    },
    {
      name: "the engine's version",
      parts: ["engine.version"],
      change: (w) => {
        w.engine = { ...w.engine, version: "29.1.0" };
        return {};
      },
    },
    {
      name: "a check's cache key",
      parts: ["checks.scan"],
      change: (w) => {
        w.checkInput = "trivy-db-2";
        return {};
      },
    },
    {
      name: "a per-platform check's cache key",
      parts: ["checks.health"],
      change: (w) => {
        w.checkPerPlatform = "probe-500";
        return {};
      },
    },
  ];
  for (const c of cases) {
    it(`changes with ${c.name}`, async () => {
      const before = await runKey(inputs(world()));
      const w = world();
      const after = await runKey(inputs(w, c.change(w)));
      expect(after.key).not.toBe(before.key);
      expect(keyDifferences(before.parts, after.parts)).toEqual(c.parts);
    });
  }

  it("changes with what the build reads: a sent file, the Dockerfile and .dockerignore", async () => {
    const w = world();
    const key = async () => (await runKey(inputs(w))).key;
    const keys = [await key()];
    write("app/server.js", "console.log(2)");
    keys.push(await key());
    write(
      "Dockerfile",
      "FROM node:24-bookworm-slim AS build\nFROM debian:bookworm-slim\nCOPY app /srv\n",
    );
    keys.push(await key());
    write(".dockerignore", "notes.md\n*.tmp\n");
    keys.push(await key());
    expect(new Set(keys).size).toBe(4);
    // A file the build does not send does not count.
    write("notes.md", "edited, still not sent");
    expect(await key()).toBe(keys[3]);
  });

  it("leaves out where results go and how they are published", async () => {
    const w = world();
    const before = await runKey(inputs(w));
    const after = await runKey(
      inputs(w, {
        config: {
          registry: { address: "ghcr.io", repository: "ghcr.io/o/r" },
          tags: { extra: ["stable"] },
          sign: { enabled: false },
        },
      }),
    );
    expect(after.key).toBe(before.key);
  });

  it("cannot be made when a base image resolves nowhere", async () => {
    const w = world();
    delete w.digests["node:24-bookworm-slim"];
    await expect(runKey(inputs(w))).rejects.toThrow("cannot resolve node:24-bookworm-slim");
  });
});

describe("replayable", () => {
  const branch = { publish: true, kind: "branch" as const };
  it("replays builds and verifications that publish nothing", () => {
    expect(replayable({ stage: "verify", publish: true }, branch)).toBe(true);
    expect(replayable({ stage: "build", publish: true }, branch)).toBe(true);
    expect(replayable({ stage: "all", publish: false }, branch)).toBe(true);
    expect(
      replayable({ stage: "all", publish: true }, { publish: false, kind: "pull-request" }),
    ).toBe(true);
  });
  it("never replays a run that publishes, a release or a contract update", () => {
    expect(replayable({ stage: "all", publish: true }, branch)).toBe(false);
    expect(replayable({ stage: "publish", publish: true }, branch)).toBe(false);
    expect(
      replayable({ stage: "verify", publish: false }, { publish: true, kind: "release" }),
    ).toBe(false);
    expect(
      replayable({ stage: "verify", publish: false }, { publish: true, kind: "prerelease" }),
    ).toBe(false);
    expect(replayable({ stage: "contract", publish: false }, branch)).toBe(false);
  });
});
