import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { succeeds, which } from "../../host/exec.js";
import { ASSETS_DIR } from "../../package-root.js";
import { aptInstall } from "../apt.js";
import { missingCapabilities } from "../capabilities.js";
import type { Step, StepContext } from "../context.js";
import { REGISTRY_BRIDGE_HOST, REGISTRY_PORTS } from "../registry-config.js";
import { readRegistries } from "../state.js";

/** True when the Docker daemon answers. */
export async function dockerAnswers(env: NodeJS.ProcessEnv): Promise<boolean> {
  return succeeds("docker", ["version", "--format", "{{.Server.Version}}"], {
    env,
    timeoutMs: 10_000,
  });
}

/** True on Debian and its derivatives, where setup installs missing system packages with apt. */
export function isDebianLike(): boolean {
  try {
    const osRelease = readFileSync("/etc/os-release", "utf8");
    return /^ID(_LIKE)?=.*\b(debian|ubuntu)\b/m.test(osRelease);
  } catch {
    return false;
  }
}

async function waitForDocker(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await dockerAnswers(env)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

const RUNTIME_SOURCES = join(ASSETS_DIR, "runtime");

/**
 * Installs `runc-bounded` into the cache (so dockerd never depends on a clone
 * that may be deleted) with absolute paths to node, the clipper and runc.
 */
function installBoundedRuntime(ctx: StepContext): string {
  const dir = join(ctx.paths.root, "runtime");
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, "clip-caps.mjs");
  copyFileSync(join(RUNTIME_SOURCES, "clip-caps.mjs"), clip);
  const runc = which("runc", { PATH: `${ctx.env.PATH}:/usr/sbin:/usr/bin` }) ?? "runc";
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

/**
 * A running Docker engine. Installs Debian's `docker.io` when the daemon is
 * missing and we are root on Debian/Ubuntu, and starts `dockerd` in the
 * background when nothing else (systemd, Docker Desktop) runs it.
 */
export const dockerEngine: Step = {
  id: "docker-engine",
  title: "Docker engine",
  isDone: (ctx) => dockerAnswers(ctx.env),
  async run(ctx: StepContext) {
    const isRoot = process.getuid?.() === 0;
    const hasDockerd = existsSync("/usr/sbin/dockerd") || existsSync("/usr/bin/dockerd");
    if (!hasDockerd) {
      if (!isRoot || !isDebianLike()) {
        throw new ToolchainError(
          ToolchainErrorCode.Unsupported,
          "No Docker engine is running and none is installed.",
          {
            hint: "Install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, start it, and run `mcp-pipeline setup` again.",
          },
        );
      }
      await aptInstall(ctx, ["docker.io"]);
    }
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
    const dockerd = existsSync("/usr/sbin/dockerd") ? "/usr/sbin/dockerd" : "/usr/bin/dockerd";
    // Flags rather than /etc/docker/daemon.json: we leave the machine's own
    // configuration alone. The local registries are plain HTTP on the bridge address.
    // The ports setup used last time (they move when the defaults are taken); the
    // defaults on a first run.
    const recorded = readRegistries(ctx.paths);
    const mirror = `${REGISTRY_BRIDGE_HOST}:${recorded.mirror?.port ?? ctx.settings.mirrorPort ?? REGISTRY_PORTS.mirror}`;
    const auth = `${REGISTRY_BRIDGE_HOST}:${recorded.auth?.port ?? ctx.settings.authPort ?? REGISTRY_PORTS.auth}`;
    const args = ["--insecure-registry", mirror, "--insecure-registry", auth];
    if (ctx.mode === "airgap") args.push("--registry-mirror", `http://${mirror}`);
    if (missingCapabilities().length > 0) {
      // Without this, `docker run --privileged` (how Dagger starts its engine) fails here.
      const shim = installBoundedRuntime(ctx);
      args.push("--add-runtime", `runc-bounded=${shim}`, "--default-runtime", "runc-bounded");
    }
    const out = openSync(join(ctx.paths.logs, "dockerd.log"), "a");
    const child = spawn(dockerd, args, { detached: true, stdio: ["ignore", out, out] });
    child.unref();
    if (!(await waitForDocker(ctx.env, 60_000))) {
      throw new ToolchainError(ToolchainErrorCode.NotReady, "dockerd did not answer within 60 s.", {
        hint: `Read ${join(ctx.paths.logs, "dockerd.log")} for the reason.`,
      });
    }
  },
};
