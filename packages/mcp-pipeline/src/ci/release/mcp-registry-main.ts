import { join } from "node:path";
import { toolchainEnv } from "../../toolchain/env.js";
import { toolchainPaths } from "../../toolchain/paths.js";
import { ensureMcpRegistryTools } from "../../toolchain/steps/mcp-registry.js";
import { mcpRegistryPublish } from "./mcp-registry-publish.js";

// The entry point of `mcp-pipeline mcp-registry-publish`, run with the repository as cwd.

const paths = toolchainPaths();
process.exitCode = await mcpRegistryPublish(process.argv, {
  cwd: process.cwd(),
  env: process.env,
  publisher: async () => {
    const env = toolchainEnv(paths);
    const { publisher } = await ensureMcpRegistryTools(
      {
        paths,
        env,
        logFile: join(paths.logs, "mcp-publisher.log"),
        note: (text) => process.stderr.write(`mcp-registry: ${text}\n`),
      },
      ["publisher"],
    );
    return publisher;
  },
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
