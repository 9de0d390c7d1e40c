import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listeningPort,
  REPO_ROOT,
  type Spawned,
  spawnTsx,
} from "../../../../../test/app/support/processes.js";
import { makeTempDir, TOKEN } from "../../../../../test/app/support/servers.js";
import { MCP_REVISIONS } from "../../../src/ci/config/schema.js";
import {
  type ConformanceCheck,
  installedSuite,
  readRequirementSets,
  runConformance,
} from "../../../src/ci/mcp/conformance.js";
import {
  type ConformanceLeg,
  DEFAULT_SCENARIOS,
  planConformance,
  readExpectedFailures,
} from "../../../src/ci/mcp/conformance-plan.js";
import { inspectEveryRevision } from "../../../src/ci/mcp/server-info.js";

// The suite's dns-rebinding scenario sends `Host: evil.example.com`; allowing that host through
// the server's own setting is the configuration mistake the scenario exists to catch.
const ATTACKER_HOST = "evil.example.com";

const spawned: Spawned[] = [];
let dir: { path: string; remove: () => Promise<void> };
let guardedUrl: string;
let unguardedUrl: string;

async function start(script: string, env: Record<string, string>): Promise<number> {
  const proc = spawnTsx(script, [], env);
  spawned.push(proc);
  return listeningPort(proc);
}

/** The default plan for the server at `url`, at both revisions, as the gate makes it. */
async function plan(url: string): Promise<ConformanceLeg[]> {
  const probes = await inspectEveryRevision(new URL(url), MCP_REVISIONS);
  return planConformance({
    servers: probes.flatMap((probe) => (probe.ok ? [probe.info] : [])),
    claimed: MCP_REVISIONS,
    configured: undefined,
    requirements: await readRequirementSets(installedSuite().root),
  });
}

async function run(url: string, expectedFailuresFile?: string): Promise<ConformanceCheck> {
  return runConformance({
    url,
    legs: await plan(url),
    baseline: expectedFailuresFile ? await readExpectedFailures(expectedFailuresFile) : undefined,
    baselineName: expectedFailuresFile,
    suiteCommand: installedSuite().command,
    env: { ...process.env, npm_config_update_notifier: "false" },
    cwd: REPO_ROOT,
  });
}

/** `scenario@revision` → status, for the runs whose status is not `passed` (or all of them). */
function statuses(check: ConformanceCheck, all = false): Record<string, string> {
  return Object.fromEntries(
    check.scenarios
      .filter((result) => all || result.status !== "passed")
      .map((result) => [`${result.scenario}@${result.revision}`, result.status]),
  );
}

const RUNS = MCP_REVISIONS.flatMap((revision) =>
  DEFAULT_SCENARIOS[revision].map((scenario) => `${scenario}@${revision}`),
);

beforeAll(async () => {
  dir = await makeTempDir("mcp-conformance-e2e-");
  const backendPort = await start("app/backend/main.ts", {
    SERVICE_AUTH_TOKEN: TOKEN,
    DATA_DIR: dir.path,
    HOST: "127.0.0.1",
    PORT: "0",
  });
  const mcpEnv = {
    SERVICE_AUTH_TOKEN: TOKEN,
    BACKEND_BASE_URL: `http://127.0.0.1:${backendPort}`,
    MCP_HOST: "127.0.0.1",
    PORT: "0",
  };
  const [guarded, unguarded] = await Promise.all([
    start("app/mcp/main.ts", mcpEnv),
    start("app/mcp/main.ts", {
      ...mcpEnv,
      MCP_ALLOWED_HOSTS: `localhost,127.0.0.1,${ATTACKER_HOST}`,
    }),
  ]);
  // 127.0.0.1 rather than localhost: the suite's Node may resolve localhost to ::1 first.
  guardedUrl = `http://127.0.0.1:${guarded}/mcp`;
  unguardedUrl = `http://127.0.0.1:${unguarded}/mcp`;
});

afterAll(async () => {
  await Promise.all(spawned.map((proc) => proc.stop("SIGTERM")));
  await dir?.remove();
});

describe("runConformance against our MCP server and backend as host processes", () => {
  it("plans each revision's default scenarios for our server, which declares neither logging nor prompts", async () => {
    const legs = await plan(guardedUrl);
    expect(legs.map((leg) => [leg.revision, leg.scenarios])).toEqual(
      MCP_REVISIONS.map((revision) => [revision, [...DEFAULT_SCENARIOS[revision]]]),
    );
  });

  it("passes every default scenario at both revisions, setting aside only the fixture checks", async () => {
    const started = performance.now();
    const check = await run(guardedUrl);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.info(
      `default scenarios took ${seconds} s`,
      check.scenarios.map((r) => `${r.scenario}@${r.revision} ${r.durationMs} ms`),
    );

    expect(check.status, check.details.join("\n")).toBe("passed");
    expect(Object.keys(statuses(check, true))).toEqual(RUNS);
    expect(statuses(check)).toEqual({});
    const setAside = Object.fromEntries(
      check.scenarios
        .filter((r) => r.notApplicable.length > 0)
        .map((r) => [`${r.scenario}@${r.revision}`, r.notApplicable.length]),
    );
    expect(setAside).toEqual({ "server-stateless@2026-07-28": 4, "caching@2026-07-28": 3 });
    for (const result of check.scenarios) {
      expect(result.checks.length, result.scenario).toBeGreaterThan(0);
      expect(
        result.checks.some((c) => c.status === "FAILURE" && !result.notApplicable.includes(c.id)),
        `${result.scenario}@${result.revision}`,
      ).toBe(false);
    }
    expect(check.summary).toBe(
      `MCP conformance: ${RUNS.length}/${RUNS.length} scenario runs passed at 2026-07-28, 2025-11-25`,
    );
  });

  it("fails dns-rebinding-protection at both revisions when the server accepts the attacker's Host, naming the check", async () => {
    const check = await run(unguardedUrl);

    expect(check.status).toBe("failed");
    expect(statuses(check)).toEqual({
      "dns-rebinding-protection@2026-07-28": "failed",
      "dns-rebinding-protection@2025-11-25": "failed",
    });
    expect(check.summary).toContain(
      `2 failed (dns-rebinding-protection@2026-07-28, dns-rebinding-protection@2025-11-25) of ${RUNS.length} scenario runs`,
    );
    const failing = check.scenarios.find((r) => r.scenario === "dns-rebinding-protection");
    expect(failing?.notes.join("\n")).toMatch(
      /localhost-host-rebinding-rejected: FAILURE: Expected HTTP 4xx .*got 200/,
    );
  });

  it("passes the same run when the expected-failures file lists that scenario, reporting it as an expected failure at each revision", async () => {
    const baseline = join(dir.path, "conformance-baseline.yml");
    await writeFile(baseline, "server:\n  - dns-rebinding-protection\n");

    const check = await run(unguardedUrl, baseline);

    expect(check.status, check.details.join("\n")).toBe("passed");
    expect(statuses(check)).toEqual({
      "dns-rebinding-protection@2026-07-28": "expected-failure",
      "dns-rebinding-protection@2025-11-25": "expected-failure",
    });
    expect(check.summary).toBe(
      `MCP conformance: ${RUNS.length - 2}/${RUNS.length} scenario runs passed at 2026-07-28, 2025-11-25, 2 expected failures (dns-rebinding-protection@2026-07-28, dns-rebinding-protection@2025-11-25)`,
    );
    expect(check.details.join("\n")).toContain(
      "~ dns-rebinding-protection@2026-07-28: expected failure",
    );
  });

  it("fails when the expected-failures file lists, for one revision, a scenario that passes there", async () => {
    const baseline = join(dir.path, "stale-baseline.yml");
    await writeFile(baseline, '"2025-11-25":\n  server: [dns-rebinding-protection]\n');

    const check = await run(guardedUrl, baseline);

    expect(check.status).toBe("failed");
    expect(statuses(check)).toEqual({
      "dns-rebinding-protection@2025-11-25": "unexpectedly-passed",
    });
    expect(check.details.join("\n")).toMatch(/passes now, .* remove it from there/);
  });
});
