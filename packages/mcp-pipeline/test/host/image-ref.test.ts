import { describe, expect, it } from "vitest";
import { parseImageRef } from "../../src/host/image-ref.js";

describe("parseImageRef", () => {
  it.each([
    ["node:24-bookworm-slim", "docker.io", "library/node", "24-bookworm-slim"],
    ["debian", "docker.io", "library/debian", undefined],
    ["bitnami/redis:7", "docker.io", "bitnami/redis", "7"],
    ["gcr.io/distroless/cc-debian12:latest", "gcr.io", "distroless/cc-debian12", "latest"],
    ["localhost:5000/app:1", "localhost:5000", "app", "1"],
    ["localhost/app", "localhost", "app", undefined],
    ["172.17.0.1:5001/o/r", "172.17.0.1:5001", "o/r", undefined],
    ["ghcr.io/owner/todo-mcp", "ghcr.io", "owner/todo-mcp", undefined],
  ])("reads %s as registry %s, path %s, tag %s", (ref, registry, path, tag) => {
    expect(parseImageRef(ref)).toEqual({ registry, path, tag, digest: undefined });
  });

  it("separates a digest from the tag", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(parseImageRef(`ghcr.io/o/r:1.2.3@${digest}`)).toEqual({
      registry: "ghcr.io",
      path: "o/r",
      tag: "1.2.3",
      digest,
    });
    expect(parseImageRef(`localhost:5000/app@${digest}`).tag).toBeUndefined();
  });
});
