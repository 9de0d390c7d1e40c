import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildErrorFrom,
  parseStepFailure,
  stepOutput,
} from "../../../src/ci/stages/build-failure.js";

// What the engine answers for a failed RUN, and Dagger's plain trace of it (colours included).
const MESSAGE =
  'process "/bin/sh -c echo \\"bundling went wrong on purpose\\" >&2 && exit 3" did not complete successfully: exit code: 3 [traceparent:ee4fa068dee998ff04a3bc2f9ebd09dc-a04ea35cbfc54110]';
const TRACE = [
  "\u001b[95m11  : \u001b[0m\u001b[90;2m┆ \u001b[0m[build 2/4] COPY app ./app\u001b[34m CACHED\u001b[0m\u001b[90m [0.0s]\u001b[0m",
  '\u001b[95m12  : \u001b[0m\u001b[90;2m┆ \u001b[0m[build 3/4] RUN echo "bundling went wrong on purpose" >&2 && exit 3',
  "\u001b[95m13  : \u001b[0m\u001b[90;2m┆ \u001b[0m\u001b[90m[0.1s] \u001b[0m\u001b[90m|\u001b[0m another step's line",
  "\u001b[95m12  : \u001b[0m\u001b[90;2m┆ \u001b[0m\u001b[90m[0.1s] \u001b[0m\u001b[90m|\u001b[0m bundling went wrong on purpose",
  "\u001b[95m12  : \u001b[0m\u001b[90;2m┆ \u001b[0m\u001b[90m[0.2s] \u001b[0m\u001b[90m|\u001b[0m second line",
  '\u001b[95m12  : \u001b[0m\u001b[90;2m┆ \u001b[0m\u001b[33m! process "/bin/sh -c echo \\"bundling went wrong on purpose\\" >&2 && exit 3" did not complete successfully: exit code: 3\u001b[0m',
].join("\n");

describe("parseStepFailure", () => {
  it("reads the command and exit code of a failed step from the engine's message", () => {
    expect(parseStepFailure(MESSAGE)).toEqual({
      command: '/bin/sh -c echo "bundling went wrong on purpose" >&2 && exit 3',
      exitCode: 3,
    });
  });

  it("says nothing for a failure that is not a step exiting", () => {
    expect(parseStepFailure("failed to resolve source metadata for docker.io/library/node")).toBe(
      undefined,
    );
  });
});

describe("stepOutput", () => {
  it("takes the failing step's log lines from the trace, and no other step's", () => {
    expect(stepOutput(TRACE, MESSAGE)).toEqual(["bundling went wrong on purpose", "second line"]);
  });

  it("takes the output of the platform whose span printed it, when another platform's failed first and silent", () => {
    const silent =
      '\u001b[95m9   : \u001b[0m\u001b[90;2m┆ \u001b[0m\u001b[33m! process "/bin/sh -c echo \\"bundling went wrong on purpose\\" >&2 && exit 3" did not complete successfully: exit code: 3\u001b[0m';
    expect(stepOutput(`${silent}\n${TRACE}`, MESSAGE)).toEqual([
      "bundling went wrong on purpose",
      "second line",
    ]);
  });

  it("finds nothing when the trace lacks the failing step", () => {
    expect(stepOutput(TRACE.split("\n").slice(0, 2).join("\n"), MESSAGE)).toEqual([]);
  });
});

describe("buildErrorFrom", () => {
  it("puts the command, the exit code and the step's output in one message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trace-"));
    try {
      writeFileSync(join(dir, "trace.log"), TRACE);
      const err = await buildErrorFrom(new Error(MESSAGE), join(dir, "trace.log"), 0);
      expect(err.message).toBe(
        'the image did not build: `/bin/sh -c echo "bundling went wrong on purpose" >&2 && exit 3` exited with 3\nbundling went wrong on purpose\nsecond line',
      );
      expect(err.failure.exitCode).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the engine's reason, without the trace id, when no step failed", async () => {
    const err = await buildErrorFrom(
      new Error("failed to solve: dockerfile parse error on line 3 [traceparent:abc-def]"),
      undefined,
    );
    expect(err.message).toBe(
      "the image did not build: failed to solve: dockerfile parse error on line 3",
    );
  });
});
