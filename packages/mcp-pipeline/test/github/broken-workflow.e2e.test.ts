import { describe, expect, it } from "vitest";
import { removeRunnerUser } from "./runner.js";
import { simulate } from "./simulation.js";

// The bounded part of the GitHub simulation that `npm test` runs (about a minute: a cold `npm ci`
// as the runner user, then the failing step); the whole simulation of each event is
// `npm run test:github -- --event …`. It creates the runner user, so it needs root; under the
// simulation itself (the `test` job runs `npm test` as `runner`) it does not nest.
const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)("a broken workflow under act on the simulated runner", () => {
  it("fails the check job naming the step when a run: step calls a misspelt npm script", async () => {
    const result = await simulate({
      event: "pull_request",
      fork: false,
      jobs: ["check"],
      keep: "never",
      progress: () => {},
      edit: {
        "ci.yml": (text) => text.replace("- run: npm run check", "- run: npm run chekc"),
      },
    });
    await removeRunnerUser(result.user);
    expect(result.ok).toBe(false);
    expect(result.jobs).toMatchObject([
      { id: "check", name: "typecheck, lint, unit tests", result: "failure" },
    ]);
    expect(result.jobs[0]?.failedStep).toBe("npm run chekc");
    expect(result.verdicts.get("check")).toBe("must be success");
  }, 600_000);
});
