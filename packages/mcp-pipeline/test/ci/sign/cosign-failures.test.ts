import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CosignError } from "../../../src/ci/errors.js";
import { attest, signImage } from "../../../src/ci/sign/cosign-sign.js";
import { verifyAttestation, verifyImage } from "../../../src/ci/sign/cosign-verify.js";
import { fakeCosign } from "./fake-cosign.js";

// Failure branches of the cosign wrapper that the real cosign and registry cannot be driven into
// on demand here (a hang, a tool that cannot start, an output about another digest, Sigstore
// outages), reached through a stand-in cosign (fake-cosign.ts).

const fake = fakeCosign();
afterAll(() => fake.remove());

const HEX = "a".repeat(64);
const ref = `172.17.0.1:5001/app@sha256:${HEX}`;
const registry = { address: "172.17.0.1:5001", username: "u", password: "p-4d3c", plainHttp: true };
const key = { kind: "key", keyFile: "/state/cosign.key", password: "pw-9f8e" } as const;
const expected = { kind: "key", publicKey: "/state/cosign.pub" } as const;

function sign(env: Record<string, string>, timeoutMs?: number) {
  return signImage({
    ref,
    mode: key,
    tlogUpload: false,
    registry,
    env: fake.env(env),
    ...(timeoutMs ? { timeoutMs } : {}),
  }).catch((e: unknown) => e);
}

describe("cosign failures", () => {
  it("gives up on a cosign that hangs, after the timeout, naming what to check", async () => {
    const error = await sign({ FAKE_COSIGN_SLEEP: "30" }, 300);
    expect(error).toBeInstanceOf(CosignError);
    expect((error as Error).message).toMatch(
      /cosign sign timed out after 0\.3 s: is the registry \(172\.17\.0\.1:5001\) or the Sigstore service reachable\?/,
    );
  });

  it("says so when cosign is on PATH but cannot be started", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cosign-noexec-"));
    try {
      writeFileSync(join(dir, "cosign"), "not a program");
      chmodSync(join(dir, "cosign"), 0o644);
      const error = await signImage({
        ref,
        mode: key,
        tlogUpload: false,
        registry,
        env: { PATH: dir },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CosignError);
      expect((error as Error).message).toMatch(/cosign sign could not be started/);
      expect((error as Error).cause).toBeInstanceOf(Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      "a digest missing from the registry",
      "Error: GET http://r/v2/app/manifests/sha256:x: MANIFEST_UNKNOWN: manifest unknown",
      /the image is not in the registry: publish it first/,
    ],
    [
      "unreachable Sigstore services",
      'Error: getting signer: Get "https://fulcio.sigstore.dev/api/v2/trustBundle": dial tcp: lookup fulcio.sigstore.dev: no such host',
      /Sigstore services \(TUF root, Fulcio\) are unreachable/,
    ],
    [
      "a registry that speaks HTTP to an HTTPS client",
      'Error: Get "https://r/v2/": http: server gave HTTP response to HTTPS client',
      /is unreachable: is it running/,
    ],
    [
      "a failure cosign explains in its own words only",
      "Error: something new went wrong",
      /something new went wrong — read cosign's output below/,
    ],
  ])("points at the cause for %s", async (_what, stderr, hint) => {
    const error = await sign({ FAKE_COSIGN_STDERR: stderr });
    expect(error).toBeInstanceOf(CosignError);
    expect((error as Error).message).toMatch(hint);
    expect((error as CosignError).exitCode).toBe(1);
  });

  it("tells an HTTPS registry apart when suggesting plain HTTP", async () => {
    const error = await signImage({
      ref,
      mode: key,
      tlogUpload: false,
      registry: { ...registry, plainHttp: false },
      env: fake.env({
        FAKE_COSIGN_STDERR: 'Error: Get "https://r/v2/": dial tcp: connection refused',
      }),
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/unreachable over HTTPS \(set plainHttp/);
  });

  it("reads the transparency-log index cosign prints after uploading", async () => {
    const signed = await signImage({
      ref,
      mode: key,
      tlogUpload: true,
      registry,
      env: fake.env({
        FAKE_COSIGN_EXIT: "0",
        FAKE_COSIGN_STDERR: "tlog entry created with index: 987654\nPushing signature to: r/app",
      }),
    });
    expect(signed.tlog).toEqual({ logIndex: 987654 });
    const attested = await attest({
      ref,
      predicateFile: "p.json",
      type: "cyclonedx",
      mode: key,
      tlogUpload: true,
      registry,
      env: fake.env({
        FAKE_COSIGN_EXIT: "0",
        FAKE_COSIGN_STDERR: "tlog entry created with index: 5",
      }),
    });
    expect(attested.tlog).toEqual({ logIndex: 5 });
  });

  it("passes a private Sigstore's URLs, Fulcio's only to keyless signing", async () => {
    const sigstore = { rekorUrl: "https://rekor.internal", fulcioUrl: "https://fulcio.internal" };
    const ok = { FAKE_COSIGN_EXIT: "0" };
    await signImage({ ref, mode: key, tlogUpload: true, registry, sigstore, env: fake.env(ok) });
    expect(fake.recorded("args").split("\n")).toEqual([
      "sign",
      "--yes",
      "--key",
      "/state/cosign.key",
      "--tlog-upload=true",
      "--allow-http-registry",
      "--rekor-url=https://rekor.internal",
      ref,
      "",
    ]);
    await attest({
      ref,
      predicateFile: "provenance.json",
      type: "slsaprovenance1",
      mode: { kind: "keyless" },
      tlogUpload: true,
      registry,
      sigstore,
      env: fake.env({
        ...ok,
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.example/",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t0k3n-value",
      }),
    });
    expect(fake.recorded("args").split("\n")).toEqual([
      "attest",
      "--yes",
      "--oidc-provider=github-actions",
      "--type",
      "slsaprovenance1",
      "--predicate",
      "provenance.json",
      "--tlog-upload=true",
      "--allow-http-registry",
      "--rekor-url=https://rekor.internal",
      "--fulcio-url=https://fulcio.internal",
      ref,
      "",
    ]);
  });

  it("does not count a signature cosign verified for another digest", async () => {
    const other = `sha256:${"b".repeat(64)}`;
    const result = await verifyImage({
      ref,
      expected,
      requireTlog: false,
      registry,
      env: fake.env({
        FAKE_COSIGN_EXIT: "0",
        FAKE_COSIGN_STDOUT: `[{"critical":{"identity":{"docker-reference":"r/app"},"image":{"docker-manifest-digest":"${other}"},"type":"cosign container image signature"},"optional":null}]`,
      }),
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.reason).toBe(`cosign verified no signature for sha256:${HEX}`);
  });

  it("does not count an attestation of another type or about another digest", async () => {
    const statement = (predicateType: string, sha256: string) =>
      JSON.stringify({
        payloadType: "application/vnd.in-toto+json",
        payload: Buffer.from(
          JSON.stringify({ predicateType, subject: [{ name: "r/app", digest: { sha256 } }] }),
        ).toString("base64"),
        signatures: [],
      });
    const result = await verifyAttestation({
      ref,
      type: "slsaprovenance1",
      expected,
      requireTlog: false,
      registry,
      env: fake.env({
        FAKE_COSIGN_EXIT: "0",
        FAKE_COSIGN_STDOUT: [
          statement("https://cyclonedx.org/bom", HEX),
          statement("https://slsa.dev/provenance/v1", "b".repeat(64)),
        ].join("\n"),
      }),
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.reason).toBe(
      `cosign verified no https://slsa.dev/provenance/v1 attestation about sha256:${HEX}`,
    );
  });

  it("reports the transparency log as checked when verification requires it", async () => {
    const result = await verifyImage({
      ref,
      expected,
      requireTlog: true,
      registry,
      env: fake.env({
        FAKE_COSIGN_EXIT: "0",
        FAKE_COSIGN_STDOUT: `[{"critical":{"identity":{"docker-reference":"r/app"},"image":{"docker-manifest-digest":"sha256:${HEX}"}},"optional":{"Bundle":{"Payload":{"logIndex":7,"integratedTime":1700000000}}}}]`,
      }),
    });
    expect(result.verified).toBe(true);
    expect(result.tlog).toBe("checked");
    expect(fake.recorded("args")).not.toContain("--insecure-ignore-tlog");
    if (result.verified)
      expect(result.signatures[0]?.tlog).toEqual({ logIndex: 7, integratedTime: 1700000000 });
  });
});
