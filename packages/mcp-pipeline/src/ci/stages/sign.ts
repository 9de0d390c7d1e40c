import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, dag } from "@dagger.io/dagger";
import { execa } from "execa";
import type { CheckOutcome } from "../checks/check.js";
import { SigningKeyError } from "../errors.js";
import type { PublishTarget } from "../registry/target.js";
import { redact } from "../report/redact.js";
import type { SignatureRecord } from "../report/schema.js";
import type { SigningEnvironment } from "../request.js";
import { baseImageRefs } from "../sign/base-images.js";
import type { PredicateType } from "../sign/cosign-args.js";
import type { CosignRegistry } from "../sign/cosign-run.js";
import { attest, type SigningMode, signImage } from "../sign/cosign-sign.js";
import {
  type VerifyAttestationResult,
  type VerifyExpectation,
  type VerifyImageResult,
  verifyAttestation,
  verifyImage,
} from "../sign/cosign-verify.js";
import { expectedKeylessIdentity, jobWorkflowRef } from "../sign/keyless-identity.js";
import { buildProvenance, type ProvenanceInput } from "../sign/provenance.js";

/** How this run signs, or why it does not. */
export type SigningPlan =
  | {
      mode: SigningMode;
      expected: VerifyExpectation;
      /** What the report says signed it: a key's source, or the workflow identity. */
      signer: string;
      /** Upload to the public transparency log (Rekor): online only. */
      tlog: boolean;
    }
  | { skip: string };

/**
 * How to sign: `COSIGN_KEY`/`COSIGN_PASSWORD` when given; keyless with the
 * workflow's identity on GitHub Actions (with `id-token: write`); else the key
 * pair `mcp-pipeline setup` made, for the local registry only.
 */
export async function signingPlan(opts: {
  enabled: boolean;
  signing: SigningEnvironment;
  localTarget: boolean;
  offline: boolean;
  reportDir: string;
}): Promise<SigningPlan> {
  const { signing } = opts;
  if (!opts.enabled) return { skip: "signing is off (sign.enabled: false or --no-sign)" };
  mkdirSync(opts.reportDir, { recursive: true });
  // Rekor is on the internet: a key signature made offline stays out of the transparency log.
  const tlog = !opts.offline;
  if (signing.key) {
    const mode: SigningMode =
      "pem" in signing.key
        ? { kind: "key", keyPem: signing.key.pem, password: signing.key.password }
        : { kind: "key", keyFile: signing.key.file, password: signing.key.password };
    const publicKey = await publicKeyOf(mode, signing.cosignEnv);
    writeFileSync(join(opts.reportDir, "cosign.pub"), publicKey);
    return {
      mode,
      expected: { kind: "key", publicKey },
      signer: "key from COSIGN_KEY",
      tlog,
    };
  }
  if (signing.githubOidc) {
    // Fulcio certifies the workflow the job's token names: ask the token, not the caller's context.
    const identity = expectedKeylessIdentity(signing.github, {
      jobWorkflowRef: await jobWorkflowRef(signing.cosignEnv),
    });
    return {
      mode: { kind: "keyless", oidcProvider: "github-actions" },
      expected: {
        kind: "keyless",
        certificateIdentity: identity.certificateIdentity,
        certificateOidcIssuer: identity.certificateOidcIssuer,
      },
      signer: identity.certificateIdentity,
      tlog: true,
    };
  }
  if (signing.localKey && opts.localTarget) {
    copyFileSync(signing.localKey.publicKey, join(opts.reportDir, "cosign.pub"));
    return {
      mode: {
        kind: "key",
        keyFile: signing.localKey.file,
        password: signing.localKey.password,
        secretNames: { key: signing.localKey.file, password: "the password setup stored for it" },
      },
      expected: { kind: "key", publicKey: signing.localKey.publicKey },
      signer: `the local key pair from mcp-pipeline setup (${signing.localKey.publicKey})`,
      tlog,
    };
  }
  return {
    skip: "no signing key: set COSIGN_KEY and COSIGN_PASSWORD, or run on GitHub Actions with `id-token: write`, or set sign.enabled: false",
  };
}

/** The public half of a key pair (`cosign public-key`); the password travels in the environment only. */
async function publicKeyOf(
  mode: Extract<SigningMode, { kind: "key" }>,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const res = await execa(
    "cosign",
    ["public-key", "--key", "keyPem" in mode ? "env://COSIGN_KEY" : mode.keyFile],
    {
      env: {
        ...env,
        COSIGN_PASSWORD: mode.password,
        ...("keyPem" in mode ? { COSIGN_KEY: mode.keyPem } : {}),
      },
      extendEnv: false,
      reject: false,
    },
  );
  if (res.exitCode !== 0) {
    const secrets = [mode.password, ...("keyPem" in mode ? [mode.keyPem] : [])];
    const reason = redact(String(res.stderr).trim().split("\n").pop() ?? "", secrets);
    throw new SigningKeyError(
      `COSIGN_PASSWORD does not open the key in COSIGN_KEY (cosign: ${reason}); set both secrets from the same \`cosign generate-key-pair\``,
      { secrets: ["COSIGN_KEY", "COSIGN_PASSWORD"] },
    );
  }
  return String(res.stdout).trim();
}

export interface SignOutcome {
  check: CheckOutcome;
  signatures: SignatureRecord[];
  attestations: SignatureRecord[];
  /** Commands a user runs to verify the image themselves. */
  verify: string[];
}

/**
 * Signs the published digest, attests its CycloneDX SBOM (when the Trivy scan
 * wrote one) and its SLSA v1 provenance, then verifies all of them with the
 * expected identity — the `signature` check. Registry credentials reach cosign
 * through a temporary Docker config.
 */
export async function signAndVerify(i: {
  ref: string;
  plan: Extract<SigningPlan, { mode: SigningMode }>;
  target: PublishTarget;
  plainHttp: boolean;
  index: boolean;
  sbomFile: string | undefined;
  provenance: ProvenanceInput;
  reportDir: string;
  env: NodeJS.ProcessEnv;
}): Promise<SignOutcome> {
  const registry: CosignRegistry = {
    address: i.target.address,
    username: i.target.username,
    password: i.target.password,
    plainHttp: i.plainHttp,
  };
  const common = { registry, env: i.env, mode: i.plan.mode, tlogUpload: i.plan.tlog };
  const tlogNote = (entry: { logIndex: number } | undefined) =>
    entry
      ? `rekor log index ${entry.logIndex}`
      : i.plan.tlog
        ? "uploaded"
        : "not uploaded (air-gapped)";
  const signed = await signImage({ ...common, ref: i.ref, recursive: i.index });
  const signatures: SignatureRecord[] = [
    {
      ref: i.ref,
      kind: "signature",
      signer: i.plan.signer,
      stored: signed.signatureRef,
      tlog: tlogNote(signed.tlog),
    },
  ];
  const provenanceFile = join(i.reportDir, "provenance.json");
  writeFileSync(provenanceFile, `${JSON.stringify(buildProvenance(i.provenance), null, 2)}\n`);
  const predicates: [PredicateType, string][] = [
    ...(i.sbomFile && existsSync(i.sbomFile)
      ? [["cyclonedx", i.sbomFile] as [PredicateType, string]]
      : []),
    ["slsaprovenance1", provenanceFile],
  ];
  const attestations: SignatureRecord[] = [];
  for (const [type, predicateFile] of predicates) {
    const done = await attest({ ...common, ref: i.ref, type, predicateFile });
    attestations.push({
      ref: i.ref,
      kind: type,
      signer: i.plan.signer,
      stored: done.attestationRef,
      tlog: tlogNote(done.tlog),
    });
  }

  const verifyCommon = {
    registry,
    env: i.env,
    ref: i.ref,
    expected: i.plan.expected,
    requireTlog: i.plan.tlog,
  };
  const results: (VerifyImageResult | VerifyAttestationResult)[] = [
    await verifyImage(verifyCommon),
  ];
  for (const [type] of predicates) results.push(await verifyAttestation({ ...verifyCommon, type }));
  const failed = results.filter((r) => !r.verified);
  const details = [
    `signed by ${i.plan.signer}${i.index ? " (the index and every platform image)" : ""}`,
    ...results.map((r) => `${r.verified ? "verified" : "NOT verified"}: ${r.userCommand}`),
    ...(i.sbomFile && existsSync(i.sbomFile)
      ? []
      : ["no SBOM attested: the Trivy scan did not run (--skip trivy)"]),
    ...(i.plan.tlog
      ? []
      : ["no transparency-log entry: air-gapped, verified with --insecure-ignore-tlog=true"]),
    ...failed.flatMap((r) => ("reason" in r ? [`${r.userCommand}: ${r.reason}`] : [])),
  ];
  return {
    check: failed.length
      ? {
          status: "failed",
          summary: `${failed.length} of ${results.length} verifications failed on ${i.ref}`,
          details,
        }
      : {
          status: "passed",
          summary: `signed, and ${predicates.map((p) => p[0]).join(" + ")} attested; all verified on the published digest`,
          details,
        },
    signatures,
    attestations,
    verify: results.map((r) => r.userCommand),
  };
}

/** The digests of the base images a build used, as the engine resolves them now. */
export async function baseImageDigests(
  dockerfile: string,
  buildArgs: Readonly<Record<string, string>>,
  client: Client = dag,
): Promise<{ ref: string; digest: string }[]> {
  const out: { ref: string; digest: string }[] = [];
  for (const ref of baseImageRefs(dockerfile, buildArgs)) {
    const pinned = await client.container().from(ref).imageRef();
    const digest = /@(sha256:[0-9a-f]{64})$/.exec(pinned)?.[1];
    if (digest) out.push({ ref, digest });
  }
  return out;
}
