import { CosignError } from "../errors.js";
import {
  COSIGN_ENV,
  PREDICATE_TYPE_URI,
  type PredicateType,
  type RegistryTransport,
  registryFlags,
  withFlags,
} from "./cosign-args.js";
import {
  type CosignCall,
  type CosignRun,
  cosignReason,
  hintFor,
  REKOR_KEY_NAME,
  runCosign,
  type SigstoreServices,
  secretsOf,
  sigstoreFlags,
  type TlogEntry,
  tail,
} from "./cosign-run.js";
import { cosignArtifactRef, type DigestRef, parseDigestRef } from "./image-ref.js";

// `cosign verify` and `cosign verify-attestation`: what a signature must be bound to, the
// arguments (and the command a user runs to check the same), reading cosign's JSON, and telling
// a verdict ("no matching signatures") from a failure to verify at all.

/** What a valid signature must be bound to. */
export type VerifyExpectation =
  | {
      kind: "key";
      /** The public key: a file path, or the PEM itself (`-----BEGIN PUBLIC KEY-----…`). */
      publicKey: string;
    }
  | {
      kind: "keyless";
      /** Exactly this identity (the certificate's SAN), or … */
      certificateIdentity?: string;
      /** … any identity matching this RE2 expression. One of the two is required. */
      certificateIdentityRegexp?: string;
      certificateOidcIssuer: string;
    };

export interface VerifyInput extends CosignCall {
  ref: string;
  expected: VerifyExpectation;
  /**
   * Require and check a transparency-log entry. `false` (`--insecure-ignore-tlog=true`) for
   * signatures made with `tlogUpload: false`.
   */
  requireTlog: boolean;
}

export interface VerifyAttestationInput extends VerifyInput {
  type: PredicateType;
}

/** A keyless signature's certificate identity, as cosign reports it. */
export interface CertificateIdentity {
  subject: string | undefined;
  issuer: string | undefined;
}

export interface VerifiedSignature {
  dockerReference: string;
  digest: string;
  identity: CertificateIdentity | undefined;
  tlog: TlogEntry | undefined;
}

export interface VerifiedAttestation {
  predicateType: string;
  subjects: { name: string; digest: Record<string, string> }[];
  /** The verified predicate itself (the SBOM, the provenance). */
  predicate: unknown;
}

/** Fields every verification result shares. */
interface VerificationBase {
  ref: string;
  digest: string;
  /** `checked`, or `ignored` when verified with `--insecure-ignore-tlog=true` (said in the report). */
  tlog: "checked" | "ignored";
  /** The command a user runs to verify the same thing themselves. */
  userCommand: string;
  durationMs: number;
}

export type VerifyImageResult = VerificationBase &
  (
    | { verified: true; signatureRef: string; signatures: VerifiedSignature[] }
    | { verified: false; reason: string; details: string[] }
  );

export type VerifyAttestationResult = VerificationBase & { type: PredicateType } & (
    | { verified: true; attestationRef: string; attestations: VerifiedAttestation[] }
    | { verified: false; reason: string; details: string[] }
  );

function isPem(text: string): boolean {
  return text.trimStart().startsWith("-----BEGIN");
}

function expectationFlags(expected: VerifyExpectation): string[] {
  if (expected.kind === "key") {
    return [
      "--key",
      isPem(expected.publicKey) ? `env://${COSIGN_ENV.publicKey}` : expected.publicKey,
    ];
  }
  const identity = expected.certificateIdentity
    ? ["--certificate-identity", expected.certificateIdentity]
    : expected.certificateIdentityRegexp
      ? ["--certificate-identity-regexp", expected.certificateIdentityRegexp]
      : undefined;
  if (!identity) {
    throw new TypeError(
      "keyless verification needs certificateIdentity or certificateIdentityRegexp: without one, any GitHub workflow's signature would pass",
    );
  }
  return [...identity, "--certificate-oidc-issuer", expected.certificateOidcIssuer];
}

/** The environment a verification needs: a public key given as PEM travels as `COSIGN_PUBLIC_KEY`. */
export function verifyEnv(expected: VerifyExpectation): Record<string, string> {
  return expected.kind === "key" && isPem(expected.publicKey)
    ? { [COSIGN_ENV.publicKey]: expected.publicKey }
    : {};
}

/**
 * `cosign verify` (no `type`) or `cosign verify-attestation --type <type>` arguments.
 * `requireTlog: false` adds `--insecure-ignore-tlog=true`: for signatures made with
 * `--tlog-upload=false`, which have no transparency-log entry to check.
 */
export function verifyArgs(
  ref: DigestRef,
  expected: VerifyExpectation,
  requireTlog: boolean,
  registry: RegistryTransport,
  type?: PredicateType,
): string[] {
  return [
    ...(type ? ["verify-attestation", "--type", type] : ["verify"]),
    ...expectationFlags(expected),
    ...(requireTlog ? [] : ["--insecure-ignore-tlog=true"]),
    ...registryFlags(registry),
    "--output",
    "json",
    ref.ref,
  ];
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `cosign verify …` command a user runs to check the image themselves (printed in the report):
 * the same flags the pipeline verifies with, minus the machine-readable output option. A public
 * key is shown as `publicKeyName` (default `cosign.pub`), the file users are given; a private
 * log's key, which cosign takes from `SIGSTORE_REKOR_PUBLIC_KEY`, as `rekorPublicKeyName`.
 */
export function verifyCommand(
  ref: DigestRef,
  expected: VerifyExpectation,
  requireTlog: boolean,
  registry: RegistryTransport,
  options: {
    type?: PredicateType;
    publicKeyName?: string;
    sigstore?: SigstoreServices;
    /** The transparency log's key file as users get it (`rekor.pub`), for a private log. */
    rekorPublicKeyName?: string;
  } = {},
): string {
  const shown: VerifyExpectation =
    expected.kind === "key"
      ? {
          kind: "key",
          publicKey:
            options.publicKeyName ??
            (isPem(expected.publicKey) ? "cosign.pub" : expected.publicKey),
        }
      : expected;
  const args = withFlags(
    verifyArgs(ref, shown, requireTlog, registry, options.type),
    sigstoreFlags(options.sigstore, false),
  );
  const output = args.indexOf("--output");
  args.splice(output, 2);
  // cosign reads a private log's key from its environment only (there is no flag for it).
  const logKey = options.rekorPublicKeyName
    ? [`SIGSTORE_REKOR_PUBLIC_KEY=${shellQuote(options.rekorPublicKeyName)}`]
    : [];
  return [...logKey, ...["cosign", ...args].map(shellQuote)].join(" ");
}
/**
 * cosign's sentences for "this image has no signature that satisfies the expectation" — a
 * verdict, returned as `verified: false`. Anything else (registry down, bad credentials, missing
 * public key file) is an error and thrown.
 */
const NOT_VERIFIED =
  /no signatures found|no matching signatures|no matching attestations|none of the attestations matched|invalid signature|signature mismatch|expected identity not found|certificate identity|threshold/i;

function verdictOrThrow(run: CosignRun, args: string[], call: VerifyInput) {
  const reason = cosignReason(run.stderr);
  if (NOT_VERIFIED.test(reason)) return { reason, details: tail(run.stderr) };
  throw new CosignError(
    `cosign ${args[0]} of ${call.ref} could not run: ${reason} — ${hintFor(run.stderr, call)}`,
    { command: args, exitCode: run.exitCode, stderr: run.stderr },
  );
}

function prepareVerify(input: VerifyInput, type?: PredicateType) {
  const ref = parseDigestRef(input.ref);
  const args = withFlags(
    verifyArgs(ref, input.expected, input.requireTlog, input.registry, type),
    sigstoreFlags(input.sigstore, false),
  );
  const base = {
    ref: ref.ref,
    digest: ref.digest,
    tlog: input.requireTlog ? ("checked" as const) : ("ignored" as const),
    userCommand: verifyCommand(ref, input.expected, input.requireTlog, input.registry, {
      ...(type ? { type } : {}),
      ...(input.sigstore ? { sigstore: input.sigstore } : {}),
      ...(input.env?.SIGSTORE_REKOR_PUBLIC_KEY ? { rekorPublicKeyName: REKOR_KEY_NAME } : {}),
    }),
  };
  return { ref, args, base };
}

/** Reads `cosign verify --output json`: an array of simple-signing payloads. */
export function parseVerifyOutput(stdout: string): VerifiedSignature[] {
  const start = stdout.indexOf("[");
  if (start === -1) throw new Error(`cosign verify printed no JSON array: ${stdout.slice(0, 200)}`);
  const items = JSON.parse(stdout.slice(start)) as {
    critical?: {
      identity?: { "docker-reference"?: string };
      image?: { "docker-manifest-digest"?: string };
    };
    optional?: {
      Subject?: string;
      Issuer?: string;
      Bundle?: { Payload?: { logIndex?: number; integratedTime?: number } };
    } | null;
  }[];
  return items.map((item) => {
    const payload = item.optional?.Bundle?.Payload;
    const subject = item.optional?.Subject;
    const issuer = item.optional?.Issuer;
    return {
      dockerReference: item.critical?.identity?.["docker-reference"] ?? "",
      digest: item.critical?.image?.["docker-manifest-digest"] ?? "",
      identity: subject || issuer ? { subject, issuer } : undefined,
      tlog:
        payload?.logIndex !== undefined
          ? {
              logIndex: payload.logIndex,
              ...(payload.integratedTime !== undefined
                ? { integratedTime: payload.integratedTime }
                : {}),
            }
          : undefined,
    };
  });
}

/** Reads `cosign verify-attestation --output json`: one DSSE envelope per line. */
export function parseAttestationOutput(stdout: string): VerifiedAttestation[] {
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      const envelope = JSON.parse(line) as { payload?: string };
      const statement = JSON.parse(
        Buffer.from(envelope.payload ?? "", "base64").toString("utf8"),
      ) as {
        predicateType?: string;
        subject?: { name: string; digest: Record<string, string> }[];
        predicate?: unknown;
      };
      return {
        predicateType: statement.predicateType ?? "",
        subjects: statement.subject ?? [],
        predicate: statement.predicate,
      };
    });
}

/**
 * Verifies an image digest's signature (`cosign verify`) against a public key or a keyless
 * identity. A missing or non-matching signature is a result (`verified: false`, with cosign's
 * reason), not an exception.
 *
 * @throws ImageRefError for a tag; EnvironmentError when cosign is missing; CosignError when
 * verification could not run (registry unreachable or refusing, unreadable public key).
 */
export async function verifyImage(input: VerifyInput): Promise<VerifyImageResult> {
  const { ref, args, base } = prepareVerify(input);
  const run = await runCosign(args, input, verifyEnv(input.expected), secretsOf(input));
  if (run.exitCode !== 0) {
    return {
      ...base,
      durationMs: run.durationMs,
      verified: false,
      ...verdictOrThrow(run, args, input),
    };
  }
  const signatures = parseVerifyOutput(run.stdout).filter((s) => s.digest === ref.digest);
  if (signatures.length === 0) {
    return {
      ...base,
      durationMs: run.durationMs,
      verified: false,
      reason: `cosign verified no signature for ${ref.digest}`,
      details: tail(run.stderr),
    };
  }
  return {
    ...base,
    durationMs: run.durationMs,
    verified: true,
    signatureRef: cosignArtifactRef(ref, "sig"),
    signatures,
  };
}

/**
 * Verifies that an image digest carries an attestation of `type` signed as `expected` says
 * (`cosign verify-attestation --type …`). Returns the verified statements' predicates; an
 * attestation signed by another key, or none of that type, gives `verified: false`.
 *
 * @throws the same errors as verifyImage.
 */
export async function verifyAttestation(
  input: VerifyAttestationInput,
): Promise<VerifyAttestationResult> {
  const { ref, args, base } = prepareVerify(input, input.type);
  const run = await runCosign(args, input, verifyEnv(input.expected), secretsOf(input));
  const typed = { ...base, type: input.type, durationMs: run.durationMs };
  if (run.exitCode !== 0) {
    return { ...typed, verified: false, ...verdictOrThrow(run, args, input) };
  }
  const predicateType = PREDICATE_TYPE_URI[input.type];
  const hex = ref.digest.slice("sha256:".length);
  const attestations = parseAttestationOutput(run.stdout).filter(
    (a) => a.predicateType === predicateType && a.subjects.some((s) => s.digest.sha256 === hex),
  );
  if (attestations.length === 0) {
    return {
      ...typed,
      verified: false,
      reason: `cosign verified no ${predicateType} attestation about ${ref.digest}`,
      details: tail(run.stderr),
    };
  }
  return { ...typed, verified: true, attestationRef: cosignArtifactRef(ref, "att"), attestations };
}
