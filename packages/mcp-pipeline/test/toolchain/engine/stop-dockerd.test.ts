import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ToolchainError, ToolchainErrorCode } from "../../../src/host/errors.js";
import { stopDockerd } from "../../../src/toolchain/engine/daemon.js";

// stopDockerd against real processes standing in for dockerd: the pid file names them, and the
// "binary" is what /proc/<pid>/exe says they run.
const dir = mkdtempSync(join(tmpdir(), "stop-dockerd-test-"));
const pidFile = join(dir, "docker.pid");
const sh = realpathSync("/bin/sh");
let child: ChildProcess | undefined;

function start(script: string): number {
  child = spawn("/bin/sh", ["-c", script], { stdio: "ignore" });
  if (child.pid === undefined) throw new Error("sh did not start");
  writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
}

afterEach(() => {
  child?.kill("SIGKILL");
  child = undefined;
  rmSync(pidFile, { force: true });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stopDockerd", () => {
  it("stops the process the pid file names when it runs the binary, and waits for it", async () => {
    start("sleep 30");
    await new Promise((r) => setTimeout(r, 100));
    expect(await stopDockerd(sh, 5_000, pidFile)).toBe(true);
  });

  it("leaves a process running another binary alone", async () => {
    const pid = start("sleep 30");
    await new Promise((r) => setTimeout(r, 100));
    expect(await stopDockerd("/usr/sbin/dockerd", 5_000, pidFile)).toBe(false);
    expect(() => process.kill(pid, 0)).not.toThrow();
  });

  it("says nothing ran when the pid file is missing", async () => {
    expect(await stopDockerd(sh, 5_000, join(dir, "absent.pid"))).toBe(false);
  });

  it("stops setup, naming the pid and how to go on, when the process ignores SIGTERM", async () => {
    const pid = start("trap '' TERM; while :; do sleep 1; done");
    await new Promise((r) => setTimeout(r, 100));
    const error = await stopDockerd(sh, 600, pidFile).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).code).toBe(ToolchainErrorCode.NotReady);
    expect((error as ToolchainError).message).toBe(
      `${sh} (pid ${pid}) did not stop within 0.6 s of SIGTERM.`,
    );
    expect((error as ToolchainError).hint).toContain(`kill -9 ${pid}`);
  });
});
