import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StepContext } from "../../src/toolchain/context.js";
import { loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { mcpRegistryStep, postgresBinDir } from "../../src/toolchain/steps/mcp-registry.js";

const scratch = mkdtempSync(join(tmpdir(), "mcp-registry-step-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A step context whose bin/ holds fake binaries that print `versions` the way the real ones do (stderr). */
function context(
  name: string,
  mcpRegistry: boolean,
  versions: Record<string, string>,
): StepContext {
  const bin = join(scratch, name);
  mkdirSync(bin, { recursive: true });
  for (const [tool, version] of Object.entries(versions)) {
    const file = join(bin, tool);
    writeFileSync(
      file,
      `#!/bin/sh\necho "2026/12/02 14:00:00 ${tool} ${version} (commit: unknown)" >&2\n`,
    );
    chmodSync(file, 0o755);
  }
  const env = { ...process.env, MCP_PIPELINE_BIN: bin };
  return {
    mode: "airgap",
    paths: toolchainPaths(env),
    settings: loadSettings(env),
    needs: { authRegistry: false, mcpRegistry },
    env,
    logFile: join(scratch, `${name}.log`),
    note: () => {},
    warn: () => {},
  };
}

describe("the MCP Registry set-up step", () => {
  it("has nothing to do unless the tests' registry is asked for", async () => {
    expect(await mcpRegistryStep.isDone(context("not-asked", false, {}))).toBe(true);
  });

  it("is not done while a binary is missing or reports another version", async () => {
    expect(await mcpRegistryStep.isDone(context("empty", true, {}))).toBe(false);
    const stale = context("stale", true, { "mcp-publisher": "1.8.9", "mcp-registry": "1.8.8" });
    expect(await mcpRegistryStep.isDone(stale)).toBe(false);
  });

  it("is done with both binaries at the pinned version and PostgreSQL installed (the control)", async () => {
    const ready = context("ready", true, { "mcp-publisher": "1.8.9", "mcp-registry": "1.8.9" });
    expect(await mcpRegistryStep.isDone(ready)).toBe(postgresBinDir(ready.env) !== undefined);
  });
});
