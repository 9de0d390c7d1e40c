import { describe, expect, it } from "vitest";
import { buildErrorFrom } from "../../../src/ci/stages/build-failure.js";

describe("a build of several platforms", () => {
  it("names the platform whose image failed, in the message and the failure", async () => {
    const err = await buildErrorFrom(
      new Error(
        "node:24-bookworm-slim: failed to resolve source metadata: no match for platform in manifest [traceparent:1-2]",
      ),
      undefined,
      0,
      "linux/s390x",
    );
    expect(err.message).toBe(
      "the image did not build for linux/s390x: node:24-bookworm-slim: failed to resolve source metadata: no match for platform in manifest",
    );
    expect(err.failure.platform).toBe("linux/s390x");
  });
});
