import { execa } from "execa";
import { PACKAGE_ROOT } from "../../package-root.js";
import { release } from "./release.js";

// The release entry point: `mcp-pipeline release …` runs it with the repository as cwd.

process.exitCode = await release(process.argv, {
  cwd: process.cwd(),
  env: process.env,
  runPipeline: async (cwd, env) => {
    const run = await execa(process.execPath, [`${PACKAGE_ROOT}/bin/mcp-pipeline.mjs`, "verify"], {
      cwd,
      env,
      stdio: "inherit",
      reject: false,
    });
    return run.exitCode ?? 1;
  },
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
