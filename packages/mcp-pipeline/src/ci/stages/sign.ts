import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Client, dag } from "@dagger.io/dagger";
import { execa } from "execa";
import type { CheckOutcome } from "../checks/check.js";
import { ConfigError, SigningKeyError } from "../errors.js";
import type { PublishTarget } from "../registry/target.js";
import { redact } from "../report/redact.js";
import type { SignatureRecord } from "../report/schema.js";
import type { SigningEnvironment } from "../request.js";
import { baseImageRefs } from "../sign/base-images.js";
import type { PredicateType } from "../sign/cosign-args.js";
import { type CosignRegistry, REKOR_KEY_NAME, type SigstoreServices } from "../sign/cosign-run.js";
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

/** cosign's default transparency log, the public Sigstore instance's Rekor. */
export const PUBLIC_REKOR_URL = "https://rekor.sigstore.dev";

/** The transparency log (Rekor) a run uploads signatures to and verifies their entries against. */
export interface TransparencyLog {
  /** Its URL, as the report names it. */
  url: string;
  /** `--rekor-url`: set for a private log only (cosign's default is the public one). */
  rekorUrl: string | undefined;
  /** Its public key file, given to cosign as `SIGSTORE_REKOR_PUBLIC_KEY`. */
  publicKey: string | undefined;
}

/** How this run signs, or why it does not. */
export type SigningPlan =
  | {
      mode: SigningMode;
      expected: VerifyExpectation;
      /** What the report says signed it: a key's source, or the workflow identity. */
      signer: string;
      /** Upload to the transparency log (Rekor): online, or to a configured private log. */
      tlog: boolean;
      /** The log, when `tlog`. */
      log: TransparencyLog | undefined;
    }
  | { skip: string };

/** The transparency log settings: `sign.rekorUrl`/`REKOR_URL` and the log's public key. */
export interface RekorSettings {
  url?: string | undefined;
  /**
   * `sign.rekorPublicKey` (resolved), else `REKOR_PUBLIC_KEY` or `SIGSTORE_REKOR_PUBLIC_KEY`:
   * a file, or the PEM itself.
   */
  publicKey?: string | undefined;
}

/**
 * The log's key in the report directory as `rekor.pub`: cosign reads the key from a file, and
 * users verifying the image need the same file (the report's verify command names it, the
 * release attaches it). A key given as PEM text (a repository variable, say) is written there; a
 * key file is copied there. A missing key file is left for `transparencyLog` to report.
 */
export function rekorKeyFile(rekor: RekorSettings, reportDir: string): RekorSettings {
  const key = rekor.publicKey;
  if (!key) return rekor;
  const pem = key.trimStart().startsWith("-----BEGIN");
  if (!pem && !existsSync(key)) return rekor;
  const file = resolve(reportDir, REKOR_KEY_NAME);
  if (!pem && resolve(key) === file) return rekor;
  mkdirSync(reportDir, { recursive: true });
  if (pem) writeFileSync(file, `${key.trim()}\n`);
  else copyFileSync(key, file);
  return { ...rekor, publicKey: file };
}

/**
 * The log a run uses. A private log (any URL but the public instance's) needs its public key:
 * cosign would otherwise check its entries against the public instance's key from Sigstore's TUF
 * root and refuse them after the signature was already uploaded.
 */
export function transparencyLog(rekor: RekorSettings, tlog: boolean): TransparencyLog | undefined {
  if (!tlog) return undefined;
  const url = rekor.url?.replace(/\/+$/, "");
  const isPrivate = url !== undefined && url !== PUBLIC_REKOR_URL;
  if (isPrivate && !rekor.publicKey) {
    throw new ConfigError(
      `sign.rekorUrl names a private transparency log (${url}) but not its public key: set sign.rekorPublicKey (or SIGSTORE_REKOR_PUBLIC_KEY) to a PEM file holding the key the log serves at ${url}/api/v1/log/publicKey`,
      { field: "sign.rekorPublicKey" },
    );
  }
  if (rekor.publicKey && !existsSync(rekor.publicKey)) {
    throw new ConfigError(
      `the transparency log's public key file ${rekor.publicKey} does not exist: point sign.rekorPublicKey (or SIGSTORE_REKOR_PUBLIC_KEY) at the log's PEM public key`,
      { field: "sign.rekorPublicKey" },
    );
  }
  return {
    url: url ?? PUBLIC_REKOR_URL,
    rekorUrl: isPrivate ? url : undefined,
    publicKey: rekor.publicKey,
  };
}

/** What cosign needs to reach a log and check its entries: `--rekor-url`, and the key in its environment. */
export function logCall(
  log: TransparencyLog | undefined,
  env: NodeJS.ProcessEnv,
): { sigstore: SigstoreServices | undefined; env: NodeJS.ProcessEnv } {
  return {
    sigstore: log?.rekorUrl ? { rekorUrl: log.rekorUrl } : undefined,
    env: log?.publicKey ? { ...env, SIGSTORE_REKOR_PUBLIC_KEY: log.publicKey } : env,
  };
}

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
  rekor?: RekorSettings;
}): Promise<SigningPlan> {
  const { signing } = opts;
  if (!opts.enabled) return { skip: "signing is off (sign.enabled: false or --no-sign)" };
  mkdirSync(opts.reportDir, { recursive: true });
  // The public Rekor is on the internet: a key signature made offline stays out of the
  // transparency log, unless a private log is configured (it can be on the same network).
  const rekor = rekorKeyFile(opts.rekor ?? {}, opts.reportDir);
  const tlog = !opts.offline || rekor.url !== undefined;
  // Checked only when the run signs: a run with nothing to sign with skips, whatever the log.
  const log = () => transparencyLog(rekor, tlog);
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
      log: log(),
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
      log: transparencyLog(rekor, true),
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
      log: log(),
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
  const { sigstore, env } = logCall(i.plan.log, i.env);
  const common = {
    registry,
    env,
    ...(sigstore ? { sigstore } : {}),
    mode: i.plan.mode,
    tlogUpload: i.plan.tlog,
  };
  const logName = i.plan.log ? ` in ${i.plan.log.url}` : "";
  const tlogNote = (entry: { logIndex: number } | undefined) =>
    entry
      ? `rekor log index ${entry.logIndex}${logName}`
      : i.plan.tlog
        ? `uploaded${logName}`
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
    env,
    ...(sigstore ? { sigstore } : {}),
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
    ...(i.plan.log ? [`transparency log: ${i.plan.log.url}`] : []),
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
