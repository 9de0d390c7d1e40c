import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ToolchainError, ToolchainErrorCode } from "../../../src/host/errors.js";
import type { StepContext } from "../../../src/toolchain/context.js";
import { loadSettings, toolchainPaths } from "../../../src/toolchain/settings.js";
import { dockerEngine } from "../../../src/toolchain/steps/docker-engine.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "docker-engine-step-test-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/**
 * The step's context on a machine whose Docker engine answers as `server` — a `docker` on PATH
 * that prints that server version (the far edge: the machine's engine is not touched).
 */
function machineWithEngine(server: string, extra: NodeJS.ProcessEnv = {}): StepContext {
  const bin = join(root, "bin");
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  // `docker info` answers as Docker 28's classic store does; anything else prints the version.
  const info = '[["Backing Filesystem","extfs"],["Supports d_type","true"]]';
  writeFileSync(
    join(bin, "docker"),
    `#!/bin/sh\nif [ "$1" = info ]; then echo '${info}'; else echo "${server}"; fi\n`,
  );
  chmodSync(join(bin, "docker"), 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/bin:/bin`,
    MCP_PIPELINE_CACHE: join(root, "cache"),
    ...extra,
  };
  const warnings: string[] = [];
  return {
    mode: "airgap",
    paths: toolchainPaths(env),
    settings: loadSettings(env),
    needs: { authRegistry: false },
    env,
    logFile: join(root, "log"),
    note: () => {},
    warn: (w) => warnings.push(w),
  };
}

/** The step is not done, and running it stops with an Unsupported error, returned. */
async function refused(ctx: StepContext): Promise<ToolchainError> {
  expect(await dockerEngine.isDone(ctx)).toBe(false);
  const error = await dockerEngine.run(ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolchainError);
  const e = error as ToolchainError;
  expect(e.code).toBe(ToolchainErrorCode.Unsupported);
  return e;
}

describe("the docker-engine step", () => {
  it("keeps a running Docker 28: nothing to do", async () => {
    expect(await dockerEngine.isDone(machineWithEngine("28.5.2"))).toBe(true);
  });

  it("refuses a running Docker 20.10 setup did not install, naming it and what to do", async () => {
    // This test's cache records no packages: whatever engine the machine has, setup did not install it.
    const ctx = machineWithEngine("20.10.24+dfsg1");
    const e = await refused(ctx);
    expect(e.message).toMatch(
      /^Docker 20\.10\.24\+dfsg1 runs here; the pipeline needs Docker ≥ 25 .*setup does not replace an engine it did not install\.$/,
    );
    expect(e.hint).toMatch(/Upgrade it to Docker ≥ 25/);
  });

  it("keeps a running Docker 28 whose image store is the one asked for", async () => {
    const ctx = machineWithEngine("28.5.2", { MCP_PIPELINE_IMAGE_STORE: "classic" });
    expect(await dockerEngine.isDone(ctx)).toBe(true);
  });

  it("will not restart an engine it did not start to change its image store, and says how", async () => {
    // The running engine is not this test's cache's dockerd, so setup did not start it.
    const ctx = machineWithEngine("28.5.2", { MCP_PIPELINE_IMAGE_STORE: "containerd" });
    const e = await refused(ctx);
    expect(e.message).toBe(
      "MCP_PIPELINE_IMAGE_STORE=containerd asks for the containerd image store, but Docker 28.5.2 runs here with the classic store, and setup restarts only the engine it started.",
    );
    expect(e.hint).toMatch(/"containerd-snapshotter": true/);
  });
});
