import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "../../src/toolchain/checksums.js";
import { installBinary } from "../../src/toolchain/download.js";
import { buildWithWrapper } from "../../src/toolchain/go.js";
import type { ToolchainPaths } from "../../src/toolchain/settings.js";
import { readProvenance } from "../../src/toolchain/state.js";
import { recordBuild } from "../../src/toolchain/steps/go-tools.js";
import { testGoTools } from "../../src/toolchain/versions.js";

export type TestGoTool = (typeof testGoTools)[number];
export type TestGoToolName = TestGoTool["name"];

/** The pinned entry of a test-only Go tool. */
export function testGoTool(name: TestGoToolName): TestGoTool {
  const tool = testGoTools.find((t) => t.name === name);
  if (!tool) throw new Error(`${name} is not in testGoTools (src/toolchain/versions.ts)`);
  return tool;
}

/**
 * Whether bin/<name> is the build this pin recorded: its provenance names the pinned module
 * version, and the file's sha256 is the one recorded when it was built.
 */
async function isPinnedBuild(paths: ToolchainPaths, tool: TestGoTool): Promise<boolean> {
  const bin = join(paths.bin, tool.name);
  const record = readProvenance(paths)[tool.name];
  if (!existsSync(bin) || !record) return false;
  return (
    record.source === "go-build" &&
    record.asset === `${tool.module}@v${tool.version}` &&
    record.sha256 === (await sha256File(bin))
  );
}

/**
 * The path of a pinned test-only Go tool (act, rekor-server, the Trillian servers), built first
 * when it is missing, another version, or not the file its provenance recorded: from the Go
 * module proxy at the pinned version, every module checked against the tool's own go.sum and the
 * checksum database (buildWithWrapper), into the toolchain's bin/ with its provenance recorded,
 * as setup does for its tools. Adopters never build these; only the tests that need them do.
 */
export async function ensureTestGoTool(
  paths: ToolchainPaths,
  env: NodeJS.ProcessEnv,
  name: TestGoToolName,
  note: (text: string) => void = () => {},
): Promise<string> {
  const tool = testGoTool(name);
  const bin = join(paths.bin, tool.name);
  if (await isPinnedBuild(paths, tool)) return bin;
  mkdirSync(paths.logs, { recursive: true });
  const dir = join(paths.goBuild, `${tool.name}-v${tool.version}`);
  const started = Date.now();
  await buildWithWrapper({
    module: tool.module,
    version: tool.version,
    binaries: [{ pkg: tool.pkg, name: tool.name }],
    dir,
    ...("ldflags" in tool ? { ldflags: tool.ldflags } : {}),
    env,
    logFile: join(paths.logs, `${tool.name}-build.log`),
    note,
  });
  note(`built ${tool.name} v${tool.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  installBinary(join(dir, "out", tool.name), bin);
  await recordBuild({ paths }, tool.name, tool.module, tool.version);
  return bin;
}
