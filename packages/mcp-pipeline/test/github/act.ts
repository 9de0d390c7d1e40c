import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../src/host/exec.js";
import { installBinary } from "../../src/toolchain/download.js";
import { buildWithWrapper } from "../../src/toolchain/go.js";
import type { ToolchainPaths } from "../../src/toolchain/settings.js";
import { recordBuild } from "../../src/toolchain/steps/go-tools.js";
import { testGoTools } from "../../src/toolchain/versions.js";

const act = testGoTools[0];

/** The pinned act version this harness drives. */
export const ACT_VERSION = act.version;

/**
 * The path of the pinned `act`, built first when it is missing or another
 * version: from the Go module proxy at the pinned version, every module checked
 * against act's own go.sum and the checksum database (buildWithWrapper), into
 * the toolchain's bin/ with its provenance recorded, as setup does for its tools.
 */
export async function ensureAct(
  paths: ToolchainPaths,
  env: NodeJS.ProcessEnv,
  note: (text: string) => void = () => {},
): Promise<string> {
  const bin = join(paths.bin, act.name);
  if (existsSync(bin)) {
    const version = await run(bin, act.versionArgs, { env, timeoutMs: 20_000 }).catch(() => "");
    if (version.includes(act.version)) return bin;
  }
  mkdirSync(paths.logs, { recursive: true });
  const dir = join(paths.goBuild, `${act.name}-v${act.version}`);
  await buildWithWrapper({
    module: act.module,
    version: act.version,
    binaries: [{ pkg: act.pkg, name: act.name }],
    dir,
    env,
    logFile: join(paths.logs, "act-build.log"),
    note,
  });
  installBinary(join(dir, "out", act.name), bin);
  await recordBuild({ paths }, act.name, act.module, act.version);
  return bin;
}
