import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { describeLeaks } from "./leak-check.js";
import { findProcesses, findTestProcesses } from "./leaks.js";
import { listeningPort, REPO_ROOT, spawnTsx, TEST_RUN_VAR } from "./processes.js";
import { freePort, makeTempDir, TOKEN } from "./servers.js";

const VITEST = `${REPO_ROOT}/node_modules/vitest/vitest.mjs`;
const FIXTURE_CONFIG = "test/app/support/fixtures/leak-check.vitest.config.ts";

/** Live processes whose environment says they work on `dataDir`. */
function usingDataDir(dataDir: string) {
  return findProcesses(async (_pgid, environ) => (await environ()).includes(`DATA_DIR=${dataDir}`));
}

/** Runs one fixture file as a test run of its own, under the leak check. */
function runFixture(name: string, dataDir: string): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LEAK_FIXTURE_DATA_DIR: dataDir, NO_COLOR: "1" };
  // The inner run owns its own check.
  delete env[TEST_RUN_VAR];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VITEST, "run", "--config", FIXTURE_CONFIG, name],
      { cwd: REPO_ROOT, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe("stopping what a test started", () => {
  it("ends the app's own Node process too, not only the tsx process in front of it", async () => {
    const dir = await makeTempDir("todo-leak-");
    const backend = spawnTsx("app/backend/main.ts", [], {
      SERVICE_AUTH_TOKEN: TOKEN,
      DATA_DIR: dir.path,
      HOST: "127.0.0.1",
      PORT: "0",
    });
    try {
      await listeningPort(backend);
      const running = await findTestProcesses(backend.mark);
      // tsx, and the Node process it runs the backend in.
      expect(running.filter((p) => p.command.includes("app/backend/main.ts")).length).toBe(2);
      expect(running.every((p) => p.pgid === backend.child.pid)).toBe(true);

      await backend.stop("SIGKILL");
      expect(await findTestProcesses(backend.mark)).toEqual([]);
      expect(await usingDataDir(dir.path)).toEqual([]);
    } finally {
      await backend.stop("SIGKILL");
      await dir.remove();
    }
  });

  it("ends the dev runner's servers, which run in process groups of their own, when the runner is killed", async () => {
    const dir = await makeTempDir("todo-leak-dev-");
    const [backendPort, mcpPort] = [await freePort(), await freePort()];
    const dev = spawnTsx(
      "app/dev.ts",
      [],
      {
        DATA_DIR: dir.path,
        BACKEND_BASE_URL: `http://127.0.0.1:${backendPort}`,
        MCP_SERVER_PORT: String(mcpPort),
      },
      dir.path,
    );
    try {
      await dev.waitForLog((line) => line.name === "todo-mcp" && line.port === mcpPort);
      await dev.waitForLog((line) => line.name === "todo-backend" && line.port === backendPort);
      const servers = (await findTestProcesses(dev.mark)).filter((p) => p.pgid !== dev.child.pid);
      expect(servers.length).toBeGreaterThan(0);

      // A SIGKILL gives the runner no chance to stop its servers itself.
      await dev.stop("SIGKILL");
      expect(await findTestProcesses(dev.mark)).toEqual([]);
    } finally {
      await dev.stop("SIGKILL");
      await dir.remove();
    }
  });
});

describe("the leak check at the end of a test run", () => {
  it("fails the run, naming the process, when a test leaves an app process running, and kills it", {
    timeout: 90_000,
  }, async () => {
    const dir = await makeTempDir("todo-leak-fixture-");
    try {
      const { code, output } = await runFixture("leaky", dir.path);
      expect(code, output).toBe(1);
      expect(output).toMatch(
        /FAIL {2}\d+ process(es)? started by the tests (was|were) still running/,
      );
      expect(output).toContain("app/backend/main.ts");
      expect(output).toMatch(/1 passed/);
      expect(await usingDataDir(dir.path)).toEqual([]);
    } finally {
      await dir.remove();
    }
  });

  it("passes the run when every process a test started was stopped", {
    timeout: 90_000,
  }, async () => {
    const dir = await makeTempDir("todo-leak-fixture-");
    try {
      const { code, output } = await runFixture("tidy", dir.path);
      expect(code, output).toBe(0);
      expect(output).not.toContain("still running");
    } finally {
      await dir.remove();
    }
  });

  it("says which processes were left, and that they were killed", () => {
    expect(describeLeaks([{ pid: 41, pgid: 40, command: "node /repo/app/mcp/main.ts" }])).toBe(
      [
        "FAIL  1 process started by the tests was still running when the run ended (now killed):",
        "  pid 41 (group 40): node /repo/app/mcp/main.ts",
        "Stop every process a test starts (Spawned.stop) in its finally or afterAll.",
      ].join("\n"),
    );
  });
});
