import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REVISIONS, type Revision } from "../support/clients.js";
import { REPO_ROOT } from "../support/processes.js";
import {
  makeTempDir,
  type RunningBackend,
  type RunningMcp,
  startBackend,
  startMcp,
} from "../support/servers.js";

// The official MCP conformance suite at the release that carries the frozen requirement sets
// of both revisions (an npm alias of @modelcontextprotocol/conformance@0.2.0-alpha.12, beside
// the 0.1.16 that ci/ pins), run from node_modules on the Node running the tests (it needs
// Node >= 22), so the test needs no network.
const PACKAGE_DIR = join(REPO_ROOT, "node_modules/@modelcontextprotocol/conformance-2026");

/**
 * Scenarios of each requirement set that exercise what this server deliberately does not
 * have: the suite's fixture tools (test_simple_text, greet, slow_compute, …), prompts,
 * resources, completions, logging, sampling and elicitation, and the tasks extension. A todo
 * server cannot pass them without shipping the suite's fixtures; every other scenario must pass.
 */
const FIXTURE_SCENARIOS: Record<Revision, readonly string[]> = {
  "2026-07-28": [
    "completion-complete",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "input-required-result-basic-elicitation",
    "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots",
    "input-required-result-request-state",
    "input-required-result-multiple-input-requests",
    "input-required-result-multi-round",
    "input-required-result-non-tool-request",
    "input-required-result-result-type",
    "input-required-result-tampered-state",
    "input-required-result-capability-check",
    "tasks-lifecycle",
    "tasks-capability-negotiation",
    "tasks-wire-fields",
    "tasks-request-state-removal",
    "tasks-mrtr-input",
    "tasks-request-headers",
    "tasks-dispatch-and-envelope",
    "tasks-required-task-error",
    "tasks-mrtr-composition",
    "json-schema-2020-12",
    "http-custom-header-server-validation",
  ],
  "2025-11-25": [
    "logging-set-level",
    "completion-complete",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-with-logging",
    "tools-call-error",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "json-schema-2020-12",
  ],
};

/** Checks of otherwise applicable scenarios that need a fixture this server lacks. */
const FIXTURE_CHECKS: Record<Revision, Readonly<Record<string, readonly string[]>>> = {
  "2026-07-28": {
    // Diagnostic tools: test_missing_capability, test_streaming_elicitation, test_logging_tool.
    "server-stateless": [
      "sep-2575-server-rejects-undeclared-capability",
      "sep-2575-missing-capability-http-400",
      "sep-2575-http-server-no-independent-requests-on-stream",
      "sep-2575-server-no-log-without-loglevel",
    ],
    // The server offers no prompts or resources, so there are no such lists to cache.
    caching: [
      "sep-2549-prompts-list-caching-hints",
      "sep-2549-resources-list-caching-hints",
      "sep-2549-resources-templates-list-caching-hints",
    ],
  },
  "2025-11-25": {},
};

/** Scenarios that must pass in full (fixture checks aside) for the server to serve the revision. */
const CORE_SCENARIOS: Record<Revision, readonly string[]> = {
  "2026-07-28": [
    "server-stateless",
    "tools-list",
    "caching",
    "dns-rebinding-protection",
    "http-header-validation",
  ],
  "2025-11-25": ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"],
};

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "SKIPPED" | "INFO" | "WARNING";
  errorMessage?: string;
}

interface SuiteRun {
  code: number;
  output: string;
  /** Each scenario's checks, by scenario name. */
  scenarios: Map<string, Check[]>;
}

async function suiteEntry(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(PACKAGE_DIR, "package.json"), "utf8")) as {
    bin: { conformance: string };
  };
  return join(PACKAGE_DIR, manifest.bin.conformance);
}

/** Runs the suite against `url`: the whole requirement set of `revision`, or one scenario. */
async function runSuite(url: string, revision: Revision, scenario?: string): Promise<SuiteRun> {
  const out = await makeTempDir("todo-conformance-out-");
  try {
    const selection = scenario
      ? ["--spec-version", revision, "--scenario", scenario]
      : ["--requirements", revision];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      void suiteEntry().then((entry) =>
        execFile(
          process.execPath,
          [entry, "server", "--url", url, ...selection, "--output-dir", out.path],
          { timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
          (error, stdout, stderr) => {
            const exit = error ? (typeof error.code === "number" ? error.code : 1) : 0;
            resolve({ code: exit, output: `${stdout}\n${stderr}` });
          },
        ),
      );
    });
    const scenarios = new Map<string, Check[]>();
    for (const dir of await readdir(out.path)) {
      // server-<scenario>-<ISO timestamp with dashes>
      const name = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir)?.[1];
      if (!name) continue;
      const checks = JSON.parse(await readFile(join(out.path, dir, "checks.json"), "utf8"));
      scenarios.set(name, checks as Check[]);
    }
    return { code, output, scenarios };
  } finally {
    await out.remove();
  }
}

/** Failing checks no fixture explains, as `scenario: check: message`. */
function unexplainedFailures(run: SuiteRun, revision: Revision): string[] {
  const failures: string[] = [];
  for (const [scenario, checks] of run.scenarios) {
    const fixtureScenario = FIXTURE_SCENARIOS[revision].includes(scenario);
    const fixtureChecks = FIXTURE_CHECKS[revision][scenario] ?? [];
    for (const check of checks) {
      if (check.status !== "FAILURE") continue;
      // What the server sends must match the revision's schema even where a fixture is missing.
      const explained =
        (fixtureScenario && check.id !== "wire-schema-valid") || fixtureChecks.includes(check.id);
      if (!explained) failures.push(`${scenario}: ${check.id}: ${check.errorMessage ?? ""}`);
    }
  }
  return failures;
}

describe("the official MCP conformance suite against the server on loopback", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let backend: RunningBackend;
  let mcp: RunningMcp;
  let unguarded: RunningMcp;

  beforeAll(async () => {
    if (Number(process.versions.node.split(".")[0]) < 22) {
      throw new Error(
        `The MCP conformance suite needs Node >= 22, not ${process.version}: ` +
          "run the tests on Node 24 (npm test brings it).",
      );
    }
    dir = await makeTempDir("todo-conformance-");
    backend = await startBackend(dir.path);
    mcp = await startMcp(backend.url);
    // Allowing the suite's attacker hostname must make the rebinding scenario fail.
    unguarded = await startMcp(backend.url, {
      allowedHosts: ["localhost", "127.0.0.1", "evil.example.com"],
    });
  });
  afterAll(async () => {
    await mcp.close();
    await unguarded.close();
    await backend.close();
    await dir.remove();
  });

  it.each(REVISIONS)(
    "passes every check of the %s requirement set that needs no fixture the todo server lacks",
    {
      timeout: 90_000,
    },
    async (revision) => {
      // 127.0.0.1 rather than localhost: the suite's Node may resolve localhost to ::1 first.
      const run = await runSuite(`http://127.0.0.1:${mcp.port}/mcp`, revision);
      const required = [...FIXTURE_SCENARIOS[revision], ...CORE_SCENARIOS[revision]];
      for (const scenario of required) expect(run.scenarios.has(scenario), scenario).toBe(true);
      expect(unexplainedFailures(run, revision), run.output).toEqual([]);
      for (const scenario of CORE_SCENARIOS[revision]) {
        const checks = run.scenarios.get(scenario) ?? [];
        expect(
          checks.filter((check) => check.status === "SUCCESS").length,
          scenario,
        ).toBeGreaterThan(0);
      }
    },
  );

  it.each(REVISIONS)(
    "fails dns-rebinding-protection at %s once the attacker's host is allowed",
    {
      timeout: 90_000,
    },
    async (revision) => {
      const url = `http://127.0.0.1:${unguarded.port}/mcp`;
      const run = await runSuite(url, revision, "dns-rebinding-protection");
      expect(run.output).toMatch(/localhost-host-rebinding-rejected.*FAILURE/);
      expect(run.code).not.toBe(0);
    },
  );
});
