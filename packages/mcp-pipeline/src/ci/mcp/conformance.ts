import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { stripVTControlCharacters } from "node:util";
import type { ServerCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { execa } from "execa";
import pLimit from "p-limit";
import { parse as parseYaml } from "yaml";
import type { CheckOutcome } from "../checks/check.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/** The official MCP conformance suite's npm package. */
export const CONFORMANCE_SUITE_PACKAGE = "@modelcontextprotocol/conformance";

/**
 * The suite as the lockfile installs it — a pinned devDependency, the one
 * place its version is set — and the argv that runs its binary on this Node
 * (it needs Node >= 22), so running it fetches nothing.
 */
export function installedSuite(): { version: string; command: string[] } {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${CONFORMANCE_SUITE_PACKAGE}/package.json`);
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.SUITE_FAILED_TO_RUN,
      `${CONFORMANCE_SUITE_PACKAGE} is not installed; add it as a devDependency (npm install --save-dev --save-exact ${CONFORMANCE_SUITE_PACKAGE}) or --skip mcp-conformance`,
      { cause: error },
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    version: string;
    bin: { conformance: string };
  };
  return {
    version: manifest.version,
    command: [process.execPath, join(dirname(manifestPath), manifest.bin.conformance)],
  };
}

/**
 * What every Streamable HTTP server must pass, whatever it offers: the handshake, ping, a valid
 * tools/list, and rejecting DNS-rebinding Host/Origin headers (the last needs a localhost URL).
 */
export const BASE_SCENARIOS = [
  "server-initialize",
  "ping",
  "tools-list",
  "dns-rebinding-protection",
] as const;
/** Run only against servers that declare the `logging` capability. */
export const LOGGING_SCENARIO = "logging-set-level";

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
  scenario: string;
  status: ScenarioStatus;
  /** The suite's checks for this scenario; empty when it produced none. */
  checks: SuiteCheck[];
  /** Lines a person reads: failing checks, baseline notes, the suite's output when it broke. */
  notes: string[];
  durationMs: number;
}

/** What the `mcp-conformance` gate reports: the outcome plus every scenario's result. */
export interface ConformanceCheck extends CheckOutcome {
  scenarios: ScenarioResult[];
}

export interface RunConformanceOptions {
  /** The Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  /** Scenario names, e.g. `defaultScenarios(capabilities)`. */
  scenarios: readonly string[];
  /** YAML baseline `{ server: [scenario, …] }`, as the suite's `--expected-failures` reads it. */
  expectedFailuresFile?: string | undefined;
  /** argv that runs the suite's binary, e.g. `installedSuite().command`. */
  suiteCommand: readonly string[];
  /** The whole environment of the suite's process; this process's when unset. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Working directory; a relative `expectedFailuresFile` is resolved against it. */
  cwd: string;
  /** Per scenario; the first run may download Node and the suite. Default 180 s. */
  timeoutMs?: number | undefined;
  /** Scenarios run at once after the first. Default 4. */
  concurrency?: number | undefined;
}

/** True when the server's initialize result declares the `logging` capability. */
export function declaresLogging(capabilities: ServerCapabilities | undefined): boolean {
  return capabilities?.logging !== undefined;
}

/** The default scenario list for a server with these capabilities (from its initialize result). */
export function defaultScenarios(capabilities: ServerCapabilities | undefined): string[] {
  return [...BASE_SCENARIOS, ...(declaresLogging(capabilities) ? [LOGGING_SCENARIO] : [])];
}

/**
 * Parses an expected-failures file the way suite 0.1.16 does: YAML with optional `server` and
 * `client` lists of scenario names; an empty file lists nothing. Returns the `server` list.
 * Throws McpGateError (`EXPECTED_FAILURES_INVALID`) naming the file and what is wrong.
 */
export function parseExpectedFailures(text: string, source: string): string[] {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.EXPECTED_FAILURES_INVALID,
      `${source} is not valid YAML`,
      { cause: error },
    );
  }
  if (data === null || data === undefined) return [];
  const expected = "expected a mapping like `server: [dns-rebinding-protection]`";
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new McpGateError(McpGateErrorCode.EXPECTED_FAILURES_INVALID, `${source}: ${expected}`);
  }
  const server = (data as { server?: unknown }).server;
  if (server === undefined || server === null) return [];
  if (!Array.isArray(server)) {
    throw new McpGateError(
      McpGateErrorCode.EXPECTED_FAILURES_INVALID,
      `${source}: server must be a list of scenario names; ${expected}`,
    );
  }
  return server.map(String);
}

/** Reads and parses an expected-failures file; see `parseExpectedFailures`. */
export async function readExpectedFailures(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.EXPECTED_FAILURES_INVALID,
      `cannot read the conformance expected-failures file ${path}; create it or remove the setting`,
      { cause: error },
    );
  }
  return parseExpectedFailures(text, path);
}

/**
 * Classifies one scenario run from the suite's checks and exit code, the way the suite's own
 * baseline logic does: without a baseline entry a FAILURE fails it; with one, a FAILURE or
 * WARNING makes it an expected failure and a clean run makes it stale (unexpectedly passed). When
 * the exit code disagrees with the checks, the scenario fails: the result cannot be trusted.
 */
export function classifyScenario(run: {
  scenario: string;
  expectedToFail: boolean;
  /** Undefined when the suite wrote no `checks.json`. */
  checks: SuiteCheck[] | undefined;
  exitCode: number | undefined;
  timedOut?: boolean | undefined;
  output: string;
  durationMs: number;
}): ScenarioResult {
  const base = { scenario: run.scenario, checks: run.checks ?? [], durationMs: run.durationMs };
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
  const failures = run.checks.filter((check) => check.status === "FAILURE");
  const warnings = run.checks.filter((check) => check.status === "WARNING");
  const counted = run.checks.filter(
    (check) => check.status === "SUCCESS" || check.status === "FAILURE",
  );
  const notes = [
    `${counted.length - failures.length}/${counted.length} checks passed${warnings.length ? `, ${warnings.length} warnings` : ""}`,
    ...[...failures, ...warnings].map((check) =>
      `${check.id}: ${check.status}: ${check.errorMessage ?? check.description ?? ""}`.trimEnd(),
    ),
  ];
  let status: ScenarioStatus;
  if (run.expectedToFail) {
    status = failures.length + warnings.length > 0 ? "expected-failure" : "unexpectedly-passed";
  } else {
    status = failures.length > 0 ? "failed" : "passed";
  }
  const exitWanted = status === "passed" || status === "expected-failure" ? 0 : 1;
  if (run.exitCode !== exitWanted) {
    return {
      ...base,
      status: "failed",
      notes: [
        ...notes,
        `the suite exited ${run.exitCode ?? "?"} where its checks say ${status} (exit ${exitWanted}); its output:`,
        ...outputTail(run.output),
      ],
    };
  }
  return { ...base, status, notes };
}

/**
 * The `mcp-conformance` gate: runs each scenario of the official MCP conformance suite against
 * the Streamable HTTP endpoint `url`, with the expected-failures baseline when one is given, and
 * reads each scenario's `checks.json`. Fails when a scenario fails outside the baseline, or
 * passes while the baseline says it fails (the entry is stale). Scenarios run `concurrency` at a
 * time.
 */
export async function runConformance(options: RunConformanceOptions): Promise<ConformanceCheck> {
  if (options.scenarios.length === 0) {
    return {
      status: "skipped",
      summary: "no conformance scenarios configured",
      details: [],
      scenarios: [],
    };
  }
  const [program, ...prefix] = options.suiteCommand;
  if (program === undefined) throw new TypeError("suiteCommand must name a program");
  const baselineFile =
    options.expectedFailuresFile === undefined
      ? undefined
      : resolve(options.cwd, options.expectedFailuresFile);
  const baseline = new Set(
    baselineFile === undefined ? [] : await readExpectedFailures(baselineFile),
  );
  const outputRoot = await mkdtemp(join(tmpdir(), "mcp-conformance-"));
  try {
    const runOne = async (scenario: string): Promise<ScenarioResult> => {
      const outputDir = join(outputRoot, scenario.replace(/[^\w.-]/g, "_"));
      const started = performance.now();
      const args = [
        ...prefix,
        "server",
        "--url",
        options.url,
        "--scenario",
        scenario,
        "--output-dir",
        outputDir,
        ...(baselineFile === undefined ? [] : ["--expected-failures", baselineFile]),
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
        scenario,
        expectedToFail: baseline.has(scenario),
        checks: await readChecks(outputDir),
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        output: result.all ?? "",
        durationMs: Math.round(performance.now() - started),
      });
    };
    const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
    const results = await Promise.all(
      options.scenarios.map((scenario) => limit(() => runOne(scenario))),
    );
    return summarize(results, options, baselineFile, baseline);
  } finally {
    await rm(outputRoot, { recursive: true, force: true });
  }
}

/** Renders per-scenario results as a Markdown table for `report.md`. */
export function renderConformanceMarkdown(scenarios: readonly ScenarioResult[]): string {
  const rows = scenarios.map((result) => {
    const note = result.notes.slice(0, 3).join("; ").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
    return `| \`${result.scenario}\` | ${result.status} | ${note} | ${(result.durationMs / 1000).toFixed(1)} s |`;
  });
  return ["| scenario | result | notes | time |", "| --- | --- | --- | --- |", ...rows, ""].join(
    "\n",
  );
}

const SYMBOLS: Record<ScenarioStatus, string> = {
  passed: "✓",
  failed: "✗",
  "expected-failure": "~",
  "unexpectedly-passed": "!",
};

function summarize(
  results: ScenarioResult[],
  options: RunConformanceOptions,
  baselineFile: string | undefined,
  baseline: ReadonlySet<string>,
): ConformanceCheck {
  const count = (status: ScenarioStatus) => results.filter((result) => result.status === status);
  const failed = count("failed");
  const stale = count("unexpectedly-passed");
  const expected = count("expected-failure");
  const baselineName = options.expectedFailuresFile ?? "the expected-failures file";
  const details = [`suite: ${options.suiteCommand.join(" ")}, against ${options.url}`];
  for (const result of results) {
    const label = {
      passed: "passed",
      failed: "FAILED",
      "expected-failure": `expected failure (listed in ${baselineName})`,
      "unexpectedly-passed": `passes now, but ${baselineName} says it fails: remove it from there`,
    }[result.status];
    details.push(`${SYMBOLS[result.status]} ${result.scenario}: ${label}`);
    details.push(...result.notes.map((note) => `    ${note}`));
  }
  const unused = [...baseline].filter((name) => !options.scenarios.includes(name));
  if (baselineFile !== undefined && unused.length > 0) {
    details.push(
      `${baselineName} also lists ${unused.join(", ")}, which this run does not include`,
    );
  }
  const total = results.length;
  if (failed.length > 0 || stale.length > 0) {
    const parts = [
      failed.length > 0
        ? `${failed.length} failed (${failed.map((r) => r.scenario).join(", ")})`
        : "",
      stale.length > 0
        ? `${stale.length} stale in the baseline (${stale.map((r) => r.scenario).join(", ")})`
        : "",
    ].filter(Boolean);
    return {
      status: "failed",
      summary: `MCP conformance: ${parts.join(", ")} of ${total} scenarios`,
      details,
      scenarios: results,
    };
  }
  const passed = total - expected.length;
  return {
    status: "passed",
    summary:
      expected.length > 0
        ? `MCP conformance: ${passed}/${total} scenarios passed, ${expected.length} expected failure${expected.length === 1 ? "" : "s"} (${expected.map((r) => r.scenario).join(", ")})`
        : `MCP conformance: ${total}/${total} scenarios passed`,
    details,
    scenarios: results,
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
