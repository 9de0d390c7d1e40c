import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  check,
  configVariant,
  contextVariant,
  gateRuns,
  runPipeline,
  scratchDir,
  skipAllBut,
} from "../pipeline-harness.js";

// The MCP gates on the image itself, through the pipeline: the same compose stack as the smoke
// test, the official conformance suite, and the tool contract against mcp-contract.json.

// The server's own setting lets the attacker's Host through: the configuration mistake the
// suite's dns-rebinding scenario exists to catch. Compose reads MCP_ALLOWED_HOSTS.
const WIDE_OPEN = { MCP_ALLOWED_HOSTS: "localhost,127.0.0.1,mcp-server,evil.example.com" };

describe("the mcp-conformance gate on the running image", () => {
  const gate = gateRuns(skipAllBut("mcp-conformance"));

  it("passes the project's image, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "mcp-conformance").status).toBe("passed");
  });

  it("fails on dns-rebinding-protection at both revisions when the server accepts any Host", async () => {
    const run = await gate.run([], WIDE_OPEN);
    const conformance = await gate.expectTripped(run, "mcp-conformance");
    expect(conformance.summary).toMatch(
      /2 failed \(dns-rebinding-protection@2026-07-28, dns-rebinding-protection@2025-11-25\)/,
    );
    expect(conformance.markdown).toMatch(
      /\| `dns-rebinding-protection` \| ✗ failed \| ✗ failed \|/,
    );
  });

  it("passes the same run when the baseline lists that scenario, reporting it as an expected failure at each revision", async () => {
    const baseline = join(scratchDir("conformance-baseline"), "conformance-baseline.yml");
    writeFileSync(baseline, "server:\n  - dns-rebinding-protection\n");
    const run = await gate.run(
      [
        ...configVariant("baseline", (doc) =>
          doc.setIn(["mcp", "conformance", "expectedFailures"], baseline),
        ),
        "--no-publish",
      ],
      WIDE_OPEN,
    );
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "mcp-conformance").summary).toMatch(
      /2 expected failures \(dns-rebinding-protection@2026-07-28, dns-rebinding-protection@2025-11-25\)/,
    );
  });
});

describe("the mcp-contract gate on the running image", () => {
  const gate = gateRuns(skipAllBut("mcp-contract"));

  it("passes the project's image, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "mcp-contract").status).toBe("passed");
  });

  it("fails for an image that renames a tool, naming the rename", async () => {
    const run = await gate.run(
      contextVariant("renamed-tool", (t) =>
        t.replace(
          "RUN npm run build \\",
          `RUN npm run build && sed -i 's/"get_task"/"fetch_task"/g' dist/mcp/main.js \\`,
        ),
      ),
    );
    const contract = await gate.expectTripped(run, "mcp-contract");
    expect(contract.markdown).toMatch(/tool-renamed/);
    expect(`${contract.summary}\n${contract.details.join("\n")}`).toMatch(/get_task/);
  });

  it("fails in CI without a snapshot; outside CI the same run writes it and passes", async () => {
    const file = join(scratchDir("contract"), "mcp-contract.json");
    const elsewhere = configVariant("contract-elsewhere", (doc) =>
      doc.setIn(["mcp", "contract", "file"], file),
    );
    const inCi = await gate.run(elsewhere, { CI: "true" });
    const failed = await gate.expectTripped(inCi, "mcp-contract");
    expect(failed.summary).toContain("no tool-contract snapshot");
    expect(existsSync(file)).toBe(false);
    const local = await gate.run(elsewhere, { CI: "", GITHUB_ACTIONS: "" });
    expect(local.exitCode, local.output.slice(-3000)).toBe(0);
    expect(check(local, "mcp-contract").summary).toMatch(
      /^no snapshot yet: wrote .* \(6 tools\); commit it$/,
    );
    expect(JSON.parse(readFileSync(file, "utf8")).tools).toHaveLength(6);
  });
});

describe("the MCP gates for an image that is not an MCP server", () => {
  it("skips both, saying why, when the configuration has no mcp section", async () => {
    const run = await runPipeline([
      ...configVariant("not-mcp", (doc) => doc.delete("mcp")),
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
