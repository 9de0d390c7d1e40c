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
import {
  BASE_SCENARIOS,
  type ConformanceCheck,
  defaultScenarios,
  installedSuite,
  runConformance,
} from "../../../src/ci/mcp/conformance.js";
import { inspectMcpServer } from "../../../src/ci/mcp/server-info.js";

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

function run(url: string, expectedFailuresFile?: string): Promise<ConformanceCheck> {
  return runConformance({
    url,
    scenarios: [...BASE_SCENARIOS],
    expectedFailuresFile,
    suiteCommand: installedSuite().command,
    env: { ...process.env, npm_config_update_notifier: "false" },
    cwd: REPO_ROOT,
  });
}

function statuses(check: ConformanceCheck): Record<string, string> {
  return Object.fromEntries(check.scenarios.map((result) => [result.scenario, result.status]));
}

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
  it("chooses the four base scenarios for our server, which does not declare logging", async () => {
    const { capabilities } = await inspectMcpServer(new URL(guardedUrl));
    expect(capabilities.logging).toBeUndefined();
    expect(defaultScenarios(capabilities)).toEqual([...BASE_SCENARIOS]);
  });

  it("passes every default scenario, each with all its checks passing", async () => {
    const started = performance.now();
    const check = await run(guardedUrl);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.info(
      `default scenarios took ${seconds} s`,
      check.scenarios.map((r) => `${r.scenario} ${r.durationMs} ms`),
    );

    expect(check.status, check.details.join("\n")).toBe("passed");
    expect(statuses(check)).toEqual({
      "server-initialize": "passed",
      ping: "passed",
      "tools-list": "passed",
      "dns-rebinding-protection": "passed",
    });
    for (const result of check.scenarios) {
      expect(result.checks.length, result.scenario).toBeGreaterThan(0);
      expect(
        result.checks.every((c) => c.status === "SUCCESS"),
        result.scenario,
      ).toBe(true);
    }
    expect(check.summary).toBe("MCP conformance: 4/4 scenarios passed");
  });

  it("fails dns-rebinding-protection when the server accepts the attacker's Host, naming the check", async () => {
    const check = await run(unguardedUrl);

    expect(check.status).toBe("failed");
    expect(statuses(check)).toEqual({
      "server-initialize": "passed",
      ping: "passed",
      "tools-list": "passed",
      "dns-rebinding-protection": "failed",
    });
    expect(check.summary).toContain("1 failed (dns-rebinding-protection) of 4 scenarios");
    const failing = check.scenarios.find((r) => r.scenario === "dns-rebinding-protection");
    expect(failing?.notes.join("\n")).toMatch(
      /localhost-host-rebinding-rejected: FAILURE: Expected HTTP 4xx .*got 200/,
    );
  });

  it("passes the same run when the expected-failures file lists that scenario, reporting it as an expected failure", async () => {
    const baseline = join(dir.path, "conformance-baseline.yml");
    await writeFile(baseline, "server:\n  - dns-rebinding-protection\n");

    const check = await run(unguardedUrl, baseline);

    expect(check.status, check.details.join("\n")).toBe("passed");
    expect(statuses(check)).toMatchObject({ "dns-rebinding-protection": "expected-failure" });
    expect(check.summary).toBe(
      "MCP conformance: 3/4 scenarios passed, 1 expected failure (dns-rebinding-protection)",
    );
    expect(check.details.join("\n")).toContain("~ dns-rebinding-protection: expected failure");
  });

  it("fails when the expected-failures file lists a scenario that now passes", async () => {
    const baseline = join(dir.path, "stale-baseline.yml");
    await writeFile(baseline, "server:\n  - dns-rebinding-protection\n");

    const check = await run(guardedUrl, baseline);

    expect(check.status).toBe("failed");
    expect(statuses(check)).toMatchObject({ "dns-rebinding-protection": "unexpectedly-passed" });
    expect(check.details.join("\n")).toMatch(/passes now, .* remove it from there/);
  });
});
