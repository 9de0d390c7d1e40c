import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerEngine } from "../../../src/ci/replay/key.js";
import { env, runEntry } from "../helpers.js";

// The files whose behaviour depends on Docker's image store (image ids, "an image Docker already
// has is not loaded again", replay keys, health events, compose, the image's own tests, image
// sizes and multi-platform images), run again on the containerd image store — Docker 29's
// default for new installs — while the rest of the suite runs on the engine's classic store.
// Setup restarts its own engine with the other store (MCP_PIPELINE_IMAGE_STORE), the files run
// in a nested vitest, and setup switches back whatever happened. It restarts the machine's
// engine, so it needs root and the engine setup started; under the GitHub simulation (as
// `runner`) it skips.
const asRoot = process.getuid?.() === 0;
const STORE_FILES = [
  "packages/mcp-pipeline/test/ci/cli.e2e.test.ts",
  "packages/mcp-pipeline/test/ci/checks/healthcheck.e2e.test.ts",
  "packages/mcp-pipeline/test/ci/cache/runs.e2e.test.ts",
  // The size gate and the multi-platform index: the containerd store reports another image id
  // and, in `docker image inspect .Size`, the compressed size (found by the whole suite there).
  "packages/mcp-pipeline/test/ci/multiplatform.e2e.test.ts",
  "test/container/compose.e2e.test.ts",
  "test/container/image.e2e.test.ts",
];
const SETUP = ["setup", "--with-local-registry", "--with-mcp-registry"];

async function store(): Promise<string> {
  return (await dockerEngine()).store;
}

async function setupWith(imageStore: "classic" | "containerd"): Promise<void> {
  const res = await runEntry(SETUP, { MCP_PIPELINE_IMAGE_STORE: imageStore });
  expect(res.exitCode, String(res.all).slice(-3000)).toBe(0);
  expect(await store()).toBe(imageStore);
}

describe.skipIf(!asRoot)("the store-dependent files on the containerd image store", () => {
  beforeAll(async () => {
    expect(await store()).toBe("classic");
    await setupWith("containerd");
  }, 600_000);

  afterAll(async () => {
    await setupWith("classic");
  }, 600_000);

  it("pass, as they do on the classic store", async () => {
    const res = await runEntry(["exec", "vitest", "run", "--project", "e2e", ...STORE_FILES], {
      PATH: env.PATH,
    });
    const out = String(res.all ?? "");
    process.stderr.write(`${out.split("\n").slice(-8).join("\n")}\n`);
    expect(res.exitCode, out.slice(-4000)).toBe(0);
    expect(out).toMatch(new RegExp(`Test Files\\s.*${STORE_FILES.length} passed`));
  }, 1_800_000);
});
