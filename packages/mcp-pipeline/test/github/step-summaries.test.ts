import { describe, expect, it } from "vitest";
import { foldSummary, judgeStepSummaries } from "./step-summaries.js";

const passed = "## ✅ Pipeline passed: `ghcr.io/o/r:edge`\n\n| check |\n";
const failed = "## ❌ Pipeline failed: `localhost:5000/x:1`\n";

describe("foldSummary", () => {
  it("keeps a step's summary when the next step empties the file", () => {
    const seen = { current: "", steps: [] as string[] };
    foldSummary(seen, "");
    foldSummary(seen, passed.slice(0, 10));
    foldSummary(seen, passed);
    foldSummary(seen, "");
    foldSummary(seen, "other step\n");
    expect(seen).toEqual({ current: "other step\n", steps: [passed] });
  });
});

describe("judgeStepSummaries", () => {
  it("passes one pipeline job whose summary holds the report once, other jobs none", () => {
    const summaries = new Map([
      ["job-a", ["checked out\n", passed]],
      ["job-b", ["npm test output\n"]],
    ]);
    expect(judgeStepSummaries(summaries, 1)).toEqual([]);
  });

  it("fails when a pipeline run appended its summary twice", () => {
    expect(judgeStepSummaries(new Map([["job-a", [passed + passed]]]), 1)).toEqual([
      "a job's step summary holds the pipeline's summary 2 times, must be once",
    ]);
  });

  it("fails when end-to-end tests in another job appended theirs", () => {
    const summaries = new Map([
      ["pipeline", [passed]],
      ["test", [failed, passed]],
    ]);
    expect(judgeStepSummaries(summaries, 1)).toEqual([
      "the pipeline's summary is in the step summary of 2 job(s), must be 1 (counts per job: 1, 2)",
      "a job's step summary holds the pipeline's summary 2 times, must be once",
    ]);
  });

  it("fails when the pipeline job's summary never reached the step summary", () => {
    expect(judgeStepSummaries(new Map([["pipeline", ["other\n"]]]), 1)).toEqual([
      "the pipeline's summary is in the step summary of 0 job(s), must be 1 (counts per job: 0)",
    ]);
  });

  it("expects none when no job ran the pipeline", () => {
    expect(judgeStepSummaries(new Map(), 0)).toEqual([]);
  });
});
