import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "./helpers.js";

// The `check` job of ci.yml, run the way GitHub runs it: a fresh clone with no node_modules, a
// HOME with no toolchain cache, Node 24 first on PATH (what setup-node puts there), the npm
// cache warm (setup-node's `cache: npm`), and each `run:` step of the job as written.
const scratch = mkdtempSync(join(tmpdir(), "fresh-clone-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A clone of this repository's HEAD with the working tree's changes on top, as they would be committed. */
async function cloneWorkingTree(dest: string): Promise<void> {
  await execa("git", ["clone", "--quiet", "--no-hardlinks", repoRoot, dest]);
  const diff = await execa("git", ["diff", "HEAD", "--binary"], {
    cwd: repoRoot,
    stripFinalNewline: false,
  });
  if (diff.stdout !== "")
    await execa("git", ["apply", "--whitespace=nowarn"], { cwd: dest, input: diff.stdout });
  const untracked = await execa("git", ["ls-files", "--others", "--exclude-standard"], {
    cwd: repoRoot,
  });
  for (const file of untracked.stdout.split("\n").filter(Boolean)) {
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dest, file));
  }
}

/** The `run:` steps of a job in a workflow file, in order. */
function runSteps(workflow: string, job: string): string[] {
  const doc = parse(readFileSync(join(repoRoot, ".github", "workflows", workflow), "utf8")) as {
    jobs: Record<string, { steps: { run?: string }[] }>;
  };
  const steps = doc.jobs[job]?.steps ?? [];
  return steps.flatMap((step) => (step.run === undefined ? [] : [step.run]));
}

/** An environment like a fresh runner's: this process's, minus the toolchain, the GitHub context and the caches. */
function runnerEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      /^(GITHUB_|RUNNER_|AIRGAP$|MCP_PIPELINE_|XDG_|VITEST|npm_|NODE_OPTIONS$|DAGGER_)/i.test(name)
    )
      continue;
    env[name] = value;
  }
  const nodeBin = dirname(process.execPath);
  return {
    ...env,
    HOME: home,
    CI: "true",
    // This machine's registry and CA settings (setup-node writes an .npmrc the same way).
    npm_config_userconfig: join(process.env.HOME ?? "/root", ".npmrc"),
    npm_config_cache: join(process.env.HOME ?? "/root", ".npm"),
    PATH: [
      nodeBin,
      ...(env.PATH ?? "").split(delimiter).filter((dir) => !dir.includes("node_modules")),
    ].join(delimiter),
  };
}

describe("a fresh clone, as ci.yml's check job runs it", () => {
  it(
    "installs with npm ci and passes typecheck, lint and the unit tests with no earlier bootstrap",
    async () => {
      const dir = join(scratch, "repo");
      const home = join(scratch, "home");
      mkdirSync(home);
      await cloneWorkingTree(dir);
      const steps = runSteps("ci.yml", "check");
      // The job's own steps, not a copy of them here: a step added to ci.yml is run too.
      expect(steps[0]).toMatch(/^npm ci\b/);
      expect(steps.join("\n")).toContain("npm run check");
      expect(process.versions.node.split(".")[0]).toBe("24");
      const env = runnerEnv(home);
      for (const step of steps) {
        const run = await execa("bash", ["-eo", "pipefail", "-c", step], {
          cwd: dir,
          env,
          extendEnv: false,
          reject: false,
          all: true,
        });
        expect(run.exitCode, `step \`${step}\` failed:\n${run.all?.slice(-6000)}`).toBe(0);
      }
    },
    20 * 60_000,
  ); // npm ci, tsc, biome and the unit tests: about 5 minutes on 2 idle cores
});
