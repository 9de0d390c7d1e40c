import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../toolchain/helpers.js";
import {
  check,
  dockerfileVariant,
  expectTripped,
  runPipeline,
  skipAllBut,
} from "../pipeline-harness.js";

// The MCP gates on the image itself, through the pipeline: the same compose stack as the smoke
// test, the official conformance suite, and the tool contract against mcp-contract.json.
const scratch = join(repoRoot, ".pipeline-test");

/** The repository's configuration plus `extra` YAML, as a config file for --config. */
function configWith(name: string, extra: string): string {
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `${name}.config.yaml`);
  const own = readFileSync(join(repoRoot, "pipeline.config.yaml"), "utf8");
  writeFileSync(file, `${own.replace(/^mcp:[\s\S]*$/m, "")}\n${extra}`);
  return file;
}

// The server's own setting lets the attacker's Host through: the configuration mistake the
// suite's dns-rebinding scenario exists to catch. Compose reads MCP_ALLOWED_HOSTS.
const WIDE_OPEN = { MCP_ALLOWED_HOSTS: "localhost,127.0.0.1,mcp-server,evil.example.com" };

describe("the MCP gates on the running image", () => {
  it("fails mcp-conformance on dns-rebinding-protection when the server accepts any Host", async () => {
    const run = await runPipeline(skipAllBut("mcp-conformance"), WIDE_OPEN);
    const conformance = await expectTripped(run, "mcp-conformance");
    expect(conformance.summary).toMatch(/1 failed \(dns-rebinding-protection\)/);
    expect(conformance.markdown).toMatch(/dns-rebinding-protection/);
  });

  it("passes the same run when the baseline lists that scenario, reporting it as an expected failure", async () => {
    const baseline = join(scratch, "conformance-baseline.yml");
    writeFileSync(baseline, "server:\n  - dns-rebinding-protection\n");
    const config = configWith(
      "baseline",
      `mcp:\n  path: /mcp\n  conformance:\n    expectedFailures: ${JSON.stringify(baseline)}\n`,
    );
    const run = await runPipeline(
      ["--config", config, "--no-publish", ...skipAllBut("mcp-conformance")],
      WIDE_OPEN,
    );
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "mcp-conformance").summary).toMatch(
      /3\/4 scenarios passed, 1 expected failure \(dns-rebinding-protection\)/,
    );
  });

  it("fails mcp-contract for an image that renames a tool, naming the rename", async () => {
    const dockerfile = dockerfileVariant("renamed-tool", (t) =>
      t.replace(
        "RUN npm run build \\",
        `RUN npm run build && sed -i 's/"get_task"/"fetch_task"/g' dist/mcp/main.js \\`,
      ),
    );
    const run = await runPipeline(["--dockerfile", dockerfile, ...skipAllBut("mcp-contract")]);
    const contract = await expectTripped(run, "mcp-contract");
    expect(contract.markdown).toMatch(/tool-renamed/);
    expect(`${contract.summary}\n${contract.details.join("\n")}`).toMatch(/get_task/);
  });

  it("skips both MCP gates, saying why, for an image the configuration does not call an MCP server", async () => {
    const config = configWith("not-mcp", "");
    const run = await runPipeline([
      "--config",
      config,
      "--no-publish",
      ...skipAllBut("mcp-conformance", "mcp-contract"),
    ]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    for (const id of ["mcp-conformance", "mcp-contract"]) {
      expect(check(run, id)).toMatchObject({ status: "skipped" });
      expect(check(run, id).summary).toMatch(/not declared an MCP server/);
    }
  });
});
