import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import pLimit from "p-limit";
import type { CheckOutcome } from "../checks/check.js";
import { MCP_REVISIONS, type McpRevision } from "../config/schema.js";
import {
  type Baseline,
  type ConformanceLeg,
  type Expectation,
  parseRequirementSet,
  type RequirementSet,
} from "./conformance-plan.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/**
 * The official MCP conformance suite's npm package as this package depends on it: an alias of
 * `@modelcontextprotocol/conformance` at the release whose frozen requirement sets cover both
 * revisions (`requirements/2025-11-25.yaml`, `requirements/2026-07-28.yaml`).
 */
export const CONFORMANCE_SUITE_PACKAGE = "@modelcontextprotocol/conformance-2026";

/** The suite as installed: its version, the argv that runs it, and its directory. */
export interface InstalledSuite {
  version: string;
  command: string[];
  /** The package's directory, where `requirements/<revision>.yaml` lives. */
  root: string;
}

/**
 * The suite as the lockfile installs it — a pinned dependency, the one place its version is set —
 * and the argv that runs its binary on this Node (it needs Node >= 22), so running it fetches
 * nothing.
 */
export function installedSuite(): InstalledSuite {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${CONFORMANCE_SUITE_PACKAGE}/package.json`);
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.SUITE_FAILED_TO_RUN,
      `${CONFORMANCE_SUITE_PACKAGE} is not installed; reinstall mcp-pipeline's dependencies (npm ci), or --skip mcp-conformance`,
      { cause: error },
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    version: string;
    bin: { conformance: string };
  };
  const root = dirname(manifestPath);
  return {
    version: manifest.version,
    command: [process.execPath, join(root, manifest.bin.conformance)],
    root,
  };
}

/** The suite's frozen requirement set of every revision this pipeline verifies. */
export async function readRequirementSets(
  suiteRoot: string,
): Promise<Record<McpRevision, RequirementSet>> {
  const entries = await Promise.all(
    MCP_REVISIONS.map(async (revision) => {
      const file = join(suiteRoot, "requirements", `${revision}.yaml`);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw new McpGateError(
          McpGateErrorCode.SUITE_FAILED_TO_RUN,
          `the conformance suite has no requirement set for ${revision} (${file}); it needs ${CONFORMANCE_SUITE_PACKAGE} 0.2.0-alpha.12 or later`,
          { cause: error },
        );
      }
      return [revision, parseRequirementSet(text, file)] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<McpRevision, RequirementSet>;
}

const DEFAULT_TIMEOUT_MS = 180_000;
const DEFAULT_CONCURRENCY = 4;
const OUTPUT_TAIL_LINES = 15;

/** How one scenario ended, after the expected-failures baseline is applied. */
export type ScenarioStatus = "passed" | "failed" | "expected-failure" | "unexpectedly-passed";

/** One check as the suite writes it to `checks.json`. */
export interface SuiteCheck {
  id: string;
  name?: string;
  description?: string;
  /** `SUCCESS`, `FAILURE`, `WARNING`, `INFO` or `SKIPPED`. */
  status: string;
  errorMessage?: string;
}

export interface ScenarioResult {
  revision: McpRevision;
  scenario: string;
  status: ScenarioStatus;
  /** The suite's checks for this scenario; empty when it produced none. */
  checks: SuiteCheck[];
  /** Ids of checks that cannot apply to this server (see FIXTURE_CHECKS); never counted. */
  notApplicable: string[];
  /** Lines a person reads: failing checks, baseline notes, the suite's output when it broke. */
  notes: string[];
  durationMs: number;
}

/** A claimed revision the server does not speak: none of its scenarios could run. */
export interface UnspokenRevision {
  revision: McpRevision;
  reason: string;
}

/** What the `mcp-conformance` gate reports: the outcome plus every scenario run's result. */
export interface ConformanceCheck extends CheckOutcome {
  scenarios: ScenarioResult[];
  unspoken: UnspokenRevision[];
}

export interface RunConformanceOptions {
  /** The Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  /** What runs at each revision the server speaks (`planConformance`). */
  legs: readonly ConformanceLeg[];
  /** Claimed revisions the server does not speak; each fails the gate. */
  unspoken?: readonly UnspokenRevision[] | undefined;
  /** The expected-failures baseline by revision (`readExpectedFailures`). */
  baseline?: Baseline | undefined;
  /** How the baseline is named in messages, e.g. its path. */
  baselineName?: string | undefined;
  /** argv that runs the suite's binary, e.g. `installedSuite().command`. */
  suiteCommand: readonly string[];
  /** The whole environment of the suite's process; this process's when unset. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  cwd: string;
  /** Per scenario. Default 180 s. */
  timeoutMs?: number | undefined;
  /** Scenarios run at once. Default 4. */
  concurrency?: number | undefined;
}

/** A scenario run's label in summaries: `tools-list@2026-07-28`. */
export function runLabel(result: { scenario: string; revision: McpRevision }): string {
  return `${result.scenario}@${result.revision}`;
}

const NOTHING_EXPECTED: Expectation = { whole: false, checks: new Set() };

/**
 * Classifies one scenario run from the suite's checks and exit code. Checks that cannot apply to
 * the server are set aside first. Without a baseline entry a FAILURE fails the scenario; with a
 * whole-scenario entry a FAILURE or WARNING makes it an expected failure and a clean run makes
 * the entry stale (unexpectedly passed); with per-check entries (`scenario:check-id`) only the
 * named checks may fail, and a named check that passes is stale. The suite runs without a
 * baseline, so it exits 1 exactly when a check failed; when its exit code disagrees with the
 * checks, the scenario fails: the result cannot be trusted.
 */
export function classifyScenario(run: {
  revision: McpRevision;
  scenario: string;
  expected?: Expectation | undefined;
  /** check id → why it cannot apply. */
  notApplicable?: Readonly<Record<string, string>> | undefined;
  /** Undefined when the suite wrote no `checks.json`. */
  checks: SuiteCheck[] | undefined;
  exitCode: number | undefined;
  timedOut?: boolean | undefined;
  output: string;
  durationMs: number;
}): ScenarioResult {
  const expected = run.expected ?? NOTHING_EXPECTED;
  const notApplicable = run.notApplicable ?? {};
  const base = {
    revision: run.revision,
    scenario: run.scenario,
    checks: run.checks ?? [],
    notApplicable: [] as string[],
    durationMs: run.durationMs,
  };
  if (run.timedOut) {
    return {
      ...base,
      status: "failed",
      notes: [`timed out after ${Math.round(run.durationMs / 1000)} s`, ...outputTail(run.output)],
    };
  }
  if (run.checks === undefined || run.checks.length === 0) {
    return {
      ...base,
      status: "failed",
      notes: [
        `the suite reported no checks (exit ${run.exitCode ?? "?"})`,
        ...outputTail(run.output),
      ],
    };
  }
  const setAside = [...new Set(run.checks.map((c) => c.id).filter((id) => id in notApplicable))];
  const counted = run.checks.filter((check) => !(check.id in notApplicable));
  const failures = counted.filter((check) => check.status === "FAILURE");
  const warnings = counted.filter((check) => check.status === "WARNING");
  const scored = counted.filter(
    (check) => check.status === "SUCCESS" || check.status === "FAILURE",
  );
  const notes = [
    `${scored.length - failures.length}/${scored.length} checks passed${warnings.length ? `, ${warnings.length} warnings` : ""}${setAside.length ? `, ${setAside.length} not applicable` : ""}`,
    ...[...failures, ...warnings].map((check) =>
      `${check.id}: ${check.status}: ${check.errorMessage ?? check.description ?? ""}`.trimEnd(),
    ),
    ...setAside.map((id) => `${id}: not applicable: ${notApplicable[id]}`),
  ];
  let status: ScenarioStatus;
  if (expected.whole) {
    status = failures.length + warnings.length > 0 ? "expected-failure" : "unexpectedly-passed";
  } else if (expected.checks.size > 0) {
    const verdict = collapse(counted);
    const unexpected = [...verdict].filter(
      ([id, s]) => s === "FAILURE" && !expected.checks.has(id),
    );
    const excused = [...verdict].filter(
      ([id, s]) => (s === "FAILURE" || s === "WARNING") && expected.checks.has(id),
    );
    const stale = [...expected.checks].filter((id) => verdict.get(id) === "SUCCESS");
    for (const id of stale) notes.push(`${id}: passes, but the baseline expects it to fail`);
    if (unexpected.length > 0) status = "failed";
    else if (stale.length > 0) status = "unexpectedly-passed";
    else status = excused.length > 0 ? "expected-failure" : "passed";
  } else {
    status = failures.length > 0 ? "failed" : "passed";
  }
  const exitWanted = run.checks.some((check) => check.status === "FAILURE") ? 1 : 0;
  if (run.exitCode !== exitWanted) {
    return {
      ...base,
      notApplicable: setAside,
      status: "failed",
      notes: [
        ...notes,
        `the suite exited ${run.exitCode ?? "?"} where its checks say it should exit ${exitWanted}; its output:`,
        ...outputTail(run.output),
      ],
    };
  }
  return { ...base, notApplicable: setAside, status, notes };
}

/** One verdict per check id, the most severe occurrence winning, as the suite collapses them. */
function collapse(checks: readonly SuiteCheck[]): Map<string, string> {
  const rank = (status: string) =>
    ({ FAILURE: 4, WARNING: 3, SUCCESS: 2, SKIPPED: 1 })[status] ?? 0;
  const verdict = new Map<string, string>();
  for (const check of checks) {
    const before = verdict.get(check.id);
    if (before === undefined || rank(check.status) > rank(before))
      verdict.set(check.id, check.status);
  }
  return verdict;
}

/**
 * The `mcp-conformance` gate: runs each leg's scenarios of the official MCP conformance suite
 * against the Streamable HTTP endpoint `url`, each at its leg's revision (`--spec-version`), and
 * reads each scenario's `checks.json`; the baseline is applied here, by revision. Fails when a
 * claimed revision is not spoken, when a scenario fails outside the baseline, or when one passes
 * while the baseline says it fails (the entry is stale). Scenarios run `concurrency` at a time.
 */
export async function runConformance(options: RunConformanceOptions): Promise<ConformanceCheck> {
  const unspoken = options.unspoken ?? [];
  const runs = options.legs.flatMap((leg) => leg.scenarios.map((scenario) => ({ leg, scenario })));
  if (runs.length === 0 && unspoken.length === 0) {
    return {
      status: "skipped",
      summary: "no conformance scenarios configured",
      details: [],
      scenarios: [],
      unspoken: [],
    };
  }
  const [program, ...prefix] = options.suiteCommand;
  if (program === undefined) throw new TypeError("suiteCommand must name a program");
  const outputRoot = await mkdtemp(join(tmpdir(), "mcp-conformance-"));
  try {
    const runOne = async (leg: ConformanceLeg, scenario: string): Promise<ScenarioResult> => {
      const outputDir = join(outputRoot, leg.revision, scenario.replace(/[^\w.-]/g, "_"));
      const started = performance.now();
      const args = [
        ...prefix,
        "server",
        "--url",
        options.url,
        "--spec-version",
        leg.revision,
        "--scenario",
        scenario,
        "--output-dir",
        outputDir,
      ];
      const result = await execa(program, args, {
        cwd: options.cwd,
        ...(options.env ? { env: options.env, extendEnv: false } : {}),
        reject: false,
        all: true,
        stdin: "ignore",
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      });
      if (result.exitCode === undefined && !result.timedOut) {
        throw new McpGateError(
          McpGateErrorCode.SUITE_FAILED_TO_RUN,
          `the conformance suite could not start (${options.suiteCommand.join(" ")}): ${result.shortMessage}`,
          { cause: result },
        );
      }
      return classifyScenario({
        revision: leg.revision,
        scenario,
        expected: options.baseline?.[leg.revision].get(scenario),
        notApplicable: leg.notApplicable[scenario],
        checks: await readChecks(outputDir),
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        output: result.all ?? "",
        durationMs: Math.round(performance.now() - started),
      });
    };
    const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
    const results = await Promise.all(
      runs.map(({ leg, scenario }) => limit(() => runOne(leg, scenario))),
    );
    return summarize(results, options);
  } finally {
    await rm(outputRoot, { recursive: true, force: true });
  }
}

const SYMBOLS: Record<ScenarioStatus, string> = {
  passed: "✓",
  failed: "✗",
  "expected-failure": "~",
  "unexpectedly-passed": "!",
};

/**
 * Renders the results for `report.md`: a revision × scenario table (a scenario a revision does
 * not run is `—`, an unspoken revision says so), then every run's notes and time.
 */
export function renderConformanceMarkdown(
  scenarios: readonly ScenarioResult[],
  unspoken: readonly UnspokenRevision[] = [],
): string {
  const revisions = MCP_REVISIONS.filter(
    (revision) =>
      scenarios.some((result) => result.revision === revision) ||
      unspoken.some((u) => u.revision === revision),
  );
  const names = [...new Set(scenarios.map((result) => result.scenario))];
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const lines = [
    `| scenario | ${revisions.join(" | ")} |`,
    `| --- | ${revisions.map(() => "---").join(" | ")} |`,
  ];
  for (const name of names) {
    const cells = revisions.map((revision) => {
      if (unspoken.some((u) => u.revision === revision)) return "not run";
      const result = scenarios.find((r) => r.scenario === name && r.revision === revision);
      if (!result) return "—";
      const na = result.notApplicable.length ? ` (${result.notApplicable.length} n/a)` : "";
      return `${SYMBOLS[result.status]} ${result.status}${na}`;
    });
    lines.push(`| \`${name}\` | ${cells.join(" | ")} |`);
  }
  lines.push("");
  for (const u of unspoken) {
    lines.push(`**${u.revision}: not spoken.** ${cell(u.reason)}`, "");
  }
  if (scenarios.length > 0) {
    lines.push(
      "| revision | scenario | result | notes | time |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const result of scenarios) {
      const note = cell(result.notes.slice(0, 3).join("; "));
      lines.push(
        `| ${result.revision} | \`${result.scenario}\` | ${result.status} | ${note} | ${(result.durationMs / 1000).toFixed(1)} s |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

function summarize(results: ScenarioResult[], options: RunConformanceOptions): ConformanceCheck {
  const unspoken = [...(options.unspoken ?? [])];
  const count = (status: ScenarioStatus) => results.filter((result) => result.status === status);
  const failed = count("failed");
  const stale = count("unexpectedly-passed");
  const expected = count("expected-failure");
  const baselineName = options.baselineName ?? "the expected-failures file";
  const details = [`suite: ${options.suiteCommand.join(" ")}, against ${options.url}`];
  for (const u of unspoken) details.push(`✗ ${u.revision}: NOT SPOKEN: ${u.reason}`);
  for (const result of results) {
    const label = {
      passed: "passed",
      failed: "FAILED",
      "expected-failure": `expected failure (listed in ${baselineName})`,
      "unexpectedly-passed": `passes now, but ${baselineName} says it fails: remove it from there`,
    }[result.status];
    details.push(`${SYMBOLS[result.status]} ${runLabel(result)}: ${label}`);
    details.push(...result.notes.map((note) => `    ${note}`));
  }
  if (options.baseline) {
    for (const leg of options.legs) {
      const unused = [...options.baseline[leg.revision].keys()].filter(
        (name) => !leg.scenarios.includes(name),
      );
      if (unused.length > 0) {
        details.push(
          `${baselineName} also lists ${unused.join(", ")} for ${leg.revision}, which this run does not include there`,
        );
      }
    }
  }
  const total = results.length;
  const runs = `${total} scenario run${total === 1 ? "" : "s"}`;
  const revisions = options.legs.map((leg) => leg.revision).join(", ");
  const problems = [
    failed.length > 0 ? `${failed.length} failed (${failed.map(runLabel).join(", ")})` : "",
    stale.length > 0
      ? `${stale.length} stale in the baseline (${stale.map(runLabel).join(", ")})`
      : "",
  ].filter(Boolean);
  const passed = total - expected.length;
  const outcome =
    problems.length > 0
      ? `${problems.join(", ")} of ${runs}`
      : total === 0
        ? "no scenario ran"
        : `${passed}/${runs} passed at ${revisions}${
            expected.length > 0
              ? `, ${expected.length} expected failure${expected.length === 1 ? "" : "s"} (${expected.map(runLabel).join(", ")})`
              : ""
          }`;
  const notSpoken =
    unspoken.length > 0
      ? `the server does not speak ${unspoken.map((u) => u.revision).join(", ")}, which mcp.revisions claims; `
      : "";
  return {
    status: problems.length > 0 || unspoken.length > 0 ? "failed" : "passed",
    summary: `MCP conformance: ${notSpoken}${outcome}`,
    details,
    scenarios: results,
    unspoken,
  };
}

/** The checks the suite saved under `outputDir`, or undefined when it saved none. */
async function readChecks(outputDir: string): Promise<SuiteCheck[] | undefined> {
  let entries: string[];
  try {
    entries = await readdir(outputDir);
  } catch (error) {
    // No directory means the suite stopped before running the scenario; its output says why.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  // The suite writes `<output-dir>/server-<scenario>-<timestamp>/checks.json`.
  const [dir] = entries.filter((entry) => entry.startsWith("server-")).sort();
  if (dir === undefined) return undefined;
  const file = join(outputDir, dir, "checks.json");
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    // A skipped scenario leaves its directory without results.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new McpGateError(
      McpGateErrorCode.SUITE_FAILED_TO_RUN,
      `cannot read the conformance suite's results ${file}`,
      { cause: error },
    );
  }
  if (!Array.isArray(data)) {
    throw new McpGateError(
      McpGateErrorCode.SUITE_FAILED_TO_RUN,
      `the conformance suite wrote ${dir}/checks.json in a format this pipeline does not read (expected an array of checks); has the suite's version changed?`,
    );
  }
  return data as SuiteCheck[];
}

function outputTail(output: string): string[] {
  const lines = stripVTControlCharacters(output).trimEnd().split("\n");
  return lines.slice(-OUTPUT_TAIL_LINES).map((line) => `  | ${line}`);
}
