import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import type { Step, StepContext } from "../context.js";
import { download } from "../download.js";
import { run } from "../exec.js";
import { buildWithWrapper } from "../go.js";
import { goTools } from "../versions.js";

type GoTool = (typeof goTools)[number];

/** Release downloads used in online mode, where nothing is built. */
function releaseUrl(tool: GoTool): { url: string; inTar?: string } {
  const v = tool.version;
  switch (tool.name) {
    case "actionlint":
      return {
        url: `https://github.com/rhysd/actionlint/releases/download/v${v}/actionlint_${v}_linux_amd64.tar.gz`,
        inTar: "actionlint",
      };
    case "docker-compose":
      return {
        url: `https://github.com/docker/compose/releases/download/v${v}/docker-compose-linux-x86_64`,
      };
    case "docker-buildx":
      return {
        url: `https://github.com/docker/buildx/releases/download/v${v}/buildx-v${v}.linux-amd64`,
      };
    case "trivy":
      return {
        url: `https://github.com/aquasecurity/trivy/releases/download/v${v}/trivy_${v}_Linux-64bit.tar.gz`,
        inTar: "trivy",
      };
  }
}

/** The installed version line of a tool, or undefined when it is missing or broken. */
export async function toolVersion(
  ctx: Pick<StepContext, "paths" | "env">,
  tool: GoTool,
): Promise<string | undefined> {
  const bin = join(ctx.paths.bin, tool.name);
  if (!existsSync(bin)) return undefined;
  try {
    return await run(bin, tool.versionArgs, { env: ctx.env, timeoutMs: 20_000 });
  } catch {
    return undefined;
  }
}

/** Links compose and buildx where the Docker CLI looks for plugins, without replacing someone else's. */
export function linkCliPlugin(ctx: Pick<StepContext, "paths">, name: string): string {
  const dir = join(homedir(), ".docker", "cli-plugins");
  mkdirSync(dir, { recursive: true });
  const link = join(dir, name);
  const target = join(ctx.paths.bin, name);
  let current: string | undefined;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "(a file)";
  } catch {
    current = undefined;
  }
  if (current === target) return link;
  // Ours from an earlier cache, or a link to something that no longer exists: replace it.
  const dangling = current !== undefined && current !== "(a file)" && !existsSync(link);
  if (current === undefined || dangling || current.startsWith(ctx.paths.root)) {
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
  return link;
}

function goToolStep(tool: GoTool): Step {
  return {
    id: tool.name,
    title: `${tool.name} ${tool.version}`,
    async isDone(ctx) {
      const version = await toolVersion(ctx, tool);
      const ok = version?.includes(tool.version) ?? false;
      if (ok && tool.name.startsWith("docker-")) linkCliPlugin(ctx, tool.name);
      return ok;
    },
    async run(ctx) {
      const dest = join(ctx.paths.bin, tool.name);
      mkdirSync(ctx.paths.bin, { recursive: true });
      if (ctx.mode === "online") {
        const { url, inTar } = releaseUrl(tool);
        ctx.note(`download ${basename(url)}`);
        const file = join(ctx.paths.downloads, basename(url));
        await download(url, file);
        if (inTar) await run("tar", ["-xzf", file, "-C", ctx.paths.bin, inTar], { env: ctx.env });
        else renameSync(file, dest);
        chmodSync(dest, 0o755);
      } else {
        const dir = join(ctx.paths.goBuild, `${tool.name}-v${tool.version}`);
        await buildWithWrapper({
          module: tool.module,
          version: tool.version,
          binaries: [{ pkg: tool.pkg, name: tool.name }],
          dir,
          ldflags: "ldflags" in tool ? tool.ldflags : "",
          env: { ...ctx.env, ...("goEnv" in tool ? tool.goEnv : {}) },
          logFile: ctx.logFile,
          note: ctx.note,
        });
        copyFileSync(join(dir, "out", tool.name), dest);
        chmodSync(dest, 0o755);
      }
      if (tool.name.startsWith("docker-")) linkCliPlugin(ctx, tool.name);
    },
  };
}

/** actionlint, Compose v2, Buildx and Trivy at their pinned versions. */
export const goToolSteps: Step[] = goTools.map(goToolStep);
