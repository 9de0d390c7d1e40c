import type { ToolchainPaths } from "../../src/toolchain/settings.js";
import { ensureTestGoTool, testGoTool } from "./test-go-tools.js";

/** The pinned act version this harness drives. */
export const ACT_VERSION = testGoTool("act").version;

/**
 * The path of the pinned `act`, built first when it is missing or not the recorded build
 * (ensureTestGoTool: go.sum and the checksum database, provenance recorded).
 */
export function ensureAct(
  paths: ToolchainPaths,
  env: NodeJS.ProcessEnv,
  note: (text: string) => void = () => {},
): Promise<string> {
  return ensureTestGoTool(paths, env, "act", note);
}
