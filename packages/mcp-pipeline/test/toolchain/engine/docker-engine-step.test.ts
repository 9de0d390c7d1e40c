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
function machineWithEngine(server: string): StepContext {
  const bin = join(root, "bin");
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "docker"), `#!/bin/sh\necho "${server}"\n`);
  chmodSync(join(bin, "docker"), 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/bin:/bin`,
    MCP_PIPELINE_CACHE: join(root, "cache"),
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

describe("the docker-engine step", () => {
  it("keeps a running Docker 28: nothing to do", async () => {
    expect(await dockerEngine.isDone(machineWithEngine("28.5.2"))).toBe(true);
  });

  it("refuses a running Docker 20.10 setup did not install, naming it and what to do", async () => {
    // This test's cache records no packages: whatever engine the machine has, setup did not install it.
    const ctx = machineWithEngine("20.10.24+dfsg1");
    expect(await dockerEngine.isDone(ctx)).toBe(false);
    const error = await dockerEngine.run(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolchainError);
    const e = error as ToolchainError;
    expect(e.code).toBe(ToolchainErrorCode.Unsupported);
    expect(e.message).toMatch(
      /^Docker 20\.10\.24\+dfsg1 runs here; the pipeline needs Docker ≥ 25 .*setup does not replace an engine it did not install\.$/,
    );
    expect(e.hint).toMatch(/Upgrade it to Docker ≥ 25/);
  });
});
