import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerEngine } from "../../../src/ci/replay/key.js";
import { DAGGER_ENGINE_IMAGE } from "../../../src/toolchain/dagger-engine-image.js";
import { versions } from "../../../src/toolchain/versions.js";
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

async function setupWith(
  imageStore: "classic" | "containerd",
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<string> {
  const res = await runEntry(SETUP, { MCP_PIPELINE_IMAGE_STORE: imageStore, ...extraEnv });
  expect(res.exitCode, String(res.all).slice(-3000)).toBe(0);
  expect(await store()).toBe(imageStore);
  return String(res.all ?? "");
}

/** The Dagger CLI's settings for an engine in the container `name` (as the test sandboxes do). */
function engineIn(name: string): NodeJS.ProcessEnv {
  return {
    _EXPERIMENTAL_DAGGER_RUNNER_HOST: `docker-image://registry.dagger.io/engine:v${versions.dagger}?container=${name}&cleanup=false`,
  };
}

/** What doctor says of the Dagger engine. */
async function doctorEngine(extraEnv: NodeJS.ProcessEnv): Promise<unknown> {
  const res = await runEntry(["doctor", "--json"], {
    MCP_PIPELINE_IMAGE_STORE: "classic",
    ...extraEnv,
  });
  return (JSON.parse(res.stdout) as { components: { name: string }[] }).components.find(
    (c) => c.name === "dagger-engine",
  );
}

async function containerId(name: string): Promise<string> {
  const res = await execa("docker", ["ps", "-aq", "--no-trunc", "--filter", `name=^${name}$`]);
  return res.stdout.trim();
}

/** The engine containers on the store the engine runs now, with their state volumes (~1.7 GB each). */
async function removeEngineContainers(): Promise<void> {
  const ids = (await execa("docker", ["ps", "-aq", "--filter", "name=dagger-engine-"])).stdout;
  const list = ids.split(/\s+/).filter(Boolean);
  if (list.length > 0) await execa("docker", ["rm", "-f", "-v", ...list]);
}

describe.skipIf(!asRoot)("the store-dependent files on the containerd image store", () => {
  // Two engine containers made on the classic store, each with its anonymous state volume:
  // `kept`'s volume stays, `pruned`'s is removed while the engine runs the containerd store.
  const suffix = randomBytes(4).toString("hex");
  const kept = `image-store-kept-${suffix}`;
  const pruned = `image-store-pruned-${suffix}`;
  let prunedVolume = "";

  beforeAll(async () => {
    expect(await store()).toBe("classic");
    for (const name of [kept, pruned])
      await execa("docker", [
        "create",
        "--name",
        name,
        "-v",
        "/var/lib/dagger",
        DAGGER_ENGINE_IMAGE,
      ]);
    const mounts = await execa("docker", [
      "container",
      "inspect",
      "--format",
      "{{range .Mounts}}{{.Name}}{{end}}",
      pruned,
    ]);
    prunedVolume = mounts.stdout.trim();
    expect(prunedVolume).toMatch(/^[0-9a-f]{64}$/);
    await setupWith("containerd");
  }, 600_000);

  afterAll(async () => {
    if ((await store()) === "containerd") {
      await removeEngineContainers();
      await setupWith("classic");
    }
    await execa("docker", ["rm", "-f", "-v", kept, pruned], { reject: false });
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

  // Docker keeps one container list per store but one set of volumes: on this store the two
  // classic containers do not exist, so nothing stops a prune from taking their state. Back on
  // the classic store the engine container could not start ("no such volume"), and neither
  // could any Dagger run, until setup removes it.
  it("setup removes an engine container whose state volume was pruned on the other store, and keeps one whose volume is there", async () => {
    expect(await containerId(pruned)).toBe("");
    await execa("docker", ["volume", "rm", prunedVolume]);
    await removeEngineContainers();
    await setupWith("classic");

    const keptId = await containerId(kept);
    expect(keptId).not.toBe("");
    expect(await doctorEngine(engineIn(kept))).toMatchObject({ ok: true });
    const control = await setupWith("classic", engineIn(kept));
    expect(control).not.toMatch(/lost its state volume/);
    expect(await containerId(kept)).toBe(keptId);

    const broken = engineIn(pruned);
    expect(await doctorEngine(broken)).toEqual({
      name: "dagger-engine",
      ok: false,
      version: null,
      detail: `the engine container ${pruned} has lost its state volume (docker volume prune?) and cannot start; run \`mcp-pipeline setup\`, which removes it`,
    });
    const fixed = await setupWith("classic", broken);
    expect(fixed).toContain(
      `the Dagger engine container ${pruned} has lost its state volume ${prunedVolume}`,
    );
    expect(await containerId(pruned)).toBe("");
    // The next run starts a fresh engine in that container and answers.
    const dagger = await execa("dagger", ["--silent", "core", "version"], {
      env: { ...env, ...broken },
      reject: false,
      timeout: 300_000,
    });
    expect(dagger.exitCode, dagger.stderr.slice(-2000)).toBe(0);
    expect(dagger.stdout).toContain(versions.dagger);
  }, 900_000);
});
