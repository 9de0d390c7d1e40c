import { afterAll, describe, expect, it } from "vitest";
import { describeError } from "../../../src/ci/checks/check.js";
import { CosignError, SigningKeyError } from "../../../src/ci/errors.js";
import { signImage } from "../../../src/ci/sign/cosign-sign.js";
import { verifyImage } from "../../../src/ci/sign/cosign-verify.js";
import { fakeCosign } from "./fake-cosign.js";

// The real cosign never prints a secret, so a stand-in that does (fake-cosign.ts) shows that
// every message built from cosign's output is scrubbed, and what reached the process.

const fake = fakeCosign();
afterAll(() => fake.remove());

const PASSWORD = "key-password-7c1d9e";
const PEM_BODY = "c2VjcmV0LWtleS1ib2R5";
const PEM = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${PEM_BODY}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----`;
const registry = {
  address: "172.17.0.1:5001",
  username: "pipeline",
  password: "registry-password-4b8a2f",
  plainHttp: true,
};
const basic = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
const ref = `172.17.0.1:5001/app@sha256:${"a".repeat(64)}`;
const callerSecrets = {
  REGISTRY_PASSWORD: registry.password,
  GITHUB_TOKEN: "ghp_caller-token-value",
  // Only keyless signing gets GitHub Actions' OIDC token request.
  ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.example/",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc-request-token-in-key-mode",
};

function reported(error: unknown): string {
  return [...describeError(error), (error as { stderr?: string }).stderr ?? ""].join("\n");
}

describe("secrets around a cosign run", () => {
  it("passes the key and password in the environment only, and masks them in cosign's output", async () => {
    const error = await signImage({
      ref,
      mode: { kind: "key", keyPem: PEM, password: PASSWORD },
      tlogUpload: false,
      registry,
      env: fake.env({
        ...callerSecrets,
        FAKE_COSIGN_STDERR: `Error: signing: reading key: decrypt: encrypted: decryption failed (tried ${PASSWORD} on ${PEM_BODY})`,
      }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningKeyError);

    const args = fake.recorded("args");
    expect(args.split("\n")).toContain("env://COSIGN_KEY");
    for (const secret of [PASSWORD, PEM_BODY, registry.password]) {
      expect(args).not.toContain(secret);
    }
    const childEnv = fake.recorded("env");
    expect(childEnv).toContain(`COSIGN_PASSWORD=${PASSWORD}`);
    expect(childEnv).toContain("COSIGN_KEY=-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----");
    expect(childEnv).not.toContain("REGISTRY_PASSWORD=");
    expect(childEnv).not.toContain("GITHUB_TOKEN=");
    expect(childEnv).not.toContain("ACTIONS_ID_TOKEN_REQUEST_TOKEN=");

    const text = reported(error);
    expect(text).toContain("decryption failed (tried *** on ***)");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(PEM_BODY);
  });

  it("hands registry credentials over in a 0600 Docker config and masks them in cosign's output", async () => {
    const error = await signImage({
      ref,
      mode: { kind: "key", keyFile: "/state/cosign.key", password: PASSWORD },
      tlogUpload: false,
      registry,
      env: fake.env({
        FAKE_COSIGN_STDERR: "Error: GET http://r/v2/: UNAUTHORIZED: authentication required",
        FAKE_COSIGN_ECHO_CONFIG: "1",
      }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignError);
    expect(fake.recorded("mode").trim()).toBe("600");
    expect(fake.recorded("config")).toContain(basic);
    const text = reported(error);
    expect((error as Error).message).toMatch(/refused the credentials/);
    expect(text).toContain('"auth":"***"');
    expect(text).not.toContain(basic);
    expect(text).not.toContain(registry.password);
  });

  it("masks secrets in the details of a failed verification too", async () => {
    const result = await verifyImage({
      ref,
      expected: { kind: "key", publicKey: "/state/cosign.pub" },
      requireTlog: false,
      registry,
      env: fake.env({
        FAKE_COSIGN_STDERR: `Error: no matching signatures: ${registry.password}`,
        FAKE_COSIGN_ECHO_CONFIG: "1",
      }),
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    const text = [result.reason, ...result.details].join("\n");
    expect(text).toContain("no matching signatures: ***");
    expect(text).not.toContain(basic);
    expect(text).not.toContain(registry.password);
  });

  it("masks the GitHub OIDC request token in keyless mode", async () => {
    const token = "oidc-request-token-3f2e1d";
    const error = await signImage({
      ref,
      mode: { kind: "keyless" },
      tlogUpload: true,
      registry,
      env: fake.env({
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.example/",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: token,
        FAKE_COSIGN_STDERR: `Error: getting signer: fetching ambient OIDC credentials: ${token}`,
      }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignError);
    expect(fake.recorded("args").split("\n")).toContain("--oidc-provider=github-actions");
    expect(fake.recorded("env")).toContain(`ACTIONS_ID_TOKEN_REQUEST_TOKEN=${token}`);
    expect(reported(error)).not.toContain(token);
    expect((error as Error).message).toMatch(/grant the job `permissions: id-token: write`/);
  });
});
