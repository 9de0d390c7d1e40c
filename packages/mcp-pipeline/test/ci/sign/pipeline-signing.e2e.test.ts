import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { paths } from "../../toolchain/helpers.js";
import { auth, check, runPipeline, skipAllBut } from "../pipeline-harness.js";
import { env, generateKeyPair, pushImage } from "./sign-harness.js";

const scratch = mkdtempSync(join(tmpdir(), "pipeline-signing-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Real cosign against the local registry, logged in through a private Docker config. */
async function cosign(args: string[]) {
  const config = await dockerConfig();
  return execa("cosign", [...args, "--insecure-ignore-tlog=true", "--allow-http-registry"], {
    env: { ...env, DOCKER_CONFIG: config },
    reject: false,
    all: true,
  });
}

// Trivy runs so the SBOM exists and is attested; the other gates have their own tests.
const ARGS = skipAllBut("trivy");

describe("the published image is signed, attested and verified before the run passes", () => {
  let signedRepository = "";
  let signedDigest = "";
  let signedTag = "";

  it("signs the digest and attests SBOM and provenance, which verify with the local public key", async () => {
    const run = await runPipeline(ARGS);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    const signature = check(run, "signature");
    expect(signature.status).toBe("passed");
    signedRepository = run.repository;
    signedDigest = run.report.image.digest ?? "";
    signedTag = run.report.published[0]?.split("@")[0]?.split(":").at(-1) ?? "";
    const ref = `${run.repository}@${signedDigest}`;
    expect(run.report.signatures?.[0]).toMatchObject({ ref, kind: "signature" });
    expect(run.report.attestations?.map((a) => a.kind)).toEqual(["cyclonedx", "slsaprovenance1"]);
    // Online with a private log (a runner with REKOR_URL), cosign takes the log's key from its
    // environment: the command says so first.
    expect(run.report.verify?.[0]).toMatch(
      /^(SIGSTORE_REKOR_PUBLIC_KEY=rekor\.pub )?cosign verify --key /,
    );
    expect(readFileSync(join(run.reportDir, "report.md"), "utf8")).toContain(
      "### Verify it yourself",
    );

    const publicKey = paths.cosignPublicKeyFile;
    expect((await cosign(["verify", "--key", publicKey, ref])).exitCode).toBe(0);
    for (const type of ["cyclonedx", "slsaprovenance1"]) {
      const res = await cosign(["verify-attestation", "--type", type, "--key", publicKey, ref]);
      expect(res.exitCode, res.all).toBe(0);
    }
    const provenance = JSON.parse(readFileSync(join(run.reportDir, "provenance.json"), "utf8"));
    expect(provenance.buildDefinition.externalParameters.source.revision).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.stringify(provenance)).not.toContain(auth?.password ?? "");
  });

  it("fails verification for an image pushed over the same tag without signing", async () => {
    expect(signedDigest).not.toBe("");
    const unsigned = await pushImage(signedRepository, signedTag, "pushed over, unsigned");
    expect(unsigned.digest).not.toBe(signedDigest);
    const res = await cosign([
      "verify",
      "--key",
      paths.cosignPublicKeyFile,
      `${signedRepository}:${signedTag}`,
    ]);
    expect(res.exitCode).not.toBe(0);
    expect(res.all).toMatch(/no signatures found|no matching signatures/i);
  });

  it("fails verification of an attestation signed with another key", async () => {
    const other = await generateKeyPair(join(scratch, "other-key"), "another-password-123456");
    const { ref } = await pushImage(signedRepository, "other", "attested by someone else");
    const predicate = join(scratch, "predicate.json");
    writeFileSync(predicate, JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5" }));
    const attested = await execa(
      "cosign",
      [
        "attest",
        "--yes",
        "--key",
        other.keyFile,
        "--type",
        "cyclonedx",
        "--predicate",
        predicate,
        "--tlog-upload=false",
        "--allow-http-registry",
        ref,
      ],
      {
        env: { ...env, COSIGN_PASSWORD: other.password, DOCKER_CONFIG: await dockerConfig() },
        reject: false,
        all: true,
      },
    );
    expect(attested.exitCode, attested.all).toBe(0);
    const res = await cosign([
      "verify-attestation",
      "--type",
      "cyclonedx",
      "--key",
      paths.cosignPublicKeyFile,
      ref,
    ]);
    expect(res.exitCode).not.toBe(0);
    // The control: the other key verifies it.
    const control = await cosign([
      "verify-attestation",
      "--type",
      "cyclonedx",
      "--key",
      other.publicKeyFile,
      ref,
    ]);
    expect(control.exitCode, control.all).toBe(0);
  });

  it("exits 2 for a wrong COSIGN_PASSWORD, naming the secret and never its value", async () => {
    const key = await generateKeyPair(join(scratch, "given-key"), "the-right-password-42");
    const wrong = "not-the-right-password-9f1";
    const run = await runPipeline(skipAllBut(), { COSIGN_KEY: key.keyPem, COSIGN_PASSWORD: wrong });
    expect(run.exitCode, run.output.slice(-3000)).toBe(2);
    expect(run.output).toMatch(/COSIGN_PASSWORD does not open the key in COSIGN_KEY/);
    expect(run.output).not.toContain(wrong);
    expect(JSON.stringify(run.report)).not.toContain(wrong);
  });

  it("skips the signature gate on request: published, nothing signed, reported as skipped", async () => {
    const run = await runPipeline([...skipAllBut(), "--skip", "signature"]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "signature")).toMatchObject({ status: "skipped" });
    expect(check(run, "signature").summary).toMatch(/skipped on request \(--skip\)/);
    expect(run.report.published.length).toBeGreaterThan(0);
    expect(run.report.signatures).toBeUndefined();
    const verified = await cosign([
      "verify",
      "--key",
      paths.cosignPublicKeyFile,
      `${run.repository}@${run.report.image.digest}`,
    ]);
    expect(verified.exitCode, verified.all).not.toBe(0);
    expect(verified.all).toMatch(/no signatures found|no matching signatures/i);
  });

  it("reports the signature as skipped, never passed, with --no-sign", async () => {
    const run = await runPipeline([...skipAllBut(), "--no-sign"]);
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(check(run, "signature")).toMatchObject({ status: "skipped" });
    expect(check(run, "signature").summary).toMatch(/signing is off/);
    expect(run.report.published.length).toBeGreaterThan(0);
    expect(run.report.signatures).toBeUndefined();
  });
});

async function dockerConfig(): Promise<string> {
  const config = mkdtempSync(join(scratch, "docker-"));
  writeFileSync(
    join(config, "config.json"),
    JSON.stringify({
      auths: {
        [auth?.address ?? ""]: {
          auth: Buffer.from(`${auth?.username}:${auth?.password}`).toString("base64"),
        },
      },
    }),
  );
  return config;
}
