import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Step } from "../../src/toolchain/context.js";
import { loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { STEPS, setup, withBundle } from "../../src/toolchain/setup.js";

const scratch = mkdtempSync(join(tmpdir(), "setup-steps-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A step whose work is a flag; every call is logged in order. */
function step(
  id: string,
  log: string[],
  state: { done: boolean },
  dependsOn?: { done: boolean },
): Step {
  return {
    id,
    title: id,
    async isDone() {
      log.push(`${id}.isDone`);
      // Like the engine config, which is only right once the registries it names exist.
      return state.done && (dependsOn?.done ?? true);
    },
    async run() {
      log.push(`${id}.run`);
      state.done = true;
    },
  };
}

function run(steps: Step[], name: string) {
  const env = { ...process.env, AIRGAP: "1", MCP_PIPELINE_CACHE: join(scratch, name) };
  return setup(toolchainPaths(env), {
    settings: loadSettings(env),
    needs: { authRegistry: false },
    env,
    steps,
  });
}

describe("setup: every step's check at once, the work in order", () => {
  it("skips every step of a ready machine, each checked once", async () => {
    const log: string[] = [];
    const steps = ["a", "b", "c"].map((id) => step(id, log, { done: true }));
    const result = await run(steps, "ready");
    expect(result.steps.map((s) => s.status)).toEqual(["skipped", "skipped", "skipped"]);
    expect(log.sort()).toEqual(["a.isDone", "b.isDone", "c.isDone"]);
  });

  it("checks a later step again once an earlier one has run, rather than trusting its first answer", async () => {
    const log: string[] = [];
    const a = { done: false };
    // `b` says done from the start, but the step before it had work to do.
    const b = { done: true };
    // `c` is only right once `a` has run.
    const steps = [step("a", log, a), step("b", log, b), step("c", log, { done: true }, a)];
    const result = await run(steps, "partial");
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ["a", "done"],
      ["b", "skipped"],
      ["c", "skipped"],
    ]);
    // After the three checks at once: `a` runs, and `b` and `c` are checked again after it.
    expect(log.slice(3)).toEqual(["a.isDone", "a.run", "a.isDone", "b.isDone", "c.isDone"]);
  });
});

describe("setup --from-bundle: where the bundle's steps go", () => {
  it("installs the bundle's files before the Docker engine step (it may carry the engine) and loads its images right after it", () => {
    const ids = withBundle(STEPS, "/tmp/toolchain.tar.zst").map((s) => s.id);
    expect(ids.slice(0, 3)).toEqual(["bundle", "docker-engine", "bundle-images"]);
    expect(ids.slice(3)).toEqual(STEPS.slice(1).map((s) => s.id));
  });
});
