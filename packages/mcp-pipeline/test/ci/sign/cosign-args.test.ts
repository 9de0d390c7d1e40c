import { describe, expect, it } from "vitest";
import { PREDICATE_TYPE_URI } from "../../../src/ci/sign/cosign-args.js";
import {
  attestArgs,
  type KeyPemSigning,
  secretNamesOf,
  signArgs,
  signingEnv,
} from "../../../src/ci/sign/cosign-sign.js";
import { verifyArgs, verifyCommand, verifyEnv } from "../../../src/ci/sign/cosign-verify.js";
import { parseDigestRef } from "../../../src/ci/sign/image-ref.js";

const HEX = "21040e9def499ce2a91e8d66fd3ab9dededbb919ba3abbe0fd18aaff0c657b90";
const ref = parseDigestRef(`172.17.0.1:5001/todo-mcp@sha256:${HEX}`);
const PASSWORD = "correct-horse-battery-staple";
const PEM =
  "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nZmFrZQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const local = { plainHttp: true };
const https = { plainHttp: false };

describe("signArgs", () => {
  it("signs the digest with a key file, without a transparency log, over plain HTTP", () => {
    expect(
      signArgs(
        ref,
        { kind: "key", keyFile: "/state/cosign.key", password: PASSWORD },
        false,
        local,
      ),
    ).toEqual([
      "sign",
      "--yes",
      "--key",
      "/state/cosign.key",
      "--tlog-upload=false",
      "--allow-http-registry",
      ref.ref,
    ]);
  });

  it("reads a PEM key from COSIGN_KEY in the environment, never from argv", () => {
    const mode: KeyPemSigning = { kind: "key", keyPem: PEM, password: PASSWORD };
    const args = signArgs(ref, mode, true, https);
    expect(args).toContain("env://COSIGN_KEY");
    expect(args).toContain("--tlog-upload=true");
    expect(args).not.toContain("--allow-http-registry");
    expect(args.join(" ")).not.toContain(PASSWORD);
    expect(args.join(" ")).not.toContain("ZmFrZQ");
    expect(signingEnv(mode)).toEqual({ COSIGN_PASSWORD: PASSWORD, COSIGN_KEY: PEM });
  });

  it("always sets COSIGN_PASSWORD in key mode so cosign never prompts, even when it is empty", () => {
    expect(signingEnv({ kind: "key", keyFile: "k", password: "" })).toEqual({
      COSIGN_PASSWORD: "",
    });
  });

  it("signs keylessly with GitHub Actions' OIDC token and no secret at all", () => {
    const args = signArgs(ref, { kind: "keyless" }, true, https);
    expect(args).toEqual([
      "sign",
      "--yes",
      "--oidc-provider=github-actions",
      "--tlog-upload=true",
      ref.ref,
    ]);
    expect(signingEnv({ kind: "keyless" })).toEqual({});
  });

  it("skips TLS verification only when asked to", () => {
    expect(
      signArgs(ref, { kind: "keyless" }, true, { plainHttp: false, insecureSkipTlsVerify: true }),
    ).toContain("--allow-insecure-registry");
  });
});

describe("attestArgs", () => {
  it("attests a predicate file of the given type about the digest", () => {
    expect(
      attestArgs(
        ref,
        "/tmp/sbom.cdx.json",
        "cyclonedx",
        { kind: "key", keyFile: "/state/cosign.key", password: PASSWORD },
        false,
        local,
      ),
    ).toEqual([
      "attest",
      "--yes",
      "--key",
      "/state/cosign.key",
      "--type",
      "cyclonedx",
      "--predicate",
      "/tmp/sbom.cdx.json",
      "--tlog-upload=false",
      "--allow-http-registry",
      ref.ref,
    ]);
  });

  it("maps both predicate types to the in-toto URIs cosign writes", () => {
    expect(PREDICATE_TYPE_URI).toEqual({
      cyclonedx: "https://cyclonedx.org/bom",
      slsaprovenance1: "https://slsa.dev/provenance/v1",
    });
  });
});

describe("verifyArgs", () => {
  it("verifies with a public key file and ignores the transparency log when told to", () => {
    expect(verifyArgs(ref, { kind: "key", publicKey: "/state/cosign.pub" }, false, local)).toEqual([
      "verify",
      "--key",
      "/state/cosign.pub",
      "--insecure-ignore-tlog=true",
      "--allow-http-registry",
      "--output",
      "json",
      ref.ref,
    ]);
  });

  it("passes a PEM public key through COSIGN_PUBLIC_KEY", () => {
    const pub = "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n";
    expect(verifyArgs(ref, { kind: "key", publicKey: pub }, true, https)).toEqual([
      "verify",
      "--key",
      "env://COSIGN_PUBLIC_KEY",
      "--output",
      "json",
      ref.ref,
    ]);
    expect(verifyEnv({ kind: "key", publicKey: pub })).toEqual({ COSIGN_PUBLIC_KEY: pub });
    expect(verifyEnv({ kind: "key", publicKey: "/state/cosign.pub" })).toEqual({});
  });

  it("verifies an attestation of one predicate type", () => {
    expect(
      verifyArgs(ref, { kind: "key", publicKey: "cosign.pub" }, false, local, "slsaprovenance1"),
    ).toEqual([
      "verify-attestation",
      "--type",
      "slsaprovenance1",
      "--key",
      "cosign.pub",
      "--insecure-ignore-tlog=true",
      "--allow-http-registry",
      "--output",
      "json",
      ref.ref,
    ]);
  });

  it("verifies a keyless signature against an exact identity and the issuer", () => {
    expect(
      verifyArgs(
        ref,
        {
          kind: "keyless",
          certificateIdentity:
            "https://github.com/o/r/.github/workflows/pipeline.yml@refs/heads/main",
          certificateOidcIssuer: "https://token.actions.githubusercontent.com",
        },
        true,
        https,
      ),
    ).toEqual([
      "verify",
      "--certificate-identity",
      "https://github.com/o/r/.github/workflows/pipeline.yml@refs/heads/main",
      "--certificate-oidc-issuer",
      "https://token.actions.githubusercontent.com",
      "--output",
      "json",
      ref.ref,
    ]);
  });

  it("verifies a keyless signature against an identity regexp", () => {
    const args = verifyArgs(
      ref,
      {
        kind: "keyless",
        certificateIdentityRegexp: "^https://github\\.com/o/r/",
        certificateOidcIssuer: "https://token.actions.githubusercontent.com",
      },
      true,
      https,
    );
    expect(args.slice(1, 3)).toEqual([
      "--certificate-identity-regexp",
      "^https://github\\.com/o/r/",
    ]);
  });

  it("refuses keyless verification without an identity, which would accept any workflow", () => {
    expect(() =>
      verifyArgs(
        ref,
        { kind: "keyless", certificateOidcIssuer: "https://token.actions.githubusercontent.com" },
        true,
        https,
      ),
    ).toThrowError(/needs certificateIdentity or certificateIdentityRegexp/);
  });
});

describe("verifyCommand", () => {
  it("prints the key-mode command a user runs, with the public key file name", () => {
    expect(
      verifyCommand(
        ref,
        { kind: "key", publicKey: "/root/.cache/state/cosign.pub" },
        false,
        local,
        {
          publicKeyName: "cosign.pub",
        },
      ),
    ).toBe(
      `cosign verify --key cosign.pub --insecure-ignore-tlog=true --allow-http-registry ${ref.ref}`,
    );
  });

  it("names a private transparency log in the command, and the public one not at all", () => {
    const key = { kind: "key" as const, publicKey: "cosign.pub" };
    expect(
      verifyCommand(ref, key, true, https, { sigstore: { rekorUrl: "https://rekor.internal" } }),
    ).toBe(`cosign verify --key cosign.pub --rekor-url=https://rekor.internal ${ref.ref}`);
    expect(verifyCommand(ref, key, true, https, { sigstore: {} })).toBe(
      `cosign verify --key cosign.pub ${ref.ref}`,
    );
  });

  it("gives a private log's key file as cosign's environment variable, the only way cosign takes it", () => {
    const key = { kind: "key" as const, publicKey: "cosign.pub" };
    expect(
      verifyCommand(ref, key, true, https, {
        sigstore: { rekorUrl: "http://127.0.0.1:3000" },
        rekorPublicKeyName: "rekor.pub",
      }),
    ).toBe(
      `SIGSTORE_REKOR_PUBLIC_KEY=rekor.pub cosign verify --key cosign.pub --rekor-url=http://127.0.0.1:3000 ${ref.ref}`,
    );
  });

  it("shows a PEM public key as cosign.pub rather than printing it", () => {
    expect(
      verifyCommand(
        ref,
        { kind: "key", publicKey: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----" },
        true,
        https,
      ),
    ).toBe(`cosign verify --key cosign.pub ${ref.ref}`);
  });

  it("prints the keyless command, quoting what a shell would split or expand", () => {
    const ghcr = parseDigestRef(`ghcr.io/owner/app@sha256:${HEX}`);
    expect(
      verifyCommand(
        ghcr,
        {
          kind: "keyless",
          certificateIdentityRegexp:
            "^https://github\\.com/owner/app/\\.github/workflows/pipeline\\.yml@refs/(heads|tags)/[^@]+$",
          certificateOidcIssuer: "https://token.actions.githubusercontent.com",
        },
        true,
        https,
        { type: "cyclonedx" },
      ),
    ).toBe(
      `cosign verify-attestation --type cyclonedx --certificate-identity-regexp '^https://github\\.com/owner/app/\\.github/workflows/pipeline\\.yml@refs/(heads|tags)/[^@]+$' --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/owner/app@sha256:${HEX}`,
    );
  });
});

describe("secretNamesOf", () => {
  it("names COSIGN_KEY and COSIGN_PASSWORD by default, or the key file, or what the caller says", () => {
    expect(secretNamesOf({ kind: "key", keyPem: PEM, password: PASSWORD })).toEqual({
      key: "COSIGN_KEY",
      password: "COSIGN_PASSWORD",
    });
    expect(secretNamesOf({ kind: "key", keyFile: "/s/cosign.key", password: PASSWORD })).toEqual({
      key: "/s/cosign.key",
      password: "COSIGN_PASSWORD",
    });
    expect(
      secretNamesOf({
        kind: "key",
        keyFile: "/s/cosign.key",
        password: PASSWORD,
        secretNames: { password: "the password in /s/cosign-credentials.json" },
      }).password,
    ).toBe("the password in /s/cosign-credentials.json");
  });
});
