import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { which } from "../../host/exec.js";
import { aptInstall } from "../apt.js";
import type { Step, StepContext } from "../context.js";
import { installBinary } from "../download.js";
import { buildWithWrapper } from "../go.js";
import type { ToolchainPaths } from "../settings.js";
import { mcpRegistryModule, versions } from "../versions.js";
import { recordBuild } from "./go-tools.js";

type Binary = "publisher" | "registry";

/** Where a binary of the MCP Registry's module lives in the toolchain. */
export function mcpRegistryBinary(paths: Pick<ToolchainPaths, "bin">, binary: Binary): string {
  return join(paths.bin, mcpRegistryModule[binary].name);
}

/** Whether the binary is there and says it is the pinned version (both print it to stderr). */
async function isPinned(bin: string, binary: Binary, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!existsSync(bin)) return false;
  const flag = binary === "publisher" ? "--version" : "-version";
  const res = await execa(bin, [flag], { env, all: true, reject: false, timeout: 20_000 });
  return res.exitCode === 0 && String(res.all ?? "").includes(` ${versions.mcpRegistry}`);
}

/**
 * The paths of `mcp-publisher` and `mcp-registry` at the pinned version, built first when one is
 * missing or another version: from the Go module proxy, every module checked against the
 * registry's own go.sum and the checksum database (buildWithWrapper), into the toolchain's bin/
 * with their provenance recorded. The release's publishing step needs only the publisher.
 */
export async function ensureMcpRegistryTools(
  ctx: Pick<StepContext, "paths" | "env" | "logFile" | "note">,
  wanted: readonly Binary[] = ["publisher", "registry"],
): Promise<Record<Binary, string>> {
  const bins = {
    publisher: mcpRegistryBinary(ctx.paths, "publisher"),
    registry: mcpRegistryBinary(ctx.paths, "registry"),
  };
  const missing: Binary[] = [];
  for (const binary of wanted)
    if (!(await isPinned(bins[binary], binary, ctx.env))) missing.push(binary);
  if (missing.length === 0) return bins;
  const { module, version, ldflags, replace } = mcpRegistryModule;
  const dir = join(ctx.paths.goBuild, `mcp-registry-v${version}`);
  await buildWithWrapper({
    module,
    version,
    binaries: missing.map((binary) => mcpRegistryModule[binary]),
    dir,
    ldflags,
    // Only the registry needs the replacement; the publisher alone is built from upstream's pins.
    replace: missing.includes("registry") ? replace : [],
    env: ctx.env,
    logFile: ctx.logFile,
    note: ctx.note,
  });
  for (const binary of missing) {
    const { name } = mcpRegistryModule[binary];
    installBinary(join(dir, "out", name), bins[binary]);
    await recordBuild(ctx, name, module, version);
  }
  return bins;
}

/**
 * The directory of PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`): Debian keeps
 * them in /usr/lib/postgresql/<major>/bin, off PATH; the newest major there, else PATH's.
 */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors[0]) return join(root, majors[0], "bin");
  const initdb = which("initdb", env);
  return initdb ? join(initdb, "..") : undefined;
}

/**
 * What the tests' MCP Registry needs (`setup --with-mcp-registry`, which `npm test` runs): the
 * registry and mcp-publisher at the pinned version, and Debian's PostgreSQL, whose server the
 * tests start in a temporary directory of their own (installing the package also starts a
 * cluster of Debian's own on 5432; the tests never use it).
 */
export const mcpRegistryStep: Step = {
  id: "mcp-registry",
  title: `MCP Registry ${versions.mcpRegistry} and PostgreSQL (tests)`,
  async isDone(ctx) {
    if (!ctx.needs.mcpRegistry) return true;
    return (
      postgresBinDir(ctx.env) !== undefined &&
      (await isPinned(mcpRegistryBinary(ctx.paths, "publisher"), "publisher", ctx.env)) &&
      (await isPinned(mcpRegistryBinary(ctx.paths, "registry"), "registry", ctx.env))
    );
  },
  async run(ctx) {
    if (postgresBinDir(ctx.env) === undefined) await aptInstall(ctx, [versions.postgresqlPackage]);
    await ensureMcpRegistryTools(ctx);
  },
};
