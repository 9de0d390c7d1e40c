import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tryDocker } from "../../src/ci/docker/docker.js";
import type { PipelineReport } from "../../src/ci/report/schema.js";
import { readRepository } from "../../src/init/detect.js";
import { toolchainPaths } from "../../src/toolchain/settings.js";
import { PACKAGE_ROOT } from "../paths.js";
import { type NpmRegistry, publishPackage, startNpmRegistry } from "../support/npm-registry.js";
import { withoutGitHubContext } from "../toolchain/helpers.js";

// The adoption corpus: apps nobody here wrote, each in a clean repository of its own, adopted as
// the README says (one devDependency from an npm registry, one config file), then run once with
// empty caches: Trivy's cache is a new directory and the result cache is not read (--no-cache).
// Each must publish, sign and pass on that first run. What is true of an app (its size, a
// conformance scenario it fails) is declared in its pipeline.config.yaml, never in code.

const scratch = mkdtempSync(join(tmpdir(), "corpus-"));
let registry: NpmRegistry;
const images: string[] = [];

beforeAll(async () => {
  registry = await startNpmRegistry();
  await publishPackage(registry);
}, 300_000);

afterAll(async () => {
  for (const ref of images) await tryDocker(["image", "rm", "-f", ref]);
  await registry?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The app's fixture in a repository of its own, with mcp-pipeline installed from the registry. */
async function adopt(app: string): Promise<string> {
  const dir = join(scratch, app);
  cpSync(join(PACKAGE_ROOT, "test", "corpus", app), dir, { recursive: true });
  const git = (args: string[]) => execa("git", args, { cwd: dir });
  await git(["init", "-q", "-b", "main"]);
  const installed = await execa(
    "npm",
    ["install", "--save-dev", "mcp-pipeline", ...registry.flags],
    {
      cwd: dir,
      all: true,
      reject: false,
    },
  );
  expect(installed.exitCode, installed.all).toBe(0);
  await git(["add", "."]);
  await git([
    "-c",
    "user.name=Corpus",
    "-c",
    "user.email=corpus@example.test",
    "commit",
    "-q",
    "-m",
    "adopt mcp-pipeline",
  ]);
  return dir;
}

/** A first run as a developer starts it: `npx mcp-pipeline`, empty Trivy cache, nothing reused. */
async function firstRun(dir: string, name: string) {
  // Not the caller's job: no GitHub context, no REGISTRY or signing settings (a workflow may
  // export REGISTRY for its own pipeline job, as the GitHub simulation's runner does), not CI.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(withoutGitHubContext(process.env))) {
    if (!/^(CI$|npm_)/.test(key)) env[key] = value;
  }
  const res = await execa("npx", ["--no-install", "mcp-pipeline", "--no-cache"], {
    cwd: dir,
    env: {
      ...env,
      // Trivy keeps its cache under XDG_CACHE_HOME: a fresh one, as on a fresh runner. The
      // toolchain itself stays where setup put it.
      XDG_CACHE_HOME: mkdtempSync(join(scratch, "cache-")),
      MCP_PIPELINE_CACHE: toolchainPaths().root,
    },
    extendEnv: false,
    reject: false,
    all: true,
  });
  images.push(`${name}:pipeline`, `${name}:pipeline-linux-arm64`);
  const reportFile = join(dir, "pipeline-report", "report.json");
  if (!existsSync(reportFile))
    throw new Error(`no report (exit ${res.exitCode}):\n${res.all?.slice(-4000)}`);
  const report = JSON.parse(readFileSync(reportFile, "utf8")) as PipelineReport;
  return { exitCode: res.exitCode, output: res.all ?? "", report };
}

const status = (report: PipelineReport) =>
  Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

describe.each([
  { app: "node-mcp-everything", name: "everything-server", mcp: true },
  { app: "python-mcp-notes", name: "notes-mcp", mcp: true },
  { app: "plain-http", name: "greeter", mcp: false },
])("the corpus app $app", ({ app, name, mcp }) => {
  it("is read by init the way its configuration says: its compose service, port and whether it speaks MCP", () => {
    const dir = join(PACKAGE_ROOT, "test", "corpus", app);
    const facts = readRepository(dir);
    const config = parse(readFileSync(join(dir, "pipeline.config.yaml"), "utf8"));
    expect(facts.compose?.service).toBe(config.compose.service);
    expect(facts.compose?.port ?? facts.image?.expose[0]).toBe(config.compose.port);
    expect(facts.mcp.evidence !== undefined).toBe(mcp);
    expect(facts.image).toMatchObject({ healthcheck: true });
  });

  it("publishes, signs and passes on its first run, from the package and with empty caches", async () => {
    const dir = await adopt(app);
    const run = await firstRun(dir, name);
    expect(run.exitCode, run.output.slice(-6000)).toBe(0);
    expect(run.report.ok).toBe(true);
    const checks = status(run.report);
    for (const id of [
      "non-root",
      "size-budget",
      "healthcheck",
      "trivy",
      "compose-smoke",
      "signature",
    ]) {
      expect(checks[id], `${id}: ${run.report.checks.find((c) => c.id === id)?.summary}`).toBe(
        "passed",
      );
    }
    // Air-gapped, Trivy has no vulnerability database unless one is configured: it says so.
    expect(["passed", "skipped"]).toContain(checks["trivy-vulnerabilities"]);
    expect(run.report.published.length).toBeGreaterThan(0);
    expect(run.report.image.platforms?.map((p) => p.platform)).toEqual([
      "linux/amd64",
      "linux/arm64",
    ]);
    if (mcp) {
      expect(checks["mcp-conformance"]).toBe("passed");
      const contract = run.report.checks.find((c) => c.id === "mcp-contract");
      expect(contract?.summary).toMatch(/^no snapshot yet: wrote mcp-contract\.json/);
      expect(existsSync(join(dir, "mcp-contract.json"))).toBe(true);
    } else {
      expect(checks["mcp-conformance"]).toBe("skipped");
      expect(checks["mcp-contract"]).toBe("skipped");
    }
  }, 1_800_000);
});
