#!/usr/bin/env node
// The package's one command. Plain Node with no dependencies until the Node version is settled:
// on a Node older than the package supports it runs itself again on the pinned Node.js (fetched
// and checked by node-runtime.mjs), then hands over to the compiled CLI.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ensureNode, fail } from "./node-runtime.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// Set on the run on the pinned Node, so that it never starts itself again.
const RERUN = "MCP_PIPELINE_ON_PINNED_NODE";
const nodeBin = process.env[RERUN] === "1" ? undefined : ensureNode("minimum");
if (nodeBin) {
  const child = spawnSync(
    join(nodeBin, "node"),
    [fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: {
        ...process.env,
        [RERUN]: "1",
        PATH: [nodeBin, process.env.PATH ?? ""].join(delimiter),
      },
    },
  );
  if (child.error) fail(`could not start ${nodeBin}/node: ${child.error.message}`);
  process.exit(child.status ?? (child.signal ? 130 : 1));
}
const cli = join(here, "..", "dist", "cli.js");
if (!existsSync(cli)) {
  fail(
    `mcp-pipeline is not built (${cli} is missing).`,
    "in the package's own repository run `npm run build -w mcp-pipeline`; an installed package always has it.",
  );
}
await import(pathToFileURL(cli).href);
