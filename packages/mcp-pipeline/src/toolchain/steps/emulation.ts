import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINFMT_CONF_DIR, BINFMT_DIR, emulationStatus, handlerName } from "../../host/emulation.js";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { ARCHES, type Arch, foreignArches, hostArch } from "../../host/platforms.js";
import { aptInstall } from "../apt.js";
import type { Step, StepContext } from "../context.js";
import { canBeRoot, runAsRoot } from "../privilege.js";
import { isDebianLike } from "./docker-engine.js";

/** The facts about the machine the step acts on; tests point them elsewhere. */
export interface EmulationHost {
  host: Arch;
  binfmtDir: string;
  /** Where `qemu-user-static` keeps its registration lines (`qemu-<arch>.conf`). */
  confDir: string;
  /**
   * How the step acts as root: `root` writes to binfmt_misc itself; `sudo` goes
   * through passwordless `sudo -n` (the `runner` user of GitHub-hosted runners);
   * `none` cannot register anything.
   */
  privilege: "root" | "sudo" | "none";
  /** Debian/Ubuntu: `qemu-user-static` can be installed with apt. */
  hasApt: boolean;
}

const platforms = (arches: Arch[]) => arches.map((a) => ARCHES[a].platform).join(", ");

function howToFix(arches: Arch[]): string {
  return [
    "as root on Debian/Ubuntu, run `mcp-pipeline setup` again (it installs qemu-user-static and registers it);",
    `elsewhere, with network access: \`docker run --privileged --rm tonistiigi/binfmt --install ${arches.join(",")}\`;`,
    "on GitHub Actions: the docker/setup-qemu-action step before setup.",
  ].join(" ");
}

const confFile = (machine: EmulationHost, arch: Arch) =>
  join(machine.confDir, `${handlerName(arch)}.conf`);

/** Debian's registration line for `arch`'s handler (the file's first non-comment line). */
function registrationLine(machine: EmulationHost, arch: Arch): string {
  const file = confFile(machine, arch);
  const line = readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith(":"));
  if (!line) {
    throw new ToolchainError(
      ToolchainErrorCode.NotReady,
      `${file} holds no binfmt_misc registration line.`,
      { hint: "Reinstall qemu-user-static (`apt-get install --reinstall qemu-user-static`)." },
    );
  }
  // Debian registers with "OPF" already; F is what makes it usable inside containers.
  const fields = line.split(":");
  const flags = fields.at(-1) ?? "";
  return flags.includes("F") ? line : `${line}F`;
}

/** Writes a binfmt_misc control file as root: directly, or through `sudo -n tee`. */
async function writeAsRoot(
  ctx: StepContext,
  machine: EmulationHost,
  file: string,
  text: string,
): Promise<void> {
  if (machine.privilege === "root") {
    writeFileSync(file, text);
    return;
  }
  await runAsRoot("tee", [file], {
    input: text,
    env: ctx.env,
    logFile: ctx.logFile,
    why: `Registering an emulator in ${machine.binfmtDir}`,
  });
}

async function register(ctx: StepContext, machine: EmulationHost, arch: Arch): Promise<void> {
  const dir = machine.binfmtDir;
  if (!existsSync(confFile(machine, arch))) {
    if (!machine.hasApt) {
      throw new ToolchainError(
        ToolchainErrorCode.Unsupported,
        `${ARCHES[arch].platform} binaries cannot run here and there is no qemu-user-static to register.`,
        { hint: howToFix([arch]) },
      );
    }
    await aptInstall(ctx, ["qemu-user-static"]);
  }
  if (!existsSync(join(dir, "status"))) {
    ctx.note(`mount binfmt_misc on ${dir}`);
    await runAsRoot("mount", ["-t", "binfmt_misc", "binfmt_misc", dir], {
      env: ctx.env,
      logFile: ctx.logFile,
      why: "Mounting binfmt_misc",
    });
  }
  if (readFileSync(join(dir, "status"), "utf8").trim() !== "enabled") {
    await writeAsRoot(ctx, machine, join(dir, "status"), "1");
  }
  const handler = join(dir, handlerName(arch));
  // A handler that is there but failed the check (disabled, no F flag, broken
  // interpreter) is replaced: the kernel refuses a second one of the same name.
  if (existsSync(handler)) await writeAsRoot(ctx, machine, handler, "-1");
  ctx.note(`register ${handlerName(arch)} (F flag)`);
  await writeAsRoot(ctx, machine, join(dir, "register"), registrationLine(machine, arch));
}

/**
 * QEMU user-mode emulation for every platform the host does not run natively
 * (linux/arm64 on an amd64 machine), registered in binfmt_misc with the F flag
 * so that containers — `RUN` steps of a cross-platform build, the Dagger
 * engine's, `docker run --platform` — run those binaries too. Done when a
 * real executable of each such platform runs. Both are Debian packages
 * (`qemu-user-static`), so this works air-gapped.
 */
export function emulationStep(machine: EmulationHost): Step {
  const arches = foreignArches(machine.host);
  return {
    id: "emulation",
    title: `Emulation for ${platforms(arches)} (qemu-user-static, binfmt_misc)`,
    async isDone(ctx) {
      for (const arch of arches) {
        if (!(await emulationStatus(arch, machine.binfmtDir, ctx.paths.root)).ok) return false;
      }
      return true;
    },
    async run(ctx) {
      for (const arch of arches) {
        const status = await emulationStatus(arch, machine.binfmtDir, ctx.paths.root);
        if (status.ok) continue;
        if (machine.privilege === "none") {
          throw new ToolchainError(
            ToolchainErrorCode.Unsupported,
            `${ARCHES[arch].platform} binaries cannot run here (${status.reason}), and registering an emulator needs root.`,
            { hint: howToFix([arch]) },
          );
        }
        await register(ctx, machine, arch);
        const after = await emulationStatus(arch, machine.binfmtDir, ctx.paths.root);
        if (!after.ok) {
          throw new ToolchainError(
            ToolchainErrorCode.NotReady,
            `${handlerName(arch)} was registered, but ${after.reason}.`,
            { hint: `Read ${ctx.logFile}; \`cat ${join(machine.binfmtDir, handlerName(arch))}\`.` },
          );
        }
      }
    },
  };
}

/** This machine, read when the step runs (an unsupported architecture fails the step, not the import). */
async function thisMachine(env: NodeJS.ProcessEnv): Promise<EmulationHost> {
  const privilege = process.getuid?.() === 0 ? "root" : (await canBeRoot(env)) ? "sudo" : "none";
  return {
    host: hostArch(),
    binfmtDir: BINFMT_DIR,
    confDir: BINFMT_CONF_DIR,
    privilege,
    hasApt: isDebianLike(),
  };
}

/** The emulation step for this machine. */
export const emulation: Step = {
  id: "emulation",
  title: "Emulation of the other platform (qemu-user-static, binfmt_misc)",
  isDone: async (ctx) => emulationStep(await thisMachine(ctx.env)).isDone(ctx),
  run: async (ctx) => emulationStep(await thisMachine(ctx.env)).run(ctx),
};
