import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  emulationStatus,
  parseBinfmtHandler,
  probeExecutable,
  probeRuns,
} from "../../src/host/emulation.js";
import { ToolchainError, ToolchainErrorCode } from "../../src/host/errors.js";
import { foreignArches, hostArch } from "../../src/host/platforms.js";
import type { StepContext } from "../../src/toolchain/context.js";
import { loadSettings, toolchainPaths } from "../../src/toolchain/settings.js";
import { type EmulationHost, emulationStep } from "../../src/toolchain/steps/emulation.js";

const scratch = mkdtempSync(join(tmpdir(), "emulation-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const host = hostArch();
const foreign = foreignArches(host)[0] ?? "arm64";
const handler = `qemu-${foreign === "arm64" ? "aarch64" : "x86_64"}`;

/** A directory laid out like a mounted binfmt_misc; the real one is never touched here. */
function fakeBinfmt(
  name: string,
  files: { status?: string; handler?: string } = { status: "enabled" },
): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  if (files.status !== undefined) writeFileSync(join(dir, "status"), `${files.status}\n`);
  if (files.handler !== undefined) writeFileSync(join(dir, handler), files.handler);
  return dir;
}

const REGISTERED = (flags: string, state = "enabled") =>
  `${state}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\nmagic 7f454c46\n`;

function context(): StepContext {
  return {
    mode: "airgap",
    paths: { ...toolchainPaths(), root: scratch },
    settings: loadSettings({}),
    needs: { authRegistry: false },
    env: process.env,
    logFile: join(scratch, "emulation.log"),
    note: () => undefined,
    warn: () => undefined,
  };
}

function machine(overrides: Partial<EmulationHost>): EmulationHost {
  return {
    host,
    binfmtDir: fakeBinfmt(`machine-${Math.random().toString(36).slice(2)}`),
    confDir: join(scratch, "no-conf"),
    privilege: "root",
    hasApt: false,
    ...overrides,
  };
}

async function stepError(m: EmulationHost): Promise<ToolchainError> {
  const err = await emulationStep(m)
    .run(context())
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ToolchainError);
  return err as ToolchainError;
}

describe("the probe executable", () => {
  it("runs natively and prints the host's architecture, so it is a real program", async () => {
    const file = join(scratch, `probe-${host}`);
    writeFileSync(file, probeExecutable(host));
    chmodSync(file, 0o755);
    expect(await probeRuns(file, host)).toEqual({ ok: true });
  });

  it("is a 64-bit little-endian ELF for the architecture it is asked for", () => {
    for (const [arch, machineCode] of [
      ["amd64", 62],
      ["arm64", 183],
    ] as const) {
      const elf = probeExecutable(arch);
      expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
      expect(elf.readUInt16LE(18)).toBe(machineCode);
      expect(elf.subarray(-6).toString()).toBe(`${arch}\n`);
    }
  });

  it("reports a binary the kernel cannot execute, with the reason", async () => {
    const file = join(scratch, "not-elf");
    writeFileSync(file, Buffer.from("\x7fELF garbage", "latin1"));
    chmodSync(file, 0o755);
    const status = await probeRuns(file, host);
    expect(status.ok).toBe(false);
    expect(status.ok || status.reason).toMatch(/did not run/);
  });

  it("reports a program that prints something else than expected", async () => {
    const file = join(scratch, `probe-${host}-wrong`);
    writeFileSync(file, probeExecutable(host));
    chmodSync(file, 0o755);
    const status = await probeRuns(file, "s390x");
    expect(status.ok || status.reason).toMatch(/printed "\w+", not s390x/);
  });
});

describe("binfmt_misc handlers", () => {
  it("reads whether a handler is enabled, its interpreter and its flags", () => {
    expect(parseBinfmtHandler(REGISTERED("POF"))).toEqual({
      enabled: true,
      interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
      flags: "POF",
    });
    expect(parseBinfmtHandler(REGISTERED("", "disabled")).enabled).toBe(false);
  });

  it("says binfmt_misc is not mounted when its status file is missing", async () => {
    const dir = fakeBinfmt("unmounted", {});
    expect(await emulationStatus(foreign, dir)).toEqual({
      ok: false,
      reason: `binfmt_misc is not mounted at ${dir}`,
    });
  });

  it("says binfmt_misc is disabled when its status says so", async () => {
    const status = await emulationStatus(foreign, fakeBinfmt("off", { status: "disabled" }));
    expect(status.ok || status.reason).toMatch(/^binfmt_misc is disabled/);
  });

  it("says which handler is missing", async () => {
    const status = await emulationStatus(foreign, fakeBinfmt("none"));
    expect(status.ok || status.reason).toMatch(new RegExp(`^no ${handler} handler is registered`));
  });

  it("refuses a disabled handler", async () => {
    const dir = fakeBinfmt("handler-off", {
      status: "enabled",
      handler: REGISTERED("POF", "disabled"),
    });
    expect(await emulationStatus(foreign, dir)).toEqual({
      ok: false,
      reason: `the ${handler} handler is disabled`,
    });
  });

  it("refuses a handler without the F flag, because containers could not use it", async () => {
    const dir = fakeBinfmt("no-f", { status: "enabled", handler: REGISTERED("PO") });
    const status = await emulationStatus(foreign, dir);
    expect(status.ok || status.reason).toMatch(/without the F flag \(flags "PO"\)/);
  });
});

describe("the emulation step", () => {
  it("refuses without root, naming the platform, the reason and three ways to fix it", async () => {
    const err = await stepError(machine({ privilege: "none" }));
    expect(err.code).toBe(ToolchainErrorCode.Unsupported);
    expect(err.message).toMatch(/linux\/\w+ binaries cannot run here \(no qemu-\w+ handler/);
    expect(err.message).toMatch(/needs root/);
    expect(err.hint).toMatch(/mcp-pipeline setup/);
    expect(err.hint).toMatch(/tonistiigi\/binfmt --install/);
    expect(err.hint).toMatch(/docker\/setup-qemu-action/);
  });

  it("refuses where qemu-user-static is absent and apt cannot install it", async () => {
    const err = await stepError(machine({ hasApt: false }));
    expect(err.code).toBe(ToolchainErrorCode.Unsupported);
    expect(err.message).toMatch(/no qemu-user-static to register/);
  });

  it("refuses a registration file without a registration line", async () => {
    const confDir = join(scratch, "empty-conf");
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, `${handler}.conf`), "# nothing here\n");
    const err = await stepError(machine({ confDir }));
    expect(err.code).toBe(ToolchainErrorCode.NotReady);
    expect(err.message).toMatch(/holds no binfmt_misc registration line/);
  });

  it("registers with the F flag added, replaces a handler that failed, and fails when the handler still does not appear", async () => {
    const confDir = join(scratch, "conf");
    mkdirSync(confDir, { recursive: true });
    const line = `:${handler}:M::\\x7fELF:\\xff\\xff\\xff\\xff:/usr/bin/qemu-static:OP`;
    writeFileSync(join(confDir, `${handler}.conf`), `# Debian\n${line}\n`);
    const binfmtDir = fakeBinfmt("replace", { status: "enabled", handler: REGISTERED("PO") });
    const err = await stepError(machine({ confDir, binfmtDir }));
    // What the kernel was told: remove the old handler, register the new line with F.
    expect(readFileSync(join(binfmtDir, handler), "utf8")).toBe("-1");
    expect(readFileSync(join(binfmtDir, "register"), "utf8")).toBe(`${line}F`);
    // A plain directory is not the kernel: the check afterwards fails and says why.
    expect(err.code).toBe(ToolchainErrorCode.NotReady);
    expect(err.message).toMatch(new RegExp(`${handler} was registered, but`));
  });

  it("registers through sudo when the user is not root but has passwordless sudo, as on a GitHub-hosted runner", async () => {
    // privilege "sudo" writes each control file with `tee` through runAsRoot (run directly
    // here, where the tests are root): the same writes reach the files as when root.
    const confDir = join(scratch, "conf-sudo");
    mkdirSync(confDir, { recursive: true });
    const line = `:${handler}:M::\\x7fELF::/usr/bin/qemu-static:OP`;
    writeFileSync(join(confDir, `${handler}.conf`), `${line}\n`);
    const binfmtDir = fakeBinfmt("sudo", { status: "disabled", handler: REGISTERED("PO") });
    const err = await stepError(machine({ confDir, binfmtDir, privilege: "sudo" }));
    expect(readFileSync(join(binfmtDir, "status"), "utf8")).toBe("1");
    expect(readFileSync(join(binfmtDir, handler), "utf8")).toBe("-1");
    expect(readFileSync(join(binfmtDir, "register"), "utf8")).toBe(`${line}F`);
    expect(err.message).not.toMatch(/needs root/);
    expect(err.message).toMatch(new RegExp(`${handler} was registered, but`));
  });

  it("enables binfmt_misc when it is mounted but disabled", async () => {
    const confDir = join(scratch, "conf-enable");
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, `${handler}.conf`), `:${handler}:M::\\x7fELF::/q:OPF\n`);
    const binfmtDir = fakeBinfmt("enable", { status: "disabled" });
    await stepError(machine({ confDir, binfmtDir }));
    expect(readFileSync(join(binfmtDir, "status"), "utf8")).toBe("1");
  });
});
