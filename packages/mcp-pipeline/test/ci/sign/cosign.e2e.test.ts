import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError } from "../../../src/ci/checks/check.js";
import { CosignError, SigningKeyError } from "../../../src/ci/errors.js";
import { attest, type KeyFileSigning, signImage } from "../../../src/ci/sign/cosign-sign.js";
import {
  type VerifyExpectation,
  verifyAttestation,
  verifyImage,
} from "../../../src/ci/sign/cosign-verify.js";
import { withDockerConfig } from "../../../src/ci/sign/docker-config.js";
import { buildProvenance } from "../../../src/ci/sign/provenance.js";
import {
  deleteRepository,
  digestOfTag,
  dockerConfigDirs,
  env,
  freshRepository,
  generateKeyPair,
  localRegistry,
  pushImage,
  removeLocalImages,
  saveImage,
  scratchDir,
  tagsOf,
} from "./sign-harness.js";

// Real cosign (found on PATH, as the pipeline finds it) against the real local authenticated
// registry, air-gapped: signatures are not uploaded to a transparency log and are verified with
// --insecure-ignore-tlog=true.

const OUR_PASSWORD = "our-key-password-0f9e8d7c";
const OTHER_PASSWORD = "other-key-password-1a2b3c4d";
const WRONG_PASSWORD = "wrong-password-value-5e6f7a8b";

const scratch = scratchDir("sign-e2e");
const repository = freshRepository("sign-e2e");
const timings: Record<string, number[]> = {};
const localImages: string[] = [];
let configDirsBefore: string[] = [];
let ours: Awaited<ReturnType<typeof generateKeyPair>>;
let other: Awaited<ReturnType<typeof generateKeyPair>>;
let imageA: Awaited<ReturnType<typeof pushImage>>;

function time(op: string, ms: number): void {
  timings[op] = [...(timings[op] ?? []), ms];
}

function ourKey(): KeyFileSigning {
  return { kind: "key", keyFile: ours.keyFile, password: ours.password };
}

function expectKey(publicKey: string): VerifyExpectation {
  return { kind: "key", publicKey };
}

const airGapped = { tlogUpload: false, env } as const;
const verifyOffline = { requireTlog: false, env } as const;

beforeAll(async () => {
  configDirsBefore = dockerConfigDirs();
  ours = await generateKeyPair(join(scratch.dir, "ours"), OUR_PASSWORD);
  other = await generateKeyPair(join(scratch.dir, "other"), OTHER_PASSWORD);
  imageA = await pushImage(repository, "v1", "image A");
  localImages.push(imageA.localRef);
});

afterAll(async () => {
  await removeLocalImages(localImages);
  await deleteRepository(repository);
  scratch.remove();
  // Timings for the report: one line per operation (ms).
  console.log(
    Object.entries(timings)
      .map(([op, ms]) => `${op}: ${ms.join(", ")} ms`)
      .join("\n"),
  );
});

describe("signing and verifying an image by digest", () => {
  it("verifies a signed digest with the public key, and finds the signature where the result says", async () => {
    const signed = await signImage({
      ref: imageA.ref,
      mode: ourKey(),
      registry: localRegistry(),
      ...airGapped,
    });
    time("sign", signed.durationMs);
    expect(signed).toMatchObject({
      digest: imageA.digest,
      mode: "key",
      tlogUpload: false,
      tlog: undefined,
    });
    expect(signed.command).toContain("--tlog-upload=false");
    expect(signed.command.join(" ")).not.toContain(OUR_PASSWORD);
    // cosign's own answer to "where is the signature of this digest?"
    const triangulated = await withDockerConfig(localRegistry(), (dir) =>
      execa("cosign", ["triangulate", "--allow-http-registry", imageA.ref], {
        env: { ...env, DOCKER_CONFIG: dir },
      }),
    );
    expect(triangulated.stdout.trim()).toBe(signed.signatureRef);
    expect(signed.signatureRef).toBe(`${repository}:${imageA.digest.replace(":", "-")}.sig`);
    expect(await tagsOf(repository)).toContain(`${imageA.digest.replace(":", "-")}.sig`);

    const verified = await verifyImage({
      ref: imageA.ref,
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    time("verify", verified.durationMs);
    expect(verified.verified, JSON.stringify(verified)).toBe(true);
    if (!verified.verified) return;
    expect(verified.tlog).toBe("ignored");
    expect(verified.signatureRef).toBe(signed.signatureRef);
    expect(verified.signatures).toEqual([
      { dockerReference: repository, digest: imageA.digest, identity: undefined, tlog: undefined },
    ]);
    expect(verified.userCommand).toBe(
      `cosign verify --key ${ours.publicKeyFile} --insecure-ignore-tlog=true --allow-http-registry ${imageA.ref}`,
    );
  });

  it("verifies with the public key given as PEM and the private key given as PEM", async () => {
    const image = await pushImage(repository, "pem", "image PEM");
    localImages.push(image.localRef);
    await signImage({
      ref: image.ref,
      mode: { kind: "key", keyPem: ours.keyPem, password: OUR_PASSWORD },
      registry: localRegistry(),
      ...airGapped,
    });
    const verified = await verifyImage({
      ref: image.ref,
      expected: expectKey(ours.publicKeyPem),
      registry: localRegistry(),
      ...verifyOffline,
    });
    expect(verified.verified, JSON.stringify(verified)).toBe(true);
    expect(verified.userCommand).toContain("--key cosign.pub ");
  });

  it("ignores a COSIGN_REPOSITORY in the caller's environment, so signatures land where the result says", async () => {
    const image = await pushImage(repository, "stray-env", "stray environment");
    localImages.push(image.localRef);
    // Were it passed through, cosign would push the signature to (and look for it at) a closed port.
    const stray = { ...env, COSIGN_REPOSITORY: "127.0.0.1:9/elsewhere" };
    const signed = await signImage({
      ref: image.ref,
      mode: ourKey(),
      registry: localRegistry(),
      tlogUpload: false,
      env: stray,
    });
    expect(await tagsOf(repository)).toContain(signed.signatureRef.split(":").at(-1));
    const verified = await verifyImage({
      ref: image.ref,
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      requireTlog: false,
      env: stray,
    });
    expect(verified.verified).toBe(true);
  });

  it("fails verification of an image pushed over the same tag without signing", async () => {
    const imageB = await pushImage(repository, "v1", "image B, unsigned");
    localImages.push(imageB.localRef);
    expect(imageB.digest).not.toBe(imageA.digest);
    expect(await digestOfTag(repository, "v1")).toBe(imageB.digest);

    const result = await verifyImage({
      ref: imageB.ref,
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    time("verify (unsigned)", result.durationMs);
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.reason).toMatch(/no signatures found/);
    expect(result.digest).toBe(imageB.digest);
  });

  it("fails verification of a signed digest against another key", async () => {
    const result = await verifyImage({
      ref: imageA.ref,
      expected: expectKey(other.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.reason).toMatch(/no matching signatures/);
  });
});

describe("attestations", () => {
  it("verifies a Trivy CycloneDX SBOM and this pipeline's SLSA v1 provenance attested on one digest", async () => {
    const tarball = join(scratch.dir, "image-a.tar");
    await saveImage(imageA.localRef, tarball);
    const sbomFile = join(scratch.dir, "sbom.cdx.json");
    await execa(
      "trivy",
      [
        "image",
        "--input",
        tarball,
        "--format",
        "cyclonedx",
        "--output",
        sbomFile,
        "--skip-db-update",
        "--skip-java-db-update",
        "--skip-check-update",
        "--offline-scan",
        "--cache-dir",
        join(scratch.dir, "trivy-cache"),
        "--quiet",
      ],
      { env },
    );

    // Milliseconds ending in 0, which Go writes back shortened (.120 → .12).
    const started = new Date(Math.floor(Date.now() / 1000) * 1000 + 120);
    const predicate = buildProvenance({
      pipeline: { uri: "https://github.com/octo-org/todo-mcp/tree/main/ci", version: "0.1.0" },
      toolVersions: { dagger: "0.19.10" },
      source: {
        repository: "https://github.com/octo-org/todo-mcp",
        ref: "refs/heads/main",
        revision: "0123456789abcdef0123456789abcdef01234567",
      },
      build: { dockerfile: "Dockerfile", context: ".", args: { VERSION: "0.1.0" } },
      baseImages: [{ ref: "node:24-bookworm-slim", digest: `sha256:${"ab".repeat(32)}` }],
      invocationId: "local-e2e",
      startedOn: started,
      finishedOn: new Date(started.getTime() + 1000),
      secretValues: [OUR_PASSWORD, localRegistry().password],
    });
    const provenanceFile = join(scratch.dir, "provenance.json");
    writeFileSync(provenanceFile, JSON.stringify(predicate));

    for (const [type, predicateFile] of [
      ["cyclonedx", sbomFile],
      ["slsaprovenance1", provenanceFile],
    ] as const) {
      const attested = await attest({
        ref: imageA.ref,
        predicateFile,
        type,
        mode: ourKey(),
        registry: localRegistry(),
        ...airGapped,
      });
      time(`attest ${type}`, attested.durationMs);
      expect(attested.attestationRef).toBe(`${repository}:${imageA.digest.replace(":", "-")}.att`);
    }

    const sbom = await verifyAttestation({
      ref: imageA.ref,
      type: "cyclonedx",
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    time("verify-attestation cyclonedx", sbom.durationMs);
    expect(sbom.verified, JSON.stringify(sbom)).toBe(true);
    if (!sbom.verified) return;
    expect(sbom.attestations).toHaveLength(1);
    const bom = sbom.attestations[0]?.predicate as {
      bomFormat: string;
      components?: { name: string; version: string }[];
    };
    expect(bom.bomFormat).toBe("CycloneDX");
    expect(bom.components?.map((c) => `${c.name}@${c.version}`)).toContain("left-pad@1.3.0");
    expect(sbom.attestations[0]?.subjects[0]?.digest.sha256).toBe(imageA.digest.slice(7));

    const provenance = await verifyAttestation({
      ref: imageA.ref,
      type: "slsaprovenance1",
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    time("verify-attestation slsaprovenance1", provenance.durationMs);
    expect(provenance.verified, JSON.stringify(provenance)).toBe(true);
    if (!provenance.verified) return;
    expect(provenance.attestations[0]?.predicateType).toBe("https://slsa.dev/provenance/v1");
    const verifiedPredicate = provenance.attestations[0]?.predicate as typeof predicate;
    expect(verifiedPredicate.buildDefinition).toEqual(predicate.buildDefinition);
    expect(verifiedPredicate.runDetails.builder).toEqual(predicate.runDetails.builder);
    // cosign re-encodes the predicate through in-toto-golang's SLSA v1 struct: the spec's
    // `invocationId` arrives as `invocationID` (that struct's JSON tag), and timestamps as Go
    // writes them (trailing zero milliseconds dropped), so times are compared as instants.
    const metadata = verifiedPredicate.runDetails.metadata as Record<string, string>;
    expect(Object.keys(metadata).sort()).toEqual(["finishedOn", "invocationID", "startedOn"]);
    expect(metadata.invocationID).toBe("local-e2e");
    expect(Date.parse(metadata.startedOn ?? "")).toBe(started.getTime());
    expect(Date.parse(metadata.finishedOn ?? "")).toBe(started.getTime() + 1000);
  });

  it("fails verify-attestation when the attestation was signed with another key", async () => {
    const image = await pushImage(repository, "other-key", "image attested by another key");
    localImages.push(image.localRef);
    const bomFile = join(scratch.dir, "minimal.cdx.json");
    writeFileSync(
      bomFile,
      JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components: [] }),
    );
    await attest({
      ref: image.ref,
      predicateFile: bomFile,
      type: "cyclonedx",
      mode: { kind: "key", keyFile: other.keyFile, password: OTHER_PASSWORD },
      registry: localRegistry(),
      ...airGapped,
    });
    const result = await verifyAttestation({
      ref: image.ref,
      type: "cyclonedx",
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.reason).toMatch(/no matching attestations/);
    // The attestation is there: the other key's public key accepts it.
    const withOther = await verifyAttestation({
      ref: image.ref,
      type: "cyclonedx",
      expected: expectKey(other.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    expect(withOther.verified).toBe(true);
  });

  it("fails verify-attestation for a type the digest has no attestation of", async () => {
    const image = await pushImage(repository, "no-attestations", "signed, never attested");
    localImages.push(image.localRef);
    await signImage({ ref: image.ref, mode: ourKey(), registry: localRegistry(), ...airGapped });
    const result = await verifyAttestation({
      ref: image.ref,
      type: "slsaprovenance1",
      expected: expectKey(ours.publicKeyFile),
      registry: localRegistry(),
      ...verifyOffline,
    });
    expect(result.verified).toBe(false);
    if (result.verified) return;
    expect(result.reason).toMatch(/no matching attestations|none of the attestations/);
  });
});

describe("failures", () => {
  it("fails with SIGNING_KEY_INVALID naming COSIGN_PASSWORD, never its value, on a wrong password", async () => {
    const image = await pushImage(repository, "wrong-password", "never signed");
    localImages.push(image.localRef);
    const error = await signImage({
      ref: image.ref,
      mode: { kind: "key", keyPem: ours.keyPem, password: WRONG_PASSWORD },
      registry: localRegistry(),
      ...airGapped,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningKeyError);
    const keyError = error as SigningKeyError;
    expect(keyError.code).toBe("SIGNING_KEY_INVALID");
    expect(keyError.message).toMatch(
      /COSIGN_KEY could not be decrypted with COSIGN_PASSWORD: COSIGN_PASSWORD is not the password/,
    );
    expect(keyError.secrets).toEqual(["COSIGN_KEY", "COSIGN_PASSWORD"]);
    // Nothing the report could print holds a secret: message, cause chain, cosign's stderr.
    const everything = [...describeError(keyError), JSON.stringify(keyError)].join("\n");
    expect(everything).toContain("decryption failed");
    for (const secret of [WRONG_PASSWORD, OUR_PASSWORD, localRegistry().password, ours.keyPem]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toContain(ours.keyPem.split("\n")[1]);
    expect(await tagsOf(repository)).not.toContain(`${image.digest.replace(":", "-")}.sig`);
  });

  it("fails with SIGNING_KEY_INVALID naming COSIGN_KEY when it holds no cosign private key", async () => {
    const predicateFile = join(scratch.dir, "empty-bom.json");
    writeFileSync(predicateFile, JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6" }));
    const error = await attest({
      ref: imageA.ref,
      predicateFile,
      type: "cyclonedx",
      mode: { kind: "key", keyPem: ours.publicKeyPem, password: OUR_PASSWORD },
      registry: localRegistry(),
      ...airGapped,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningKeyError);
    expect((error as Error).message).toMatch(/COSIGN_KEY is not a cosign private key/);
  });

  it("fails with SIGNING_KEY_INVALID naming the key file when it does not exist", async () => {
    const missing = join(scratch.dir, "nowhere", "cosign.key");
    const error = await signImage({
      ref: imageA.ref,
      mode: { kind: "key", keyFile: missing, password: OUR_PASSWORD },
      registry: localRegistry(),
      ...airGapped,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningKeyError);
    expect((error as Error).message).toContain(`the signing key ${missing} cannot be read`);
  });

  it("fails with COSIGN_FAILED saying the registry refused the credentials, without the password", async () => {
    const badPassword = "not-the-registry-password-9z8y";
    const error = await signImage({
      ref: imageA.ref,
      mode: ourKey(),
      registry: { ...localRegistry(), password: badPassword },
      ...airGapped,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignError);
    expect((error as CosignError).code).toBe("COSIGN_FAILED");
    expect((error as Error).message).toMatch(/refused the credentials/);
    expect(describeError(error).join("\n")).not.toContain(badPassword);
  });

  it("fails with COSIGN_FAILED saying the registry is unreachable", async () => {
    const error = await verifyImage({
      ref: `127.0.0.1:9/sign-e2e@${imageA.digest}`,
      expected: expectKey(ours.publicKeyFile),
      registry: { ...localRegistry(), address: "127.0.0.1:9" },
      ...verifyOffline,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignError);
    expect((error as Error).message).toMatch(/registry 127\.0\.0\.1:9 is unreachable/);
  });

  it("fails with COSIGN_FAILED pointing at the air-gapped settings when the transparency log is unreachable", async () => {
    const error = await signImage({
      ref: imageA.ref,
      mode: ourKey(),
      registry: localRegistry(),
      tlogUpload: true,
      // A closed loopback port: the test never reaches the public Rekor, online or not.
      sigstore: { rekorUrl: "http://127.0.0.1:9" },
      env,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CosignError);
    expect((error as Error).message).toMatch(
      /transparency log \(Rekor at http:\/\/127\.0\.0\.1:9\) is unreachable: air-gapped, sign with tlogUpload: false/,
    );
    expect((error as CosignError).command).toContain("--rekor-url=http://127.0.0.1:9");
  });

  it("leaves no temporary Docker config behind", () => {
    expect(dockerConfigDirs().filter((d) => !configDirsBefore.includes(d))).toEqual([]);
  });
});
