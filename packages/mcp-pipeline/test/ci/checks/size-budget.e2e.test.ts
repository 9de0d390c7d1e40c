import { describe, expect, it } from "vitest";
import { check, gateRuns, skipAllBut } from "../pipeline-harness.js";

const gate = gateRuns(skipAllBut("size-budget"));

describe("the size-budget gate", () => {
  it("passes the project's image, which then publishes (the control for every run below)", async () => {
    const run = await gate.expectControlPublishes();
    expect(check(run, "size-budget").summary).toMatch(/ of 150 MB budget \(\d+%\)$/);
  });

  it("fails when the budget is below the image's size, naming the biggest layers", async () => {
    const run = await gate.run(["--size-budget", "100"]);
    const result = await gate.expectTripped(run, "size-budget");
    expect(result.summary).toMatch(/ over the 100 MB budget /);
    const details = result.details.join("\n");
    expect(details).toMatch(/^(layers \(\d+\)|biggest \d+ of \d+ layers):$/m);
    // The biggest layer, with the instruction that made it: the Node.js runtime.
    expect(details).toMatch(/^ +\d+\.\d MB +\S+ +.*COPY --from=node /m);
  });

  it("fails when the compressed budget is below the compressed size, though the uncompressed one holds", async () => {
    const run = await gate.run(["--compressed-budget", "1"]);
    const result = await gate.expectTripped(run, "size-budget");
    expect(result.summary).toMatch(/^compressed .* over the 1 MB compressed budget /);
    expect(result.summary).not.toMatch(/150 MB budget/);
    expect(run.report.image.compressedBytes).toBeGreaterThan(1_000_000);
  });
});
