import { describe, expect, it } from "vitest";
import { judgeStepSummaries, stepSummariesFromLog } from "./step-summaries.js";
import { loadWorkflow } from "./workflows.js";

const passed = "## ✅ Pipeline passed: `ghcr.io/o/r:edge`\n\n| check |\n";
const failed = "## ❌ Pipeline failed: `localhost:5000/x:1`\n";

const workflow = loadWorkflow(
  "ci.yml",
  [
    "name: ci",
    "on: { push: {} }",
    "jobs:",
    "  test:",
    "    runs-on: ubuntu-24.04",
    "    steps: [{ run: npm test }]",
    "  publish:",
    "    name: pipeline (publish edge)",
    "    uses: ./.github/workflows/pipeline.yml",
  ].join("\n"),
);

const summary = (jobID: string, job: string, step: string, content: string) =>
  JSON.stringify({ command: "summary", content, jobID, job, step, level: "info" });

describe("stepSummariesFromLog", () => {
  it("reads act's summary entries by job, a called workflow's under its caller", () => {
    const log = [
      summary("test", "ci/test", "npm test", "## Vitest Test Report\n"),
      JSON.stringify({ jobID: "test", msg: "  ✅  Success - Main npm test" }),
      "not json",
      summary(
        "pipeline",
        "pipeline (publish edge)/pipeline/build, verify, publish",
        "Pipeline",
        passed,
      ),
    ].join("\n");
    expect(stepSummariesFromLog(log, workflow)).toEqual(
      new Map([
        ["test", [{ step: "npm test", content: "## Vitest Test Report\n" }]],
        ["publish", [{ step: "Pipeline", content: passed }]],
      ]),
    );
  });
});

describe("judgeStepSummaries", () => {
  it("passes the pipeline job holding its summary once and other jobs none", () => {
    const summaries = new Map([
      ["publish", [{ step: "Pipeline", content: passed }]],
      ["test", [{ step: "npm test", content: "## Vitest Test Report\n" }]],
    ]);
    expect(judgeStepSummaries(summaries, "publish")).toEqual([]);
  });

  it("fails when a pipeline run appended its summary twice", () => {
    const summaries = new Map([["publish", [{ step: "Pipeline", content: passed + passed }]]]);
    expect(judgeStepSummaries(summaries, "publish")).toEqual([
      "the publish job's step summary holds the pipeline's summary 2 times, must be once",
    ]);
  });

  it("fails when end-to-end pipeline runs in the test job appended theirs", () => {
    const summaries = new Map([
      ["publish", [{ step: "Pipeline", content: passed }]],
      ["test", [{ step: "npm test", content: failed + passed }]],
    ]);
    expect(judgeStepSummaries(summaries, "publish")).toEqual([
      "the test job's step summary holds the pipeline's summary 2 times, must hold none (each pipeline run appends its own)",
    ]);
  });

  it("fails when the pipeline's summary never reached the step summary", () => {
    expect(judgeStepSummaries(new Map(), "publish")).toEqual([
      "the publish job's step summary holds the pipeline's summary 0 times, must be once",
    ]);
  });

  it("expects it nowhere when no job ran the pipeline", () => {
    expect(judgeStepSummaries(new Map(), undefined)).toEqual([]);
  });
});
