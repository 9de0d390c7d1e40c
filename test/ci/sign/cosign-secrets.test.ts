import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CosignError, SigningKeyError } from "../../../ci/errors.js";
import { describeError } from "../../../ci/result.js";
import { signImage, verifyImage } from "../../../ci/sign/cosign.js";

// A stand-in `cosign` at the far edge — a shell script first on PATH — that does what the real
// one never does on purpose: prints the secrets it was given. It records its argv, environment
// and the Docker config it saw, so the test can check what reached the process and that every
// message the module builds from cosign's output is scrubbed.

const dir = mkdtempSync(join(tmpdir(), "fake-cosign-"));
const record = join(dir, "record");
writeFileSync(
  join(dir, "cosign"),
  `#!/bin/sh
printf '%s\\n' "$@" > "${record}.args"
env > "${record}.env"
stat -c %a "$DOCKER_CONFIG/config.json" > "${record}.mode"
cat "$DOCKER_CONFIG/config.json" > "${record}.config"
case "$FAKE_COSIGN" in
  key) echo "Error: signing: reading key: decrypt: encrypted: decryption failed (tried $COSIGN_PASSWORD on $COSIGN_KEY)" >&2 ;;
  registry) echo "Error: GET http://r/v2/: UNAUTHORIZED: config $(tr -d '\\n ' < "$DOCKER_CONFIG/config.json")" >&2 ;;
  verify) echo "Error: no matching signatures: $(tr -d '\\n ' < "$DOCKER_CONFIG/config.json")" >&2 ;;
esac
exit 1
`,
);
chmodSync(join(dir, "cosign"), 0o755);

const PASSWORD = "key-password-7c1d9e";
const PEM =
  "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----";
const registry = {
  address: "172.17.0.1:5001",
  username: "pipeline",
  password: "registry-password-4b8a2f",
  plainHttp: true,
};
const basic = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
const ref = `172.17.0.1:5001/app@sha256:${"a".repeat(64)}`;
const env = (mode: string) => ({
  PATH: `${dir}:/usr/bin:/bin`,
  FAKE_COSIGN: mode,
  REGISTRY_PASSWORD: registry.password,
  GITHUB_TOKEN: "ghp_caller-token-value",
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
      env: env("key"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningKeyError);

    const args = readFileSync(`${record}.args`, "utf8");
    expect(args.split("\n")).toContain("env://COSIGN_KEY");
    for (const secret of [PASSWORD, "c2VjcmV0LWtleS1ib2R5", registry.password]) {
      expect(args).not.toContain(secret);
    }
    const childEnv = readFileSync(`${record}.env`, "utf8");
    expect(childEnv).toContain(`COSIGN_PASSWORD=${PASSWORD}`);
    expect(childEnv).toContain("COSIGN_KEY=-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----");
    expect(childEnv).not.toContain("REGISTRY_PASSWORD=");
    expect(childEnv).not.toContain("GITHUB_TOKEN=");

    const text = reported(error);
    expect(text).toContain("decryption failed (tried *** on ***)");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("c2VjcmV0LWtleS1ib2R5");
  });

  it("hands registry credentials over in a 0600 Docker config and masks them in cosign's output", async () => {
    const error = await signImage({
      ref,
      mode: { kind: "key", keyFile: "/state/cosign.key", password: PASSWORD },
      tlogUpload: false,
      registry,
      env: env("registry"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignError);
    expect(readFileSync(`${record}.mode`, "utf8").trim()).toBe("600");
    expect(readFileSync(`${record}.config`, "utf8")).toContain(basic);
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
      env: env("verify"),
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    const text = [result.reason, ...result.details].join("\n");
    expect(text).toContain("no matching signatures");
    expect(text).not.toContain(basic);
  });
});
