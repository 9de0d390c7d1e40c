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
import { type ImageStore, imageStoreOf } from "../../host/image-store.js";
import { ASSETS_DIR } from "../../package-root.js";
import { aptRemove } from "../apt.js";
import { missingCapabilities } from "../capabilities.js";
import type { Step, StepContext } from "../context.js";
import {
  chooseEngine,
  type EngineFacts,
  parseDockerdVersion,
  supportedEngine,
} from "../engine/choice.js";
import { runningDockerd, startDockerd, stopDockerd, waitForDocker } from "../engine/daemon.js";
import {
  DOCKER_GROUP,
  DOCKER_SOCKET,
  dockerGroupId,
  dockerGroupOrWarn,
  giveSocketToGroup,
  socketHasGroup,
} from "../engine/group.js";
import { installCurrentEngine } from "../engine/install.js";
import { REGISTRY_BRIDGE_HOST, REGISTRY_PORTS } from "../registry-config.js";
import { engineBinDir } from "../settings.js";
import { readInstalledPackages, readRegistries } from "../state.js";
import { currentEngine } from "../versions.js";

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

/** The machine's own dockerd (Debian's and Docker's packages put it here), if installed. */
const MACHINE_DOCKERD =
  ["/usr/sbin/dockerd", "/usr/bin/dockerd"].find((p) => existsSync(p)) ?? "/usr/bin/dockerd";

/** The version of the machine's own dockerd (not one in the toolchain cache), if installed. */
async function installedDockerd(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!existsSync(MACHINE_DOCKERD)) return undefined;
  const said = await run(MACHINE_DOCKERD, ["--version"], { env, timeoutMs: 20_000 }).catch(
    () => "",
  );
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

/** The image store of the engine answering on the Docker socket, if one answers. */
async function runningStore(env: NodeJS.ProcessEnv): Promise<ImageStore | undefined> {
  try {
    const out = await run("docker", ["info", "--format", "{{json .DriverStatus}}"], {
      env,
      timeoutMs: 20_000,
    });
    return imageStoreOf(JSON.parse(out) as string[][] | null);
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

/**
 * True when the engine setup started from the cache runs with a socket the `docker` group cannot
 * use — started by a setup before the group was made (Docker's packages make it; setup's own
 * install did not), so only root reached it. Only root can mend it; anyone else gets false.
 */
async function ownSocketWithoutGroup(ctx: Pick<StepContext, "env" | "paths">): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  if (runningDockerd(join(engineBinDir(ctx.paths), "dockerd")) === undefined) return false;
  const gid = await dockerGroupId(ctx.env);
  return gid === undefined || !socketHasGroup(gid);
}

/** The Debian package older setups installed the engine from (Debian 12: Docker 20.10). */
const DEBIAN_ENGINE_PACKAGE = "docker.io";

/** What setup found: the running engine, the machine's installed one, and whether setup installed it. */
export async function engineFacts(ctx: Pick<StepContext, "env" | "paths">): Promise<EngineFacts> {
  const installed = await installedDockerd(ctx.env);
  return {
    running: await runningEngine(withEngineCli(ctx)),
    installed,
    installedBySetup:
      installed !== undefined && readInstalledPackages(ctx.paths).includes(DEBIAN_ENGINE_PACKAGE),
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
  const store = ctx.settings.imageStore;
  if (store) args.push("--feature", `containerd-snapshotter=${store === "containerd"}`);
  if (ctx.mode === "airgap") args.push("--registry-mirror", `http://${mirror}`);
  if (missingCapabilities().length > 0) {
    // Without this, `docker run --privileged` (how Dagger starts its engine) fails here.
    const shim = installBoundedRuntime(ctx, engineBin);
    args.push("--add-runtime", `runc-bounded=${shim}`, "--default-runtime", "runc-bounded");
  }
  return args;
}

/**
 * A running Docker engine ≥ 25. What setup does is `chooseEngine`'s decision: keep a supported
 * engine that answers, start the machine's installed one, install the current engine
 * (`currentEngine`) into the toolchain cache where there is none, or upgrade the Docker 20.10
 * an older setup installed in its place — and start it in the background (as root: nothing
 * else runs it here).
 */
export const dockerEngine: Step = {
  id: "docker-engine",
  title: "Docker engine",
  async isDone(ctx) {
    const env = withEngineCli(ctx);
    const running = await runningEngine(env);
    // An engine out of support does not count: run() upgrades it or says what to do.
    if (running === undefined || !supportedEngine(running)) return false;
    if (await ownSocketWithoutGroup(ctx)) return false;
    const wanted = ctx.settings.imageStore;
    return wanted === undefined || (await runningStore(env)) === wanted;
  },
  async run(ctx: StepContext) {
    const isRoot = process.getuid?.() === 0;
    const choice = chooseEngine(await engineFacts(ctx));
    if (choice.kind === "refuse")
      throw new ToolchainError(ToolchainErrorCode.Unsupported, choice.message, {
        hint: choice.hint,
      });
    if (choice.kind === "keep") {
      if (await ownSocketWithoutGroup(ctx)) {
        const group = await dockerGroupOrWarn(ctx.env, (w) => ctx.warn(w));
        if (group) {
          giveSocketToGroup(group.gid);
          ctx.note(
            `gave ${DOCKER_SOCKET} to the ${DOCKER_GROUP} group (root:${DOCKER_GROUP}, 660), as dockerd does when the group exists: its members reach Docker without root`,
          );
        }
      }
      const wanted = ctx.settings.imageStore;
      const store = await runningStore(withEngineCli(ctx));
      if (wanted === undefined || store === wanted) return;
      // Only the engine setup started from the cache is restarted: never a machine's own.
      const ours = join(engineBinDir(ctx.paths), "dockerd");
      if (!isRoot || !(await stopDockerd(ours, 120_000)))
        throw new ToolchainError(
          ToolchainErrorCode.Unsupported,
          `MCP_PIPELINE_IMAGE_STORE=${wanted} asks for the ${wanted} image store, but Docker ${choice.version} runs here with the ${store} store, and setup restarts only the engine it started.`,
          {
            hint: `Set "features": {"containerd-snapshotter": ${wanted === "containerd"}} in /etc/docker/daemon.json and restart Docker (https://docs.docker.com/engine/storage/containerd/), or unset MCP_PIPELINE_IMAGE_STORE.`,
          },
        );
      await startAndWait(
        ctx,
        engineBinDir(ctx.paths),
        `restarting Docker ${choice.version} with the ${wanted} image store`,
      );
      return;
    }
    if (choice.kind !== "start-installed" && (!isRoot || !isDebianLike())) {
      throw new ToolchainError(
        ToolchainErrorCode.Unsupported,
        choice.kind === "upgrade"
          ? `Docker ${choice.from}, which an earlier setup installed, is out of support, and replacing it needs root on Debian or Ubuntu.`
          : "No Docker engine is running and none is installed.",
        {
          hint:
            choice.kind === "upgrade"
              ? "Run `mcp-pipeline setup` as root once: it stops Docker 20.10, removes Debian's docker.io (images and volumes stay) and starts the current engine."
              : "Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, start it, and run `mcp-pipeline setup` again.",
        },
      );
    }
    if (choice.kind === "upgrade") {
      ctx.note(
        `Docker ${choice.from} is out of support: upgrading to Docker ${currentEngine.docker}`,
      );
      if (choice.stop && !(await stopDockerd(MACHINE_DOCKERD, 120_000)))
        throw new ToolchainError(
          ToolchainErrorCode.Unsupported,
          `Docker ${choice.from} answers, but not from the dockerd setup installed (${MACHINE_DOCKERD}), so setup cannot stop it.`,
          { hint: "Stop that engine, then run `mcp-pipeline setup` again." },
        );
      await aptRemove(ctx, [DEBIAN_ENGINE_PACKAGE]);
    }
    if (choice.kind === "install-current" || choice.kind === "upgrade")
      await installCurrentEngine(ctx, { canApt: true });
    if (!isRoot) {
      throw new ToolchainError(
        ToolchainErrorCode.NotReady,
        "dockerd is installed but not running, and starting it needs root.",
        {
          hint: "Start it with `sudo systemctl start docker` (or `sudo dockerd &`), then run `mcp-pipeline setup` again.",
        },
      );
    }
    await startAndWait(
      ctx,
      choice.kind === "start-installed" ? undefined : engineBinDir(ctx.paths),
      "starting dockerd",
    );
  },
};

/**
 * Starts dockerd (the cache's in `engineBin`, else the machine's) and waits until it answers;
 * `what` is the progress note said as it starts.
 */
async function startAndWait(
  ctx: StepContext,
  engineBin: string | undefined,
  what: string,
): Promise<void> {
  const dockerd = engineBin ? join(engineBin, "dockerd") : MACHINE_DOCKERD;
  const logFile = join(ctx.paths.logs, "dockerd.log");
  // dockerd gives its socket to the docker group only when the group exists (else root alone
  // reaches it): a runner's user, and any user the machine adds to the group, need it.
  if ((await dockerGroupOrWarn(ctx.env, (w) => ctx.warn(w)))?.created)
    ctx.note(`created the ${DOCKER_GROUP} group: its members reach Docker without root`);
  ctx.note(what);
  startDockerd({ dockerd, args: daemonArgs(ctx, engineBin), logFile, env: ctx.env });
  if (!(await waitForDocker(withEngineCli(ctx), 60_000))) {
    throw new ToolchainError(ToolchainErrorCode.NotReady, "dockerd did not answer within 60 s.", {
      hint: `Read ${logFile} for the reason.`,
    });
  }
}
