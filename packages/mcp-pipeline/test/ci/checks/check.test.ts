import { describe, expect, it, vi } from "vitest";
import { describeError, timed } from "../../../src/ci/checks/check.js";
import { ConfigError } from "../../../src/ci/errors.js";

describe("timed", () => {
  it("adds the id and the duration the check took to what the check returns", async () => {
    // A fake clock: the check "takes" 1234.4 ms without the test waiting for anything.
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const result = await timed("size-budget", async () => {
        vi.advanceTimersByTime(1234.4);
        return { status: "passed", summary: "fine", details: ["a"] };
      });
      expect(result).toEqual({
        id: "size-budget",
        status: "passed",
        summary: "fine",
        details: ["a"],
        durationMs: 1234,
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it("turns a thrown error into a failed result with the cause chain in details", async () => {
    const root = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3000"), {
      code: "ECONNREFUSED",
    });
    const result = await timed("healthcheck", async () => {
      throw new Error("container never became healthy\nafter 60 s", {
        cause: new Error("probe failed", { cause: root }),
      });
    });
    expect(result.status).toBe("failed");
    expect(result.summary).toBe("healthcheck could not run: container never became healthy");
    expect(result.details).toEqual([
      "container never became healthy\nafter 60 s",
      "caused by: probe failed",
      "caused by: connect ECONNREFUSED 127.0.0.1:3000 [ECONNREFUSED]",
    ]);
  });

  it("keeps the tail of stderr from a failed command", async () => {
    const execError = Object.assign(new Error("exit code 1"), {
      stderr: `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n")}\n`,
    });
    const result = await timed("trivy", () => Promise.reject(execError));
    expect(result.details[1]).toBe("stderr (last 20 lines):");
    expect(result.details[2]).toBe("  line 11");
    expect(result.details.at(-1)).toBe("  line 30");
  });

  it("describes thrown values that are not errors", async () => {
    const result = await timed("odd", () => Promise.reject("plain string"));
    expect(result).toMatchObject({ status: "failed", details: ["plain string"] });
  });
});

describe("describeError", () => {
  it("names typed errors and their codes", () => {
    expect(describeError(new ConfigError("bad"))).toEqual(["ConfigError: bad [CONFIG_INVALID]"]);
  });

  it("stops on a cause cycle", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(describeError(a)).toEqual(["a", "caused by: b"]);
  });
});
