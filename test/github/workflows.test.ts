import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = resolve(import.meta.dirname, "../..");
const WORKFLOWS = join(ROOT, ".github", "workflows");

type Permissions = Record<string, string> | "read-all" | "write-all" | undefined;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  if?: string;
  uses?: string;
  permissions?: Permissions;
  steps?: Step[];
}

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Permissions;
  concurrency?: { group?: string; "cancel-in-progress"?: boolean | string };
  jobs: Record<string, Job>;
}

const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const texts = Object.fromEntries(files.map((f) => [f, readFileSync(join(WORKFLOWS, f), "utf8")]));
const workflows: Record<string, Workflow> = Object.fromEntries(
  files.map((f) => [f, parse(texts[f] as string) as Workflow]),
);
const wf = (file: string): Workflow => {
  const found = workflows[file];
  if (!found) throw new Error(`.github/workflows/${file} is missing`);
  return found;
};
const steps = (w: Workflow): Step[] => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const allSteps = (): Step[] => Object.values(workflows).flatMap(steps);
const usesOf = (prefix: string): Step[] =>
  allSteps().filter((s) => s.uses?.startsWith(`${prefix}@`));

/** Workflows only other workflows call: their jobs take the permissions the caller's job grants. */
const isReusable = (w: Workflow): boolean =>
  Object.keys(w.on).length === 1 && "workflow_call" in w.on;

/** The `npx mcp-pipeline` line of the README's Quick start: the command an adopter runs locally. */
function documentedPipelineCommand(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const quickStart = readme.split(/^## /m).find((section) => section.startsWith("Quick start"));
  const line = quickStart
    ?.split("\n")
    .map((l) => l.trim())
    .find((l) => l === "npx mcp-pipeline");
  if (!line) throw new Error("README.md's Quick start documents no `npx mcp-pipeline` command");
  return line;
}

/** A GitHub Actions expression as it appears in a workflow: expr("github.token") is `${{ github.token }}`. */
const expr = (inner: string): string => `\${{ ${inner} }}`;

/** The reusable workflow's pipeline step runs that command with the caller's arguments. */
const PIPELINE_STEP = `npx --no-install mcp-pipeline ${expr("inputs.args")}`;

const FULL_SHA_PIN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/;

/**
 * Every `uses:` line in a workflow's text that is not a local action or workflow and is not
 * pinned to a full commit SHA with the version it stands for in a trailing comment.
 */
function unpinnedUses(text: string): string[] {
  const bad: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(#.*)?$/.exec(line);
    if (!match) continue;
    const [, target = "", comment = ""] = match;
    if (target.startsWith("./")) continue;
    if (!FULL_SHA_PIN.test(target) || !/^#\s*v\d+(\.\d+){0,2}\b/.test(comment)) {
      bad.push(line.trim());
    }
  }
  return bad;
}

/** Scopes granted `write` in a permissions block (`write-all` counts as every scope). */
function writeScopes(permissions: Permissions): string[] {
  if (permissions === "write-all") return ["*"];
  if (permissions === undefined || typeof permissions === "string") return [];
  return Object.entries(permissions)
    .filter(([, level]) => level === "write")
    .map(([scope]) => scope);
}

describe("GitHub workflows", () => {
  it("has the CI, release and shared pipeline workflows", () => {
    expect(files.sort()).toEqual(["ci.yml", "pipeline.yml", "release.yml"]);
  });

  it("runs the pipeline with the command README documents, in one reusable workflow", () => {
    expect(
      PIPELINE_STEP.startsWith(documentedPipelineCommand().replace("npx ", "npx --no-install ")),
    ).toBe(true);
    // The release's listing in the MCP Registry is another command (the test below).
    const pipelineSteps = allSteps().filter(
      (s) => s.run?.includes("mcp-pipeline") && !s.run.includes("mcp-registry-publish"),
    );
    expect(pipelineSteps).toHaveLength(1);
    expect(pipelineSteps[0]?.run?.trim()).toBe(PIPELINE_STEP);
    expect(steps(wf("pipeline.yml"))).toContain(pipelineSteps[0]);
    expect(isReusable(wf("pipeline.yml"))).toBe(true);
    const callers = (file: string) =>
      Object.values(wf(file).jobs).filter((j) => j.uses === "./.github/workflows/pipeline.yml");
    expect(callers("ci.yml")).toHaveLength(2);
    expect(callers("release.yml")).toHaveLength(1);
  });

  it("lists the release in the MCP Registry from the released report, with the registry's settings and no other secret", () => {
    const jobSteps = wf("release.yml").jobs["mcp-registry"]?.steps ?? [];
    const list = jobSteps.find((s) => s.run?.includes("mcp-registry-publish"));
    expect(list?.run?.trim()).toBe("npx --no-install mcp-pipeline mcp-registry-publish");
    expect(list?.env).toEqual({
      MCP_REGISTRY_URL: expr("vars.MCP_REGISTRY_URL"),
      MCP_REGISTRY_TOKEN: expr("secrets.MCP_REGISTRY_TOKEN"),
    });
    const download = jobSteps.find((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(download?.with).toEqual({ name: "pipeline-report", path: "pipeline-report" });
  });

  it("gives the pipeline step the token, the default branch, the online toolchain and the caller's secrets", () => {
    const step = steps(wf("pipeline.yml")).find((s) => s.run?.trim() === PIPELINE_STEP);
    expect(step?.env).toEqual({
      AIRGAP: "0",
      GITHUB_TOKEN: expr("github.token"),
      GITHUB_DEFAULT_BRANCH: expr("github.event.repository.default_branch"),
      REGISTRY_PASSWORD: expr("secrets.registry-password"),
      COSIGN_KEY: expr("secrets.cosign-key"),
      COSIGN_PASSWORD: expr("secrets.cosign-password"),
      REKOR_URL: expr("inputs.rekor-url"),
      REKOR_PUBLIC_KEY: expr("inputs.rekor-public-key"),
    });
    const call = (
      wf("pipeline.yml").on as {
        workflow_call: { inputs: object; secrets: Record<string, { required: boolean }> };
      }
    ).workflow_call;
    expect(Object.keys(call.inputs)).toEqual([
      "node-version",
      "working-directory",
      "args",
      "rekor-url",
      "rekor-public-key",
    ]);
    for (const secret of Object.values(call.secrets)) expect(secret.required).toBe(false);
  });

  it("runs npm ci and the engine-free checks before the pipeline", () => {
    const check = wf("ci.yml").jobs.check;
    expect(check?.steps?.map((s) => s.run).filter(Boolean)).toEqual([
      "npm ci --no-audit --no-fund",
      "npm run check",
    ]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.check).toBe("npm run typecheck && npm run lint && npm run test:unit");
    const runs = steps(wf("pipeline.yml")).map((s) => s.run?.trim());
    expect(runs.indexOf("npm ci --no-audit --no-fund")).toBeLessThan(runs.indexOf(PIPELINE_STEP));
  });

  it("runs the whole suite, end-to-end gates included, on the runner with the online toolchain", () => {
    const test = wf("ci.yml").jobs.test as Job & { needs?: string; "runs-on"?: string };
    expect(test.needs).toBe("check");
    expect(test["runs-on"]).toBe("ubuntu-24.04");
    expect(test.permissions).toEqual({ contents: "read" });
    const run = test.steps?.find((s) => s.run?.trim() === "npm test");
    expect(run?.env).toEqual({
      AIRGAP: "0",
      REKOR_URL: expr("vars.REKOR_URL"),
      REKOR_PUBLIC_KEY: expr("vars.REKOR_PUBLIC_KEY"),
    });
  });

  it("leaves installing the local registry to setup, which needs none to publish to GHCR", () => {
    for (const step of allSteps()) expect(step.run ?? "").not.toMatch(/docker-registry/);
  });

  it("pins every non-local action to a full commit SHA with its version in a comment", () => {
    const uses = allSteps().flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(0);
    for (const [file, text] of Object.entries(texts)) {
      expect(unpinnedUses(text), file).toEqual([]);
    }
    for (const target of uses) expect(target).toMatch(FULL_SHA_PIN);
  });

  it("flags tags, branches and short SHAs as unpinned", () => {
    const text = [
      "      - uses: actions/checkout@v4",
      "      - uses: actions/checkout@main # v4.2.2",
      "      - uses: actions/checkout@11bd719 # v4.2.2",
      "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
      "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
      "    uses: ./.github/workflows/pipeline.yml",
    ].join("\n");
    expect(unpinnedUses(text)).toEqual([
      "- uses: actions/checkout@v4",
      "- uses: actions/checkout@main # v4.2.2",
      "- uses: actions/checkout@11bd719 # v4.2.2",
      "- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
    ]);
  });

  it("grants no write scope at the top level of any workflow", () => {
    for (const [file, w] of Object.entries(workflows)) {
      expect(writeScopes(w.permissions), file).toEqual([]);
      if (!isReusable(w)) expect(w.permissions, file).toEqual({ contents: "read" });
    }
  });

  it("declares permissions on every job and grants write only where it is needed", () => {
    for (const [file, w] of Object.entries(workflows)) {
      if (isReusable(w)) {
        // Its jobs inherit the caller job's grant; declaring one here could only narrow it.
        for (const job of Object.values(w.jobs)) expect(job.permissions, file).toBeUndefined();
        continue;
      }
      for (const [id, job] of Object.entries(w.jobs)) {
        expect(job.permissions, `${file} ${id}`).toBeTypeOf("object");
        expect(job.permissions, `${file} ${id}`).toMatchObject({ contents: expect.any(String) });
      }
    }
    const ci = wf("ci.yml").jobs;
    expect(ci.check?.permissions).toEqual({ contents: "read" });
    expect(ci.verify?.if).toBe("github.event_name == 'pull_request'");
    expect(writeScopes(ci.verify?.permissions)).toEqual(["security-events"]);
    expect(ci.publish?.if).toBe("github.event_name == 'push'");
    // Publishing jobs also sign keylessly, which needs the workflow's OIDC token; nothing else does.
    expect(writeScopes(ci.publish?.permissions).sort()).toEqual([
      "id-token",
      "packages",
      "security-events",
    ]);
    const release = wf("release.yml").jobs;
    expect(writeScopes(release.pipeline?.permissions).sort()).toEqual([
      "id-token",
      "packages",
      "security-events",
    ]);
    expect(release["github-release"]?.permissions).toEqual({ contents: "write" });
  });

  it("runs CI on pull requests and on pushes to the default branch only", () => {
    const on = wf("ci.yml").on;
    expect(Object.keys(on).sort()).toEqual(["pull_request", "push"]);
    expect(on.push).toEqual({ branches: ["main"] });
  });

  it("starts a release only on v*.*.* tags", () => {
    expect(wf("release.yml").on).toEqual({ push: { tags: ["v*.*.*"] } });
  });

  it("cancels superseded runs, on the default branch only by queueing (never between publish and sign)", () => {
    for (const file of ["ci.yml", "release.yml"]) {
      const concurrency = wf(file).concurrency;
      expect(concurrency?.group, file).toContain(expr("github.workflow"));
    }
    expect(wf("release.yml").concurrency?.["cancel-in-progress"]).toBe(true);
    expect(wf("ci.yml").concurrency?.["cancel-in-progress"]).toBe(
      expr("github.event_name == 'pull_request'"),
    );
    expect(wf("ci.yml").concurrency?.group).toContain("github.event.pull_request.number");
  });

  it("sets up Node from .nvmrc, which satisfies package.json's engines", () => {
    const setups = usesOf("actions/setup-node");
    expect(setups.length).toBeGreaterThan(0);
    const nvmrc = readFileSync(join(ROOT, ".nvmrc"), "utf8").trim();
    for (const step of setups) {
      // The reusable workflow runs other repositories too, which need not have an .nvmrc: it takes
      // the version as an input, whose default is this repository's.
      if (step.with?.["node-version"] === expr("inputs.node-version")) continue;
      expect(step.with?.["node-version-file"]).toBe(".nvmrc");
    }
    const call = (
      wf("pipeline.yml").on as { workflow_call: { inputs: Record<string, { default?: string }> } }
    ).workflow_call;
    expect(call.inputs["node-version"]?.default).toBe(nvmrc);
    const engines = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines.node;
    expect(semver.validRange(nvmrc)).not.toBeNull();
    expect(semver.intersects(nvmrc, engines)).toBe(true);
  });

  it("uploads the Trivy SARIF to code scanning and the report and SBOM as an artifact", () => {
    const pipelineSteps = steps(wf("pipeline.yml"));
    const sarif = pipelineSteps.find((s) =>
      s.uses?.startsWith("github/codeql-action/upload-sarif@"),
    );
    expect(sarif?.with?.sarif_file).toBe(
      `${expr("inputs.working-directory")}/pipeline-report/trivy.sarif`,
    );
    expect(sarif?.if).toContain("!cancelled()");
    const artifact = pipelineSteps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(artifact?.with?.name).toBe("pipeline-report");
    for (const file of ["report.json", "report.md", "sbom.cdx.json", "cosign.pub", "rekor.pub"]) {
      expect(artifact?.with?.path).toContain(`pipeline-report/${file}`);
    }
    expect(artifact?.if).toContain("!cancelled()");
  });

  it("attaches the report, the SBOM and the keys to verify with to the GitHub release", () => {
    const job = wf("release.yml").jobs["github-release"];
    const download = job?.steps?.find((s) => s.uses?.startsWith("actions/download-artifact@"));
    expect(download?.with).toEqual({ name: "pipeline-report", path: "pipeline-report" });
    const create = job?.steps?.find((s) => s.run?.includes("gh release create"));
    for (const file of ["report.md", "report.json", "sbom.cdx.json", "cosign.pub", "rekor.pub"]) {
      expect(create?.run).toContain(`pipeline-report/${file}`);
    }
    expect(create?.env?.GH_TOKEN).toBe(expr("github.token"));
  });
});
