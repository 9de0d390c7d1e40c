import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../../../test/app/support/processes.js";
import type { McpRevision } from "../../../src/ci/config/schema.js";
import {
  CONFORMANCE_SUITE_PACKAGE,
  classifyScenario,
  installedSuite,
  renderConformanceMarkdown,
  runConformance,
  type ScenarioResult,
  type SuiteCheck,
} from "../../../src/ci/mcp/conformance.js";
import {
  type ConformanceLeg,
  emptyBaseline,
  parseExpectedFailures,
} from "../../../src/ci/mcp/conformance-plan.js";

const success = (id: string): SuiteCheck => ({ id, status: "SUCCESS", description: id });
const failure = (id: string, errorMessage: string): SuiteCheck => ({
  id,
  status: "FAILURE",
  errorMessage,
});
const warning = (id: string): SuiteCheck => ({ id, status: "WARNING", errorMessage: "should" });
const run = {
  revision: "2026-07-28" as const,
  scenario: "dns-rebinding-protection",
  output: "",
  durationMs: 1200,
};
const whole = { whole: true, checks: new Set<string>() };
const byCheck = (...ids: string[]) => ({ whole: false, checks: new Set(ids) });

describe("the installed suite", () => {
  it("runs the suite the lockfile pins, the release with both revisions' requirement sets, on this Node", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const suite = installedSuite();
    expect(`npm:@modelcontextprotocol/conformance@${suite.version}`).toBe(
      pkg.devDependencies[CONFORMANCE_SUITE_PACKAGE],
    );
    expect(suite.command[0]).toBe(process.execPath);
    expect(suite.command[1]).toMatch(/node_modules\/@modelcontextprotocol\/conformance-2026\//);
  });
});

describe("classifyScenario", () => {
  it("passes a scenario whose checks all succeed and whose suite exited 0", () => {
    const result = classifyScenario({ ...run, checks: [success("a"), success("b")], exitCode: 0 });
    expect(result).toMatchObject({ status: "passed", notes: ["2/2 checks passed"] });
  });

  it("fails a scenario with a failing check and names the check and its error", () => {
    const result = classifyScenario({
      ...run,
      checks: [failure("localhost-host-rebinding-rejected", "got 200"), success("b")],
      exitCode: 1,
    });
    expect(result.status).toBe("failed");
    expect(result.notes).toEqual([
      "1/2 checks passed",
      "localhost-host-rebinding-rejected: FAILURE: got 200",
    ]);
  });

  it("marks a failing scenario in the baseline as expected, and a passing one as unexpectedly passed", () => {
    const expected = classifyScenario({
      ...run,
      expected: whole,
      checks: [failure("x", "no")],
      exitCode: 1,
    });
    const stale = classifyScenario({
      ...run,
      expected: whole,
      checks: [success("x")],
      exitCode: 0,
    });
    expect(expected.status).toBe("expected-failure");
    expect(stale.status).toBe("unexpectedly-passed");
  });

  it("with a per-check entry excuses only that check: another failing check still fails the scenario", () => {
    const checks = [failure("a", "no"), failure("b", "no"), success("c")];
    expect(classifyScenario({ ...run, expected: byCheck("a"), checks, exitCode: 1 }).status).toBe(
      "failed",
    );
    expect(
      classifyScenario({ ...run, expected: byCheck("a", "b"), checks, exitCode: 1 }).status,
    ).toBe("expected-failure");
  });

  it("calls a per-check entry stale when that check passes, even if another occurrence of it did not run", () => {
    const result = classifyScenario({
      ...run,
      expected: byCheck("a"),
      checks: [success("a"), { id: "a", status: "SKIPPED" }, success("b")],
      exitCode: 0,
    });
    expect(result.status).toBe("unexpectedly-passed");
    expect(result.notes).toContain("a: passes, but the baseline expects it to fail");
  });

  it("sets aside checks that cannot apply to the server, shows them, and does not count them", () => {
    const result = classifyScenario({
      ...run,
      scenario: "server-stateless",
      notApplicable: { "needs-fixture": "needs the suite's diagnostic tool test_x" },
      checks: [success("a"), failure("needs-fixture", "Not testable: no test_x")],
      exitCode: 1,
    });
    expect(result.status).toBe("passed");
    expect(result.notApplicable).toEqual(["needs-fixture"]);
    expect(result.notes).toEqual([
      "1/1 checks passed, 1 not applicable",
      "needs-fixture: not applicable: needs the suite's diagnostic tool test_x",
    ]);
  });

  it("still fails a scenario whose other checks fail when some are not applicable", () => {
    const result = classifyScenario({
      ...run,
      notApplicable: { "needs-fixture": "why" },
      checks: [failure("real", "broken"), failure("needs-fixture", "Not testable")],
      exitCode: 1,
    });
    expect(result.status).toBe("failed");
  });

  it("counts warnings in the notes without failing the scenario", () => {
    const result = classifyScenario({ ...run, checks: [success("a"), warning("w")], exitCode: 0 });
    expect(result.status).toBe("passed");
    expect(result.notes[0]).toBe("1/1 checks passed, 1 warnings");
  });

  it("fails when the exit code contradicts the checks, since the reading cannot be trusted", () => {
    const result = classifyScenario({
      ...run,
      checks: [success("x")],
      exitCode: 1,
      output: "\u001b[31mSomething odd\u001b[0m",
    });
    expect(result.status).toBe("failed");
    expect(result.notes).toContain("  | Something odd");
  });

  it("fails a scenario that timed out or produced no checks, with the suite's output", () => {
    expect(
      classifyScenario({ ...run, checks: undefined, exitCode: 1, output: "Unknown scenario" })
        .notes,
    ).toEqual(["the suite reported no checks (exit 1)", "  | Unknown scenario"]);
    expect(
      classifyScenario({
        ...run,
        expected: whole,
        checks: undefined,
        exitCode: undefined,
        timedOut: true,
      }).status,
    ).toBe("failed");
  });
});

const leg = (revision: McpRevision, scenarios: string[]): ConformanceLeg => ({
  revision,
  scenarios,
  notApplicable: {},
});

describe("runConformance without the real suite", () => {
  const options = {
    url: "http://127.0.0.1:9/mcp",
    env: { PATH: process.env.PATH },
    cwd: REPO_ROOT,
  };

  it("skips when no scenario is planned and every revision is spoken", async () => {
    const check = await runConformance({
      ...options,
      legs: [leg("2026-07-28", [])],
      suiteCommand: installedSuite().command,
    });
    expect(check).toMatchObject({ status: "skipped", scenarios: [] });
  });

  it("fails every scenario when the suite exits without results, keeping its output", async () => {
    // Stands in for a suite that refuses to run (a wrong Node, say): it prints and exits 1.
    const suite = ["node", "-e", "console.error('needs Node >= 22'); process.exit(1)", "--"];
    const check = await runConformance({
      ...options,
      legs: [leg("2025-11-25", ["ping", "tools-list"])],
      suiteCommand: suite,
    });
    expect(check.status).toBe("failed");
    expect(check.scenarios.map((r) => r.status)).toEqual(["failed", "failed"]);
    expect(check.scenarios[0]?.notes).toEqual([
      "the suite reported no checks (exit 1)",
      "  | needs Node >= 22",
    ]);
  });

  it("throws with the cause when the suite command does not exist", async () => {
    const attempt = runConformance({
      ...options,
      legs: [leg("2025-11-25", ["ping"])],
      suiteCommand: ["/nonexistent/conformance"],
    });
    await expect(attempt).rejects.toMatchObject({
      code: "SUITE_FAILED_TO_RUN",
      message: expect.stringContaining("could not start (/nonexistent/conformance)"),
      cause: expect.anything(),
    });
  });
});

describe("the gate's verdict, with a stand-in suite that behaves as the real one", () => {
  // Writes `<output-dir>/server-<scenario>-<time>/checks.json` as the suite does, passing the
  // `scenario@revision` runs named in FAKE_PASSING, and exits 1 when a check failed. It records
  // the revision it was asked to run at in the check's id, so a test can see the wire was passed.
  const suiteScript = [
    "const fs = require('node:fs'), path = require('node:path');",
    "const arg = (name) => { const i = process.argv.indexOf(name); return i < 0 ? undefined : process.argv[i + 1]; };",
    "const scenario = arg('--scenario'), revision = arg('--spec-version');",
    "const passes = process.env.FAKE_PASSING.split(',').includes(scenario + '@' + revision);",
    "const dir = path.join(arg('--output-dir'), 'server-' + scenario + '-' + Date.now());",
    "fs.mkdirSync(dir, { recursive: true });",
    "fs.writeFileSync(path.join(dir, 'checks.json'), JSON.stringify([{ id: 'at-' + revision, status: passes ? 'SUCCESS' : 'FAILURE', errorMessage: passes ? undefined : 'no' }]));",
    "process.exit(passes ? 0 : 1);",
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "conformance-verdict-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const verdict = (passing: string[], baselineText?: string) =>
    runConformance({
      url: "http://127.0.0.1:9/mcp",
      cwd: dir,
      env: { PATH: process.env.PATH, FAKE_PASSING: passing.join(",") },
      legs: [leg("2026-07-28", ["tools-list"]), leg("2025-11-25", ["ping", "tools-list"])],
      suiteCommand: [process.execPath, "-e", suiteScript, "--"],
      ...(baselineText !== undefined
        ? { baseline: parseExpectedFailures(baselineText, "b.yml"), baselineName: "b.yml" }
        : {}),
    });
  const all = ["tools-list@2026-07-28", "ping@2025-11-25", "tools-list@2025-11-25"];

  it("runs a scenario of both revisions once at each revision's wire, and passes when all pass", async () => {
    const check = await verdict(all);
    expect(check.status).toBe("passed");
    expect(check.summary).toBe(
      "MCP conformance: 3/3 scenario runs passed at 2026-07-28, 2025-11-25",
    );
    expect(check.scenarios.map((r) => [r.scenario, r.revision, r.checks[0]?.id])).toEqual([
      ["tools-list", "2026-07-28", "at-2026-07-28"],
      ["ping", "2025-11-25", "at-2025-11-25"],
      ["tools-list", "2025-11-25", "at-2025-11-25"],
    ]);
  });

  it("fails on a scenario that fails at one revision only, naming the revision", async () => {
    const check = await verdict(["ping@2025-11-25", "tools-list@2025-11-25"]);
    expect(check.status).toBe("failed");
    expect(check.summary).toBe(
      "MCP conformance: 1 failed (tools-list@2026-07-28) of 3 scenario runs",
    );
  });

  it("passes a failure the baseline expects at that revision, and not at the other", async () => {
    const passing = ["ping@2025-11-25", "tools-list@2025-11-25"];
    const check = await verdict(passing, '"2026-07-28":\n  server: [tools-list]\n');
    expect(check.status).toBe("passed");
    expect(check.summary).toContain("1 expected failure (tools-list@2026-07-28)");
    // Control: the same entry for every revision is stale at 2025-11-25, where it passes.
    const flat = await verdict(passing, "server: [tools-list]\n");
    expect(flat.status).toBe("failed");
    expect(flat.summary).toBe(
      "MCP conformance: 1 stale in the baseline (tools-list@2025-11-25) of 3 scenario runs",
    );
    expect(flat.details).toContain(
      "! tools-list@2025-11-25: passes now, but b.yml says it fails: remove it from there",
    );
  });

  it("fails, naming it, when a claimed revision is not spoken, while the others still run", async () => {
    const check = await runConformance({
      url: "http://127.0.0.1:9/mcp",
      cwd: dir,
      env: { PATH: process.env.PATH, FAKE_PASSING: "ping@2025-11-25" },
      legs: [leg("2025-11-25", ["ping"])],
      unspoken: [{ revision: "2026-07-28", reason: "server/discover did not offer it" }],
      suiteCommand: [process.execPath, "-e", suiteScript, "--"],
    });
    expect(check.status).toBe("failed");
    expect(check.summary).toBe(
      "MCP conformance: the server does not speak 2026-07-28, which mcp.revisions claims; 1/1 scenario run passed at 2025-11-25",
    );
    expect(check.scenarios.map((r) => r.status)).toEqual(["passed"]);
  });
});

describe("renderConformanceMarkdown", () => {
  const result = (
    revision: McpRevision,
    scenario: string,
    status: ScenarioResult["status"],
    extra: Partial<ScenarioResult> = {},
  ): ScenarioResult => ({
    revision,
    scenario,
    status,
    checks: [],
    notApplicable: [],
    notes: ["1/1 checks passed"],
    durationMs: 3400,
    ...extra,
  });

  it("renders a revision × scenario table, then each run's notes and time", () => {
    const markdown = renderConformanceMarkdown([
      result("2026-07-28", "server-stateless", "passed", { notApplicable: ["a", "b"] }),
      result("2026-07-28", "tools-list", "passed"),
      result("2025-11-25", "tools-list", "expected-failure", {
        notes: ["1/2 checks passed", "x: FAILURE: a | b"],
        durationMs: 4870,
      }),
    ]);
    expect(markdown).toBe(
      [
        "| scenario | 2026-07-28 | 2025-11-25 |",
        "| --- | --- | --- |",
        "| `server-stateless` | ✓ passed (2 n/a) | — |",
        "| `tools-list` | ✓ passed | ~ expected-failure |",
        "",
        "| revision | scenario | result | notes | time |",
        "| --- | --- | --- | --- | --- |",
        "| 2026-07-28 | `server-stateless` | passed | 1/1 checks passed | 3.4 s |",
        "| 2026-07-28 | `tools-list` | passed | 1/1 checks passed | 3.4 s |",
        "| 2025-11-25 | `tools-list` | expected-failure | 1/2 checks passed; x: FAILURE: a \\| b | 4.9 s |",
        "",
      ].join("\n"),
    );
  });

  it("shows a claimed revision the server does not speak as a column of runs that did not happen, with why", () => {
    const markdown = renderConformanceMarkdown(
      [result("2025-11-25", "ping", "passed")],
      [{ revision: "2026-07-28", reason: "server/discover did not offer it" }],
    );
    expect(markdown).toContain("| scenario | 2026-07-28 | 2025-11-25 |");
    expect(markdown).toContain("| `ping` | not run | ✓ passed |");
    expect(markdown).toContain("**2026-07-28: not spoken.** server/discover did not offer it");
  });
});

describe("an empty baseline", () => {
  it("expects nothing at any revision", () => {
    const baseline = emptyBaseline();
    expect(baseline["2026-07-28"].size + baseline["2025-11-25"].size).toBe(0);
  });
});
