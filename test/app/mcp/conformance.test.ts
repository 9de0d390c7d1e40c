import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/processes.js";
import {
  makeTempDir,
  type RunningBackend,
  type RunningMcp,
  startBackend,
  startMcp,
} from "../support/servers.js";

// The official MCP conformance suite, pinned as a devDependency and run from node_modules
// on the Node running the tests (it needs Node >= 22), so the test needs no network.
const PACKAGE_DIR = join(REPO_ROOT, "node_modules/@modelcontextprotocol/conformance");
const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as {
  version: string;
  bin: { conformance: string };
};
const SUITE = join(PACKAGE_DIR, manifest.bin.conformance);
const SCENARIOS = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"];

function runScenario(url: string, scenario: string) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [SUITE, "server", "--url", url, "--scenario", scenario],
      { timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe("MCP conformance suite", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let backend: RunningBackend;
  let mcp: RunningMcp;
  let unguarded: RunningMcp;

  beforeAll(async () => {
    if (Number(process.versions.node.split(".")[0]) < 22) {
      throw new Error(
        `The MCP conformance suite ${manifest.version} needs Node >= 22, not ${process.version}: ` +
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

  it("passes server-initialize, ping, tools-list and dns-rebinding-protection (and the last fails once the attacker host is allowed)", {
    timeout: 90_000,
  }, async () => {
    // 127.0.0.1 rather than localhost: the suite's Node may resolve localhost to ::1 first.
    const url = `http://127.0.0.1:${mcp.port}/mcp`;
    const [control, ...results] = await Promise.all([
      runScenario(`http://127.0.0.1:${unguarded.port}/mcp`, "dns-rebinding-protection"),
      ...SCENARIOS.map((scenario) => runScenario(url, scenario)),
    ]);
    results.forEach(({ code, output }, i) => {
      const scenario = SCENARIOS[i];
      expect(output, scenario).toMatch(/Passed: (\d+)\/\1, 0 failed/);
      expect(output, scenario).not.toMatch(/FAILURE/);
      expect(code, `${scenario}\n${output}`).toBe(0);
    });
    expect(control?.output).toMatch(/localhost-host-rebinding-rejected.*FAILURE/);
    expect(control?.code).not.toBe(0);
  });
});
