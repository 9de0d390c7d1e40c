import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../../../test/app/support/processes.js";
import {
  BASE_SCENARIOS,
  classifyScenario,
  declaresLogging,
  defaultScenarios,
  installedSuite,
  LOGGING_SCENARIO,
  parseExpectedFailures,
  renderConformanceMarkdown,
  runConformance,
  type SuiteCheck,
} from "../../../src/ci/mcp/conformance.js";
import { McpGateError } from "../../../src/ci/mcp/errors.js";
import { readLiveServer } from "./live-server.js";

async function capabilitiesOf(server: McpServer) {
  const client = new Client({ name: "capabilities-test", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  const capabilities = client.getServerCapabilities();
  await client.close();
  return capabilities;
}

const success = (id: string): SuiteCheck => ({ id, status: "SUCCESS", description: id });
const failure = (id: string, errorMessage: string): SuiteCheck => ({
  id,
  status: "FAILURE",
  errorMessage,
});
const run = { scenario: "dns-rebinding-protection", output: "", durationMs: 1200 };

describe("default scenarios", () => {
  it("adds logging-set-level only for a server whose initialize result declares logging", async () => {
    const ours = (await readLiveServer()).capabilities;
    const logging = await capabilitiesOf(
      new McpServer({ name: "logs", version: "1.0.0" }, { capabilities: { logging: {} } }),
    );
    expect(declaresLogging(ours)).toBe(false);
    expect(defaultScenarios(ours)).toEqual([...BASE_SCENARIOS]);
    expect(declaresLogging(logging)).toBe(true);
    expect(defaultScenarios(logging)).toEqual([...BASE_SCENARIOS, LOGGING_SCENARIO]);
  });

  it("runs the suite the lockfile pins, from node_modules, on this Node", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const suite = installedSuite();
    expect(suite.version).toBe(pkg.devDependencies["@modelcontextprotocol/conformance"]);
    expect(suite.command[0]).toBe(process.execPath);
    expect(suite.command[1]).toMatch(/node_modules\/@modelcontextprotocol\/conformance\//);
  });
});

describe("parseExpectedFailures", () => {
  it("reads the server list of the suite's YAML baseline and ignores the client list", () => {
    const text = "server:\n  - dns-rebinding-protection\n  - ping\nclient:\n  - sse-retry\n";
    expect(parseExpectedFailures(text, "b.yml")).toEqual(["dns-rebinding-protection", "ping"]);
  });

  it("reads an empty file or one with only client entries as no expected failures", () => {
    expect(parseExpectedFailures("", "b.yml")).toEqual([]);
    expect(parseExpectedFailures("client: [x]\n", "b.yml")).toEqual([]);
  });

  it("refuses a plain list and a server entry that is not a list, naming the file", () => {
    expect(() => parseExpectedFailures("- ping\n", "b.yml")).toThrow(/b\.yml: expected a mapping/);
    expect(() => parseExpectedFailures("server: ping\n", "b.yml")).toThrow(
      /b\.yml: server must be a list/,
    );
    expect(() => parseExpectedFailures("server: [\n", "b.yml")).toThrow(McpGateError);
  });
});

describe("classifyScenario", () => {
  it("passes a scenario whose checks all succeed and whose suite exited 0", () => {
    const result = classifyScenario({
      ...run,
      expectedToFail: false,
      checks: [success("a"), success("b")],
      exitCode: 0,
    });
    expect(result).toMatchObject({ status: "passed", notes: ["2/2 checks passed"] });
  });

  it("fails a scenario with a failing check and names the check and its error", () => {
    const result = classifyScenario({
      ...run,
      expectedToFail: false,
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
      expectedToFail: true,
      checks: [failure("x", "no")],
      exitCode: 0,
    });
    const stale = classifyScenario({
      ...run,
      expectedToFail: true,
      checks: [success("x")],
      exitCode: 1,
    });
    expect(expected.status).toBe("expected-failure");
    expect(stale.status).toBe("unexpectedly-passed");
  });

  it("fails when the exit code contradicts the checks, since the reading cannot be trusted", () => {
    const result = classifyScenario({
      ...run,
      expectedToFail: false,
      checks: [success("x")],
      exitCode: 1,
      output: "\u001b[31mSomething odd\u001b[0m",
    });
    expect(result.status).toBe("failed");
    expect(result.notes).toContain("  | Something odd");
  });

  it("fails a scenario that timed out or produced no checks, with the suite's output", () => {
    expect(
      classifyScenario({
        ...run,
        expectedToFail: false,
        checks: undefined,
        exitCode: 1,
        output: "Unknown scenario",
      }).notes,
    ).toEqual(["the suite reported no checks (exit 1)", "  | Unknown scenario"]);
    expect(
      classifyScenario({
        ...run,
        expectedToFail: true,
        checks: undefined,
        exitCode: undefined,
        timedOut: true,
      }).status,
    ).toBe("failed");
  });
});

describe("runConformance without the real suite", () => {
  const options = {
    url: "http://127.0.0.1:9/mcp",
    env: { PATH: process.env.PATH },
    cwd: REPO_ROOT,
  };

  it("skips when no scenario is configured", async () => {
    const check = await runConformance({
      ...options,
      scenarios: [],
      suiteCommand: installedSuite().command,
    });
    expect(check).toMatchObject({ status: "skipped", scenarios: [] });
  });

  it("fails every scenario when the suite exits without results, keeping its output", async () => {
    // Stands in for a suite that refuses to run (a wrong Node, say): it prints and exits 1.
    const suite = ["node", "-e", "console.error('needs Node >= 22'); process.exit(1)", "--"];
    const check = await runConformance({
      ...options,
      scenarios: ["ping", "tools-list"],
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
      scenarios: ["ping"],
      suiteCommand: ["/nonexistent/conformance"],
    });
    await expect(attempt).rejects.toMatchObject({
      code: "SUITE_FAILED_TO_RUN",
      message: expect.stringContaining("could not start (/nonexistent/conformance)"),
      cause: expect.anything(),
    });
  });

  it("refuses a missing expected-failures file before running anything", async () => {
    const attempt = runConformance({
      ...options,
      scenarios: ["ping"],
      suiteCommand: ["/nonexistent/conformance"],
      expectedFailuresFile: "no-such-baseline.yml",
    });
    await expect(attempt).rejects.toMatchObject({ code: "EXPECTED_FAILURES_INVALID" });
  });
});

describe("the gate's verdict, with a stand-in suite that behaves as the real one", () => {
  // Writes `<output-dir>/server-<scenario>-<time>/checks.json` as the suite does, passing the
  // scenarios named in FAKE_PASSING, and exits the way the suite's baseline logic makes it.
  const suiteScript = [
    "const fs = require('node:fs'), path = require('node:path');",
    "const arg = (name) => { const i = process.argv.indexOf(name); return i < 0 ? undefined : process.argv[i + 1]; };",
    "const scenario = arg('--scenario'), baseline = arg('--expected-failures');",
    "const passes = process.env.FAKE_PASSING.split(',').includes(scenario);",
    "const dir = path.join(arg('--output-dir'), 'server-' + scenario + '-' + Date.now());",
    "fs.mkdirSync(dir, { recursive: true });",
    "fs.writeFileSync(path.join(dir, 'checks.json'), JSON.stringify([{ id: scenario + '-check', status: passes ? 'SUCCESS' : 'FAILURE', errorMessage: passes ? undefined : 'no' }]));",
    "const listed = baseline !== undefined && fs.readFileSync(baseline, 'utf8').includes('- ' + scenario);",
    "process.exit(listed ? (passes ? 1 : 0) : (passes ? 0 : 1));",
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "conformance-verdict-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const baseline = (scenarios: string[]) => {
    const file = join(dir, `baseline-${scenarios.join("-") || "empty"}.yml`);
    writeFileSync(file, `server:\n${scenarios.map((s) => `  - ${s}\n`).join("")}`);
    return file;
  };
  const verdict = (passing: string[], expectedFailures?: string[]) =>
    runConformance({
      url: "http://127.0.0.1:9/mcp",
      cwd: dir,
      env: { PATH: process.env.PATH, FAKE_PASSING: passing.join(",") },
      scenarios: ["ping", "tools-list"],
      suiteCommand: [process.execPath, "-e", suiteScript, "--"],
      ...(expectedFailures ? { expectedFailuresFile: baseline(expectedFailures) } : {}),
    });

  it("passes when every scenario passes", async () => {
    const check = await verdict(["ping", "tools-list"]);
    expect(check.status).toBe("passed");
    expect(check.summary).toBe("MCP conformance: 2/2 scenarios passed");
  });

  it("fails on a scenario that fails outside the baseline", async () => {
    const check = await verdict(["ping"]);
    expect(check.status).toBe("failed");
    expect(check.summary).toBe("MCP conformance: 1 failed (tools-list) of 2 scenarios");
  });

  it("passes a failure the baseline expects", async () => {
    const check = await verdict(["ping"], ["tools-list"]);
    expect(check.status).toBe("passed");
    expect(check.summary).toContain("1 expected failure (tools-list)");
  });

  it("fails when a scenario the baseline says fails now passes, until the entry is removed", async () => {
    const stale = await verdict(["ping", "tools-list"], ["tools-list"]);
    expect(stale.status).toBe("failed");
    expect(stale.summary).toBe(
      "MCP conformance: 1 stale in the baseline (tools-list) of 2 scenarios",
    );
    expect(stale.details).toContain(
      `! tools-list: passes now, but ${join(dir, "baseline-tools-list.yml")} says it fails: remove it from there`,
    );
    // Control: the same results with the entry removed pass.
    expect((await verdict(["ping", "tools-list"], [])).status).toBe("passed");
  });
});

describe("renderConformanceMarkdown", () => {
  it("renders one row per scenario with its result, first notes and time", () => {
    const markdown = renderConformanceMarkdown([
      {
        scenario: "ping",
        status: "passed",
        checks: [],
        notes: ["1/1 checks passed"],
        durationMs: 3400,
      },
      {
        scenario: "dns-rebinding-protection",
        status: "expected-failure",
        checks: [],
        notes: ["1/2 checks passed", "x: FAILURE: a | b"],
        durationMs: 4870,
      },
    ]);
    expect(markdown).toBe(
      [
        "| scenario | result | notes | time |",
        "| --- | --- | --- | --- |",
        "| `ping` | passed | 1/1 checks passed | 3.4 s |",
        "| `dns-rebinding-protection` | expected-failure | 1/2 checks passed; x: FAILURE: a \\| b | 4.9 s |",
        "",
      ].join("\n"),
    );
  });
});
