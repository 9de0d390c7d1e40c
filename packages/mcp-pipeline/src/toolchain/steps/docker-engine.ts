import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { run, which } from "../../host/exec.js";
import { ASSETS_DIR } from "../../package-root.js";
import { aptInstall } from "../apt.js";
import { missingCapabilities } from "../capabilities.js";
import type { Step, StepContext } from "../context.js";
import { chooseEngine, type EngineFacts, parseDockerdVersion } from "../engine/choice.js";
import { startDockerd, waitForDocker } from "../engine/daemon.js";
import { installCurrentEngine } from "../engine/install.js";
import { REGISTRY_BRIDGE_HOST, REGISTRY_PORTS } from "../registry-config.js";
import { engineBinDir } from "../settings.js";
import { readRegistries } from "../state.js";

/** True on Debian and its derivatives, where setup installs missing system packages with apt. */
export function isDebianLike(): boolean {
  try {
    const osRelease = readFileSync("/etc/os-release", "utf8");
    return /^ID(_LIKE)?=.*\b(debian|ubuntu)\b/m.test(osRelease);
  } catch {
    return false;
  }
}

const RUNTIME_SOURCES = join(ASSETS_DIR, "runtime");

/**
 * Installs `runc-bounded` into the cache (so dockerd never depends on a clone
 * that may be deleted) with absolute paths to node, the clipper and runc.
 */
function installBoundedRuntime(ctx: StepContext, engineBin: string | undefined): string {
  const dir = join(ctx.paths.root, "runtime");
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, "clip-caps.mjs");
  copyFileSync(join(RUNTIME_SOURCES, "clip-caps.mjs"), clip);
  const path = `${engineBin ? `${engineBin}:` : ""}${ctx.env.PATH}:/usr/sbin:/usr/bin`;
  const runc = which("runc", { PATH: path }) ?? "runc";
  const inner = join(dir, "runc-bounded.sh");
  copyFileSync(join(RUNTIME_SOURCES, "runc-bounded.sh"), inner);
  chmodSync(inner, 0o755);
  // containerd calls the runtime with a bare environment: pin every path here.
  const vars = { NODE: process.execPath, CLIP: clip, RUNC: runc };
  const assignments = Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const script = `#!/bin/sh\n${assignments.join(" ")} exec ${JSON.stringify(inner)} "$@"\n`;
  const shim = join(dir, "runc-bounded");
  writeFileSync(shim, script);
  chmodSync(shim, 0o755);
  return shim;
}

/** The version of the machine's own dockerd (not one in the toolchain cache), if installed. */
async function installedDockerd(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dockerd = ["/usr/sbin/dockerd", "/usr/bin/dockerd"].find((p) => existsSync(p));
  if (!dockerd) return undefined;
  const said = await run(dockerd, ["--version"], { env, timeoutMs: 20_000 }).catch(() => "");
  return parseDockerdVersion(said) ?? "unknown";
}

/** The server version of the engine answering on the Docker socket, if one answers. */
async function runningEngine(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    return (
      await run("docker", ["version", "--format", "{{.Server.Version}}"], {
        env,
        timeoutMs: 10_000,
      })
    ).trim();
  } catch {
    return undefined;
  }
}

/**
 * The step's environment, with the installed current engine's bin/ last on PATH: the env of a
 * run was made before this step installed it, and its `docker` may be the only CLI there is.
 */
function withEngineCli(ctx: Pick<StepContext, "env" | "paths">): NodeJS.ProcessEnv {
  const bin = engineBinDir(ctx.paths);
  const path = ctx.env.PATH ?? "";
  if (!existsSync(bin) || path.split(":").includes(bin)) return ctx.env;
  return { ...ctx.env, PATH: `${path}:${bin}` };
}

/** What setup found: the requested engine, the running one, the machine's installed one. */
export async function engineFacts(
  ctx: Pick<StepContext, "settings" | "env" | "paths">,
): Promise<EngineFacts> {
  const running = await runningEngine(withEngineCli(ctx));
  return {
    requested: ctx.settings.engine ?? "debian",
    running,
    installed: running === undefined ? await installedDockerd(ctx.env) : undefined,
  };
}

/**
 * dockerd's flags: the local registries are plain HTTP on the bridge address. Flags rather
 * than /etc/docker/daemon.json: we leave the machine's own configuration alone.
 */
function daemonArgs(ctx: StepContext, engineBin: string | undefined): string[] {
  // The ports setup used last time (they move when the defaults are taken); the defaults on a first run.
  const recorded = readRegistries(ctx.paths);
  const mirror = `${REGISTRY_BRIDGE_HOST}:${recorded.mirror?.port ?? ctx.settings.mirrorPort ?? REGISTRY_PORTS.mirror}`;
  const auth = `${REGISTRY_BRIDGE_HOST}:${recorded.auth?.port ?? ctx.settings.authPort ?? REGISTRY_PORTS.auth}`;
  const args = ["--insecure-registry", mirror, "--insecure-registry", auth];
  if (ctx.mode === "airgap") args.push("--registry-mirror", `http://${mirror}`);
  if (missingCapabilities().length > 0) {
    // Without this, `docker run --privileged` (how Dagger starts its engine) fails here.
    const shim = installBoundedRuntime(ctx, engineBin);
    args.push("--add-runtime", `runc-bounded=${shim}`, "--default-runtime", "runc-bounded");
  }
  return args;
}

/**
 * A running Docker engine. What setup does is `chooseEngine`'s decision: keep an engine that
 * answers, start the machine's installed dockerd, or install one — Debian's `docker.io` with apt
 * (the default), or with `MCP_PIPELINE_ENGINE=current` the current engine into the toolchain
 * cache — and start it in the background (as root: nothing else runs it here).
 */
export const dockerEngine: Step = {
  id: "docker-engine",
  title: "Docker engine",
  async isDone(ctx) {
    const running = await runningEngine(withEngineCli(ctx));
    if (running === undefined) return false;
    // Asked for the current engine, an old one does not count: run() says what to do.
    return (
      chooseEngine({ requested: ctx.settings.engine ?? "debian", running, installed: undefined })
        .kind === "keep"
    );
  },
  async run(ctx: StepContext) {
    const isRoot = process.getuid?.() === 0;
    const choice = chooseEngine(await engineFacts(ctx));
    if (choice.kind === "refuse")
      throw new ToolchainError(ToolchainErrorCode.Unsupported, choice.message, {
        hint: choice.hint,
      });
    if ("warning" in choice && choice.warning) ctx.warn(choice.warning);
    if (choice.kind === "keep") return;
    if (choice.kind !== "start-installed" && (!isRoot || !isDebianLike())) {
      throw new ToolchainError(
        ToolchainErrorCode.Unsupported,
        "No Docker engine is running and none is installed.",
        {
          hint: "Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, start it, and run `mcp-pipeline setup` again.",
        },
      );
    }
    if (choice.kind === "install-debian") await aptInstall(ctx, ["docker.io"]);
    if (choice.kind === "install-current") await installCurrentEngine(ctx, { canApt: true });
    if (!isRoot) {
      throw new ToolchainError(
        ToolchainErrorCode.NotReady,
        "dockerd is installed but not running, and starting it needs root.",
        {
          hint: "Start it with `sudo systemctl start docker` (or `sudo dockerd &`), then run `mcp-pipeline setup` again.",
        },
      );
    }
    ctx.note("starting dockerd");
    const engineBin = choice.kind === "install-current" ? engineBinDir(ctx.paths) : undefined;
    const dockerd = engineBin
      ? join(engineBin, "dockerd")
      : existsSync("/usr/sbin/dockerd")
        ? "/usr/sbin/dockerd"
        : "/usr/bin/dockerd";
    const logFile = join(ctx.paths.logs, "dockerd.log");
    startDockerd({ dockerd, args: daemonArgs(ctx, engineBin), logFile, env: ctx.env });
    if (!(await waitForDocker(withEngineCli(ctx), 60_000))) {
      throw new ToolchainError(ToolchainErrorCode.NotReady, "dockerd did not answer within 60 s.", {
        hint: `Read ${logFile} for the reason.`,
      });
    }
  },
};
