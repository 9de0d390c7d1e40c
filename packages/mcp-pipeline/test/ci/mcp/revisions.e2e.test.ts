import { describe, expect, it } from "vitest";
import { check, configVariant, gateRuns, skipAllBut } from "../pipeline-harness.js";
import { brokenDiscover, speaks2025Only, toolOnlyUnder2025 } from "../variants.js";

// The MCP gates under every revision mcp.revisions claims, through the pipeline, on image variants
// of the project's own app: one that speaks 2025-11-25 only, one whose server/discover is broken,
// one whose tools differ between the revisions. The control, shared by the block, is the
// project's image with its own configuration (both revisions claimed): it must publish.

const GATES = ["compose-smoke", "mcp-conformance", "mcp-contract"] as const;
const only2025 = (name: string) =>
  configVariant(name, (doc) => doc.setIn(["mcp", "revisions"], ["2025-11-25"]));

describe("the MCP gates under every claimed revision", () => {
  const gate = gateRuns(skipAllBut(...GATES));

  it("pass the project's image at both revisions, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    for (const id of GATES) expect(check(run, id).status, id).toBe("passed");
    const conformance = check(run, "mcp-conformance");
    expect(conformance.markdown).toMatch(/^\| scenario \| 2026-07-28 \| 2025-11-25 \|$/m);
    expect(conformance.markdown).toMatch(/^\| `tools-list` \| ✓ passed \| ✓ passed \|$/m);
    expect(conformance.markdown).toMatch(/^\| `server-stateless` \| ✓ passed \(4 n\/a\) \| — \|$/m);
    expect(check(run, "compose-smoke").details.join("\n")).toMatch(/2026-07-28: create_task: ok/);
  });

  it("fail, naming 2026-07-28, for an image that speaks 2025-11-25 only", async () => {
    const run = await gate.run(speaks2025Only());
    const conformance = await gate.expectTripped(run, "mcp-conformance");
    expect(conformance.summary).toMatch(
      /the server does not speak 2026-07-28, which mcp\.revisions claims/,
    );
    expect(conformance.markdown).toMatch(/\*\*2026-07-28: not spoken\.\*\*/);
    // The 2025-11-25 leg ran, and passed.
    expect(conformance.markdown).toMatch(/^\| `server-initialize` \| not run \| ✓ passed \|$/m);
    for (const id of ["compose-smoke", "mcp-contract"]) {
      expect(check(run, id).status, id).toBe("failed");
      expect(`${check(run, id).summary}\n${check(run, id).details.join("\n")}`, id).toMatch(
        /does not speak MCP revision 2026-07-28/,
      );
    }
  });

  it("pass the same image when mcp.revisions claims 2025-11-25 only", async () => {
    const run = await gate.run([...speaks2025Only(), ...only2025("claims-2025"), "--no-publish"]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    for (const id of GATES) expect(check(run, id).status, id).toBe("passed");
    expect(check(run, "mcp-conformance").markdown).toMatch(/^\| scenario \| 2025-11-25 \|$/m);
  });

  it("fail for an image whose server/discover is broken, naming the revision and the server's error", async () => {
    const run = await gate.run(brokenDiscover());
    const conformance = await gate.expectTripped(run, "mcp-conformance");
    expect(conformance.summary).toMatch(/does not speak 2026-07-28/);
    expect(conformance.details.join("\n")).toMatch(/server\/discover failed/);
    expect(check(run, "mcp-contract").status).toBe("failed");
    expect(check(run, "compose-smoke").status).toBe("failed");
  });

  it("fail the contract for an image whose tools differ between revisions, naming the tool", async () => {
    const run = await gate.run(toolOnlyUnder2025());
    const contract = await gate.expectTripped(run, "mcp-contract");
    expect(contract.summary).toMatch(/tools differ between revisions: legacy_only/);
    expect(contract.markdown).toMatch(/`legacy_only` \| 2026-07-28 → 2025-11-25 \| `tool-added`/);
  });

  it("pass the contract for the same image once the difference is declared", async () => {
    const declared = configVariant("declared-difference", (doc) =>
      doc.setIn(["mcp", "contract", "revisionDifferences"], ["legacy_only"]),
    );
    const run = await gate.run([...toolOnlyUnder2025(), ...declared, "--no-publish"]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "mcp-contract").details.join("\n")).toMatch(/~ declared +legacy_only/);
  });
});
