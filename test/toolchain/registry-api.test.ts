import { describe, expect, it } from "vitest";
import { mirrorPath, splitRef } from "../../toolchain/registry-api.js";

describe("mirrorPath", () => {
  it.each([
    ["node:24-bookworm-slim", "library/node:24-bookworm-slim"],
    ["debian:bookworm-slim", "library/debian:bookworm-slim"],
    ["bitnami/redis:7", "bitnami/redis:7"],
    ["gcr.io/distroless/cc-debian12:latest", "distroless/cc-debian12:latest"],
    ["localhost:5000/app:1", "app:1"],
  ])("maps %s to %s the way registry mirrors do", (ref, path) => {
    expect(mirrorPath(ref)).toBe(path);
  });
});

describe("splitRef", () => {
  it("splits a tag from a repository", () => {
    expect(splitRef("library/node:24-bookworm-slim")).toEqual({
      repo: "library/node",
      tag: "24-bookworm-slim",
    });
  });

  it("defaults the tag to latest and ignores a port in the host", () => {
    expect(splitRef("distroless/cc-debian12")).toEqual({
      repo: "distroless/cc-debian12",
      tag: "latest",
    });
    expect(splitRef("localhost:5000/app")).toEqual({ repo: "localhost:5000/app", tag: "latest" });
  });
});
