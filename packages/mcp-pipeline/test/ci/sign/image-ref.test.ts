import { describe, expect, it } from "vitest";
import { ImageRefError } from "../../../src/ci/errors.js";
import { cosignArtifactRef, parseDigestRef } from "../../../src/ci/sign/image-ref.js";

const HEX = "21040e9def499ce2a91e8d66fd3ab9dededbb919ba3abbe0fd18aaff0c657b90";

describe("parseDigestRef", () => {
  it("splits a registry repository pinned by digest into its parts", () => {
    expect(parseDigestRef(`172.17.0.1:5001/todo-mcp@sha256:${HEX}`)).toEqual({
      registry: "172.17.0.1:5001",
      repository: "172.17.0.1:5001/todo-mcp",
      digest: `sha256:${HEX}`,
      ref: `172.17.0.1:5001/todo-mcp@sha256:${HEX}`,
    });
    expect(parseDigestRef(`ghcr.io/owner/app@sha256:${HEX}`).registry).toBe("ghcr.io");
    expect(parseDigestRef(`localhost/app@sha256:${HEX}`).registry).toBe("localhost");
  });

  it("attributes a reference without a registry host to Docker Hub", () => {
    expect(parseDigestRef(`library/node@sha256:${HEX}`).registry).toBe("docker.io");
    expect(parseDigestRef(`node@sha256:${HEX}`).registry).toBe("docker.io");
  });

  it("refuses a tag, saying that a tag can move and a digest is needed", () => {
    expect(() => parseDigestRef("ghcr.io/owner/app:1.2.3")).toThrowError(ImageRefError);
    expect(() => parseDigestRef("ghcr.io/owner/app:1.2.3")).toThrowError(
      /names no digest.*tag can be moved.*repository@sha256/,
    );
    expect(() => parseDigestRef("172.17.0.1:5001/app")).toThrowError(/names no digest/);
  });

  it("refuses a tag next to a digest and shows the reference without it", () => {
    expect(() => parseDigestRef(`ghcr.io/owner/app:1.2@sha256:${HEX}`)).toThrowError(
      `drop the tag and pass ghcr.io/owner/app@sha256:${HEX}`,
    );
  });

  it("refuses a digest that is not sha256 with 64 lowercase hex digits", () => {
    expect(() => parseDigestRef("ghcr.io/owner/app@sha256:abc")).toThrowError(
      /not a sha256 digest/,
    );
    expect(() => parseDigestRef(`ghcr.io/owner/app@sha512:${HEX}`)).toThrowError(
      /not a sha256 digest/,
    );
    expect(() => parseDigestRef(`ghcr.io/owner/app@sha256:${HEX.toUpperCase()}`)).toThrowError(
      /not a sha256 digest/,
    );
  });

  it("refuses an empty or upper-case repository name", () => {
    expect(() => parseDigestRef(`@sha256:${HEX}`)).toThrowError(/not a repository name/);
    expect(() => parseDigestRef(`ghcr.io/Owner/App@sha256:${HEX}`)).toThrowError(
      /not a repository name/,
    );
  });

  it("carries the error code IMAGE_REF_INVALID", () => {
    try {
      parseDigestRef("app:latest");
      expect.unreachable();
    } catch (error) {
      expect((error as ImageRefError).code).toBe("IMAGE_REF_INVALID");
    }
  });
});

describe("cosignArtifactRef", () => {
  it("names the signature and attestation tags cosign writes beside the image", () => {
    const ref = parseDigestRef(`172.17.0.1:5001/todo-mcp@sha256:${HEX}`);
    expect(cosignArtifactRef(ref, "sig")).toBe(`172.17.0.1:5001/todo-mcp:sha256-${HEX}.sig`);
    expect(cosignArtifactRef(ref, "att")).toBe(`172.17.0.1:5001/todo-mcp:sha256-${HEX}.att`);
  });
});
