import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FAILED_OUTPUT_LINES, parseActLog } from "./act-log.js";
import { expectations, jobExpectations } from "./expectations.js";
import { judgePublished } from "./ghcr.js";
import { loadWorkflow } from "./workflows.js";

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: "info", ...fields });
const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, s)).toISOString();

// act --json lines as v0.2.89 writes them (fields from pkg/runner/logger.go and job_executor.go).
const LOG = [
  "Using docker host 'unix:///var/run/docker.sock'",
  line({
    jobID: "check",
    job: "typecheck, lint, unit tests",
    msg: "⭐ Run Set up job",
    time: at(0),
  }),
  line({
    jobID: "check",
    step: "npm ci --no-audit --no-fund",
    stage: "Main",
    stepResult: "success",
    time: at(30),
  }),
  line({ jobID: "check", jobResult: "success", msg: "🏁  Job succeeded", time: at(90) }),
  line({
    jobID: "pipeline",
    job: "pipeline (verify only)/pipeline/build, verify, publish",
    msg: "⭐ Run Set up job",
    time: at(91),
  }),
  line({
    jobID: "pipeline",
    job: "pipeline (verify only)/pipeline/build, verify, publish",
    step: "Pipeline",
    stage: "Main",
    stepResult: "failure",
    time: at(200),
  }),
  line({
    jobID: "pipeline",
    job: "pipeline (verify only)/pipeline/build, verify, publish",
    step: "Upload report and SBOM",
    stage: "Main",
    stepResult: "failure",
    time: at(201),
  }),
  line({
    jobID: "pipeline",
    job: "pipeline (verify only)/pipeline/build, verify, publish",
    jobResult: "failure",
    msg: "🏁  Job failed",
    time: at(202),
  }),
  "Error: Job 'build, verify, publish' failed",
].join("\n");

describe("reading act's JSON log", () => {
  const workflow = loadWorkflow("ci.yml");

  it("gives each job its result, time and first failed step, a called workflow's under its caller, and never-started jobs as skipped", () => {
    expect(parseActLog(LOG, workflow)).toEqual([
      { id: "check", name: "typecheck, lint, unit tests", result: "success", seconds: 90 },
      { id: "test", name: "npm test (unit and end-to-end)", result: "skipped" },
      {
        id: "verify",
        name: "pipeline (verify only)",
        result: "failure",
        seconds: 111,
        failedStep: "Pipeline",
      },
      { id: "publish", name: "pipeline (publish edge)", result: "skipped" },
    ]);
  });

  it("keeps what the failed step printed: the lines naming failures, then its last lines, without colours", () => {
    const raw = (step: string, msg: string) =>
      line({
        jobID: "test",
        job: "npm test (unit and end-to-end)",
        step,
        stage: "Main",
        raw_output: true,
        msg,
        time: at(40),
      });
    const passing = Array.from({ length: 40 }, (_, i) => raw("npm test", ` ✓ passing test ${i}`));
    const log = [
      line({
        jobID: "test",
        job: "npm test (unit and end-to-end)",
        msg: "⭐ Run Set up job",
        time: at(0),
      }),
      raw("npm ci --no-audit --no-fund", "added 400 packages"),
      raw(
        "npm test",
        "\u001b[41m\u001b[1m FAIL \u001b[22m\u001b[49m e2e test/a.e2e.test.ts > a > refuses",
      ),
      ...passing,
      raw("npm test", " FAIL  e2e test/a.e2e.test.ts > a > refuses"),
      raw("npm test", "AssertionError: expected 1 to be 2"),
      raw("npm test", ""),
      raw("npm test", " Test Files  1 failed | 9 passed (10)"),
      raw(
        "npm test",
        "\r[1/2] build … 1s\u001b[K\r[1/2] build … 2s\u001b[K\r[1/2] build done (2.5s)\n",
      ),
      raw("npm test", "x".repeat(1000)),
      line({ jobID: "test", step: "npm test", stage: "Main", stepResult: "failure", time: at(60) }),
      line({ jobID: "test", jobResult: "failure", msg: "🏁  Job failed", time: at(61) }),
    ].join("\n");
    const [job] = parseActLog(log, workflow, ["test"]);
    expect(job?.failedStep).toBe("npm test");
    const output = job?.failedOutput ?? [];
    expect(output[0]).toBe("FAIL  e2e test/a.e2e.test.ts > a > refuses");
    expect(output.filter((text) => text.includes("FAIL"))).toHaveLength(1);
    // A redrawn progress line as its last state; a long line cut.
    expect(output.slice(-4)).toEqual([
      "AssertionError: expected 1 to be 2",
      " Test Files  1 failed | 9 passed (10)",
      "[1/2] build done (2.5s)",
      `${"x".repeat(299)}…`,
    ]);
    expect(output).toHaveLength(1 + FAILED_OUTPUT_LINES - 1);
    expect(output.some((text) => text.includes("added 400 packages"))).toBe(false);
    // A job that passed keeps no output.
    expect(parseActLog(LOG, workflow, ["check"])[0]?.failedOutput).toBeUndefined();
  });

  it("reports a job that started but never finished as cancelled", () => {
    const cut = LOG.split("\n").slice(0, 3).join("\n");
    expect(parseActLog(cut, workflow, ["check"])).toMatchObject([
      { id: "check", result: "cancelled" },
    ]);
  });
});

describe("judging a simulated run", () => {
  const scratch = mkdtempSync(join(tmpdir(), "gh-sim-judge-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const dirs = {
    sarif: join(scratch, "sarif"),
    record: join(scratch, "record"),
    artifacts: scratch,
  };
  mkdirSync(dirs.sarif);
  mkdirSync(dirs.record);

  it("requires a pull request to verify without publishing, and to keep the SARIF", () => {
    expect(jobExpectations("pull_request")).toEqual({
      check: "success",
      test: "success",
      verify: "success",
      publish: "skipped",
    });
    const jobs = [
      { id: "check", name: "c", result: "success" },
      { id: "test", name: "t", result: "success" },
      { id: "verify", name: "v", result: "success" },
      { id: "publish", name: "p", result: "success" },
    ];
    const judged = expectations({ event: "pull_request", fork: false, jobs: [] }, jobs, dirs, 0);
    expect(judged.perJob.get("publish")).toBe("must be skipped");
    expect(judged.other).toEqual(["no SARIF was kept from the verify job"]);
  });

  it("fails a fork's pull request that uploaded SARIF", () => {
    writeFileSync(join(dirs.sarif, "trivy-image.sarif"), "{}");
    const jobs = [{ id: "verify", name: "v", result: "success" }];
    const judged = expectations(
      { event: "pull_request", fork: true, jobs: ["verify"] },
      jobs,
      dirs,
      0,
    );
    expect(judged.other).toEqual(["a fork's pull request uploaded SARIF"]);
  });

  it("requires the tag's release to be created with the report as notes and the report, SBOM and keys attached", () => {
    const jobs = [
      { id: "pipeline", name: "p", result: "success" },
      { id: "mcp-registry", name: "m", result: "failure" },
      { id: "github-release", name: "r", result: "success" },
    ];
    const before = expectations({ event: "tag", fork: false, jobs: [] }, jobs, dirs, 1);
    expect([...before.perJob.values()]).toEqual(["", "", ""]);
    expect(before.other).toContain("gh release create was not called");
    writeFileSync(
      join(dirs.record, "gh.jsonl"),
      `${JSON.stringify(["release", "create", "v0.1.0", "--notes-file", "pipeline-report/report.md"])}\n`,
    );
    mkdirSync(join(dirs.record, "release"));
    for (const f of ["report.json", "sbom.cdx.json"])
      writeFileSync(join(dirs.record, "release", f), "x");
    writeFileSync(join(dirs.record, "release", "report.md"), "## ❌ Pipeline failed: `x`\n");
    expect(expectations({ event: "tag", fork: false, jobs: [] }, jobs, dirs, 1).other).toEqual([
      "the release notes (pipeline-report/report.md) are not the passing pipeline's report",
      "the release lacks cosign.pub",
      "the release lacks rekor.pub",
    ]);
    for (const f of ["cosign.pub", "rekor.pub"])
      writeFileSync(join(dirs.record, "release", f), "x");
    writeFileSync(join(dirs.record, "release", "report.md"), "## ✅ Pipeline passed: `x`\n");
    expect(expectations({ event: "tag", fork: false, jobs: [] }, jobs, dirs, 1).other).toEqual([]);
  });

  it("requires the GitHub release to go on when listing in the MCP Registry is refused", () => {
    const jobs = [
      { id: "pipeline", name: "p", result: "success" },
      { id: "mcp-registry", name: "m", result: "failure" },
      { id: "github-release", name: "r", result: "skipped" },
    ];
    const judged = expectations({ event: "tag", fork: false, jobs: [] }, jobs, dirs, 1);
    expect(judged.perJob.get("github-release")).toBe("must be success");
  });
});

describe("judging what a run published to the GHCR stand-in", () => {
  const d = "sha256:aaaa";
  it("passes a pull request that published nothing and fails one that published anything", () => {
    expect(judgePublished(new Map(), [])).toEqual([]);
    expect(judgePublished(new Map([["edge", d]]), [])).toEqual([
      "published edge but must publish nothing",
    ]);
  });

  it("requires exactly the wanted tags on one digest with a signature beside it", () => {
    const signed = new Map([
      ["edge", d],
      ["sha-1234567", d],
      ["sha256-aaaa.sig", "sha256:s"],
    ]);
    expect(judgePublished(signed, ["edge", "sha-1234567"])).toEqual([]);
    const unsigned = new Map([
      ["edge", d],
      ["sha-1234567", "sha256:bbbb"],
    ]);
    expect(judgePublished(unsigned, ["edge", "sha-1234567"])).toEqual([
      "the tags point at 2 digests, must be one",
      "sha256:aaaa is not signed (no sha256-aaaa.sig)",
    ]);
  });
});
