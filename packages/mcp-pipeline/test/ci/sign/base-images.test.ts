import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { baseImageRefs } from "../../../src/ci/sign/base-images.js";
import { repoRoot } from "../../toolchain/helpers.js";

describe("baseImageRefs", () => {
  it("finds this repository's one base image through its ARG default, not its stages or scratch", () => {
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
    expect(baseImageRefs(dockerfile, {})).toEqual(["node:24-bookworm-slim"]);
  });

  it("takes a build arg over the ARG default, and reads --platform and continuation lines", () => {
    const dockerfile = [
      "ARG BASE=debian:bookworm-slim",
      "FROM --platform=$BUILDPLATFORM golang:1.26 \\",
      "  AS build",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile's own ${ARG} syntax
      "FROM ${BASE} AS runtime",
      "FROM build AS again",
      "FROM scratch",
    ].join("\n");
    expect(baseImageRefs(dockerfile, {})).toEqual(["golang:1.26", "debian:bookworm-slim"]);
    expect(baseImageRefs(dockerfile, { BASE: "alpine:3.22" })).toEqual([
      "golang:1.26",
      "alpine:3.22",
    ]);
  });
});
