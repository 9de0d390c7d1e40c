import { describe, expect, it } from "vitest";
import { EnvironmentError, ImageRefError } from "../../../src/ci/errors.js";
import { attest, signImage } from "../../../src/ci/sign/cosign-sign.js";
import { verifyAttestation, verifyImage } from "../../../src/ci/sign/cosign-verify.js";

// The checks signImage, attest and the verifiers make before cosign runs: these reach their
// failure branches without cosign, a registry or a network.

const HEX = "21040e9def499ce2a91e8d66fd3ab9dededbb919ba3abbe0fd18aaff0c657b90";
const registry = { address: "127.0.0.1:9", username: "u", password: "p", plainHttp: true };
const key = { kind: "key", keyFile: "/nonexistent/cosign.key", password: "pw" } as const;
const noCosign = { PATH: "/nonexistent-bin" };

describe("before cosign runs", () => {
  it("refuses to sign, attest or verify a tag", async () => {
    const tag = "127.0.0.1:9/app:1.2.3";
    await expect(
      signImage({ ref: tag, mode: key, tlogUpload: false, registry, env: noCosign }),
    ).rejects.toThrowError(ImageRefError);
    await expect(
      attest({
        ref: tag,
        predicateFile: "p.json",
        type: "cyclonedx",
        mode: key,
        tlogUpload: false,
        registry,
        env: noCosign,
      }),
    ).rejects.toThrowError(ImageRefError);
    const expected = { kind: "key", publicKey: "cosign.pub" } as const;
    await expect(
      verifyImage({ ref: tag, expected, requireTlog: false, registry, env: noCosign }),
    ).rejects.toThrowError(ImageRefError);
    await expect(
      verifyAttestation({
        ref: tag,
        type: "slsaprovenance1",
        expected,
        requireTlog: false,
        registry,
        env: noCosign,
      }),
    ).rejects.toThrowError(ImageRefError);
  });

  it("refuses keyless signing when the job has no OIDC token", async () => {
    await expect(
      signImage({
        ref: `127.0.0.1:9/app@sha256:${HEX}`,
        mode: { kind: "keyless" },
        tlogUpload: true,
        registry,
        env: { PATH: process.env.PATH },
      }),
    ).rejects.toThrowError(/grant the job `permissions: id-token: write`/);
  });

  it("says to run mcp-pipeline setup when cosign is not on PATH", async () => {
    const error = await signImage({
      ref: `127.0.0.1:9/app@sha256:${HEX}`,
      mode: key,
      tlogUpload: false,
      registry,
      env: noCosign,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(
      /cosign was not found on PATH: run `mcp-pipeline setup`/,
    );
  });
});
