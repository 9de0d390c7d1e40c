import { describe, expect, it } from "vitest";
import { CHECK_IDS, CHECKS, SIGNATURE_CHECK_ID } from "../../src/ci/checks/index.js";
import { parseArgs } from "../../src/ci/command.js";

const argv = (...args: string[]) => ["node", "mcp-pipeline", ...args];

describe("--skip takes the check table's ids", () => {
  it("lists every image check, then the signature gate, in report order", () => {
    expect(CHECK_IDS).toEqual([...CHECKS.map((c) => c.id), SIGNATURE_CHECK_ID]);
  });

  it("accepts the signature gate like any other, repeatable", () => {
    const { opts } = parseArgs(argv("verify", "--skip", "trivy", "--skip", "signature"), {
      quiet: true,
    });
    expect(opts.skip).toEqual(["trivy", "signature"]);
  });

  it("refuses an id that is no gate, naming the ones it takes", () => {
    let message = "";
    try {
      parseArgs(argv("--skip", "signatures"), { quiet: true });
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toMatch(/signatures/);
    expect(message).toMatch(/Allowed choices are .*non-root.*signature/);
  });
});
