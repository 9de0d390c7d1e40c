import { describe, expect, it } from "vitest";
import { EnvironmentError } from "../../../src/ci/errors.js";
import { assertKeylessReady } from "../../../src/ci/sign/cosign-sign.js";
import { parseAttestationOutput, parseVerifyOutput } from "../../../src/ci/sign/cosign-verify.js";

const HEX = "21040e9def499ce2a91e8d66fd3ab9dededbb919ba3abbe0fd18aaff0c657b90";

describe("parseVerifyOutput", () => {
  it("reads a key-signed payload as cosign v2.6.5 prints it, with no identity or log entry", () => {
    // Captured from `cosign verify --key … --insecure-ignore-tlog=true --output json` here.
    const stdout = `\n[{"critical":{"identity":{"docker-reference":"172.17.0.1:5001/sign-play"},"image":{"docker-manifest-digest":"sha256:${HEX}"},"type":"cosign container image signature"},"optional":null}]`;
    expect(parseVerifyOutput(stdout)).toEqual([
      {
        dockerReference: "172.17.0.1:5001/sign-play",
        digest: `sha256:${HEX}`,
        identity: undefined,
        tlog: undefined,
      },
    ]);
  });

  it("reads a keyless payload's certificate identity and transparency-log entry", () => {
    const stdout = JSON.stringify([
      {
        critical: {
          identity: { "docker-reference": "ghcr.io/o/r" },
          image: { "docker-manifest-digest": `sha256:${HEX}` },
          type: "cosign container image signature",
        },
        optional: {
          Bundle: {
            SignedEntryTimestamp: "MEUC",
            Payload: { body: "e30=", integratedTime: 1764108000, logIndex: 123456, logID: "c0d2" },
          },
          Issuer: "https://token.actions.githubusercontent.com",
          Subject: "https://github.com/o/r/.github/workflows/pipeline.yml@refs/heads/main",
        },
      },
    ]);
    expect(parseVerifyOutput(stdout)[0]).toEqual({
      dockerReference: "ghcr.io/o/r",
      digest: `sha256:${HEX}`,
      identity: {
        subject: "https://github.com/o/r/.github/workflows/pipeline.yml@refs/heads/main",
        issuer: "https://token.actions.githubusercontent.com",
      },
      tlog: { logIndex: 123456, integratedTime: 1764108000 },
    });
  });

  it("says so when cosign printed no JSON", () => {
    expect(() => parseVerifyOutput("Verification for …")).toThrowError(/printed no JSON array/);
  });
});

describe("parseAttestationOutput", () => {
  it("decodes each DSSE envelope's in-toto statement", () => {
    const statement = {
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://cyclonedx.org/bom",
      subject: [{ name: "172.17.0.1:5001/sign-play", digest: { sha256: HEX } }],
      predicate: { bomFormat: "CycloneDX", specVersion: "1.6" },
    };
    const line = JSON.stringify({
      payloadType: "application/vnd.in-toto+json",
      payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
      signatures: [{ keyid: "", sig: "MEUC" }],
    });
    expect(parseAttestationOutput(`${line}\n${line}\n`)).toEqual([
      {
        predicateType: "https://cyclonedx.org/bom",
        subjects: statement.subject,
        predicate: statement.predicate,
      },
      {
        predicateType: "https://cyclonedx.org/bom",
        subjects: statement.subject,
        predicate: statement.predicate,
      },
    ]);
  });
});

describe("assertKeylessReady", () => {
  it("passes when GitHub Actions provides the OIDC token request variables", () => {
    expect(() =>
      assertKeylessReady({
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://pipelines.actions.githubusercontent.com/x",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t",
      }),
    ).not.toThrow();
  });

  it("tells the user to grant id-token: write when the token is unavailable", () => {
    expect(() => assertKeylessReady({})).toThrowError(EnvironmentError);
    expect(() => assertKeylessReady({})).toThrowError(
      /ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are unset: grant the job `permissions: id-token: write`/,
    );
    expect(() => assertKeylessReady({ ACTIONS_ID_TOKEN_REQUEST_URL: "https://x" })).toThrowError(
      /ACTIONS_ID_TOKEN_REQUEST_TOKEN is unset/,
    );
  });
});
