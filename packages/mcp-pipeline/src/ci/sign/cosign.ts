import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { which } from "../../host/exec.js";
import { CosignError, EnvironmentError, SigningKeyError } from "../errors.js";
import { redact } from "../report/redact.js";
import {
  attestArgs,
  type KeyFileSigning,
  type KeyPemSigning,
  PREDICATE_TYPE_URI,
  type PredicateType,
  type RegistryTransport,
  type SigningMode,
  secretNamesOf,
  signArgs,
  signingEnv,
  type VerifyExpectation,
  verifyArgs,
  verifyCommand,
  verifyEnv,
} from "./cosign-args.js";
import { type RegistryCredentials, withDockerConfig } from "./docker-config.js";
import { cosignArtifactRef, type DigestRef, parseDigestRef } from "./image-ref.js";

/** The registry cosign reads the image from and writes signatures to. */
export type CosignRegistry = RegistryCredentials & Pick<RegistryTransport, "insecureSkipTlsVerify">;

/** A private Sigstore deployment; the public instance when unset. */
export interface SigstoreServices {
  /** `--rekor-url` (transparency log). */
  rekorUrl?: string;
  /** `--fulcio-url` (keyless certificates). */
  fulcioUrl?: string;
}

/** What every cosign call takes besides its own inputs. */
interface CosignCall {
  registry: CosignRegistry;
  /**
   * The environment cosign runs in: `PATH` must find `cosign` (the toolchain puts
   * `~/.cache/mcp-pipeline/bin` first). For keyless signing on GitHub Actions it must carry
   * `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. Any `COSIGN_*` secret,
   * `DOCKER_CONFIG`, `REGISTRY_PASSWORD` or `GITHUB_TOKEN` in it is dropped: cosign gets only the
   * secrets of this call.
   */
  env: NodeJS.ProcessEnv;
  sigstore?: SigstoreServices;
  /** Per cosign run; default 5 minutes. */
  timeoutMs?: number;
}

export interface SignInput extends CosignCall {
  /** `repository@sha256:<hex>`: a tag is refused. */
  ref: string;
  mode: SigningMode;
  /** Upload to the transparency log (Rekor). `false` air-gapped. */
  tlogUpload: boolean;
  /** The digest is an image index: sign every platform image in it too. */
  recursive?: boolean;
}

export interface AttestInput extends SignInput {
  /** A JSON file: a CycloneDX SBOM, or a SLSA v1 provenance predicate (see provenance.ts). */
  predicateFile: string;
  type: PredicateType;
}

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

/** An entry the signature got in the transparency log. */
export interface TlogEntry {
  logIndex: number;
  /** Unix seconds, when known (verification reports it). */
  integratedTime?: number;
}

/** Fields every signing result shares. */
interface SignedArtifact {
  ref: string;
  digest: string;
  mode: SigningMode["kind"];
  tlogUpload: boolean;
  /** The Rekor entry, when the signature was uploaded to the transparency log. */
  tlog: TlogEntry | undefined;
  /** The cosign command that ran (never holds a secret). */
  command: readonly string[];
  durationMs: number;
}

export interface SignResult extends SignedArtifact {
  /** Where cosign stored the signature: `<repo>:sha256-<hex>.sig`. */
  signatureRef: string;
}

export interface AttestResult extends SignedArtifact {
  type: PredicateType;
  /** The in-toto predicate type URI. */
  predicateType: string;
  /** Where cosign stored the attestation: `<repo>:sha256-<hex>.att`. */
  attestationRef: string;
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

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const STDERR_TAIL = 15;

/** Variables never passed through to cosign: each call sets only the secrets it needs. */
const WITHHELD_ENV = [
  "COSIGN_PASSWORD",
  "COSIGN_KEY",
  "COSIGN_PRIVATE_KEY",
  "COSIGN_PUBLIC_KEY",
  // Would move signatures away from <repo>:sha256-<hex>.sig, where the results say they are.
  "COSIGN_REPOSITORY",
  "DOCKER_CONFIG",
  "REGISTRY_PASSWORD",
  "GITHUB_TOKEN",
];

/** GitHub Actions' OIDC token request: only keyless signing needs it. */
const OIDC_REQUEST_ENV = ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"];

interface CosignRun {
  exitCode: number;
  stdout: string;
  /** Scrubbed. */
  stderr: string;
  durationMs: number;
}

function sigstoreFlags(sigstore: SigstoreServices | undefined, keyless: boolean): string[] {
  return [
    ...(sigstore?.rekorUrl ? [`--rekor-url=${sigstore.rekorUrl}`] : []),
    ...(keyless && sigstore?.fulcioUrl ? [`--fulcio-url=${sigstore.fulcioUrl}`] : []),
  ];
}

/** Inserts flags before the trailing image reference. */
function withFlags(args: string[], flags: string[]): string[] {
  return [...args.slice(0, -1), ...flags, ...args.slice(-1)];
}

/**
 * Checks that keyless signing can get GitHub Actions' OIDC token: the runner sets
 * `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN` only for jobs granted `id-token: write`.
 */
export function assertKeylessReady(env: Readonly<Record<string, string | undefined>>): void {
  const missing = OIDC_REQUEST_ENV.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new EnvironmentError(
      `keyless signing needs GitHub Actions' OIDC token, but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} unset: grant the job \`permissions: id-token: write\` (in the caller's job for a reusable workflow). Outside GitHub Actions, sign with a key pair (COSIGN_KEY and COSIGN_PASSWORD).`,
    );
  }
}

function childEnv(
  base: NodeJS.ProcessEnv,
  extra: Record<string, string>,
  keyless: boolean,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of [...WITHHELD_ENV, ...(keyless ? [] : OIDC_REQUEST_ENV)]) delete env[name];
  return { ...env, ...extra };
}

function secretsOf(call: CosignCall, mode?: SigningMode): string[] {
  const { username, password } = call.registry;
  return [
    password,
    `${username}:${password}`,
    ...(mode && mode.kind === "key" ? [mode.password] : []),
    ...(mode && "keyPem" in mode ? [mode.keyPem] : []),
    call.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "",
  ];
}

function tail(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "" && !line.startsWith("WARNING:"))
    .slice(-STDERR_TAIL);
}

/** cosign's own error sentence: its last `Error: …` line, else the last line it wrote. */
function cosignReason(stderr: string): string {
  const lines = tail(stderr);
  const error = [...lines].reverse().find((line) => line.startsWith("Error: "));
  return (error ?? lines.at(-1) ?? "no output").replace(/^Error: /, "");
}

async function runCosign(
  args: string[],
  call: CosignCall,
  secretEnv: Record<string, string>,
  secrets: readonly string[],
  keyless = false,
): Promise<CosignRun> {
  if (!which("cosign", call.env)) {
    throw new EnvironmentError(
      "cosign was not found on PATH: run `mcp-pipeline setup`, which installs it into ~/.cache/mcp-pipeline/bin, and run the pipeline through `mcp-pipeline` (it puts that directory on PATH).",
    );
  }
  return withDockerConfig(call.registry, async (dockerConfig) => {
    const started = performance.now();
    const result = await execa("cosign", args, {
      env: childEnv(call.env, { ...secretEnv, DOCKER_CONFIG: dockerConfig }, keyless),
      extendEnv: false,
      // Never let cosign fall back to reading a password from a terminal or stdin.
      stdin: "ignore",
      reject: false,
      timeout: call.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      stripFinalNewline: true,
    });
    const durationMs = Math.round(performance.now() - started);
    const stderr = redact(String(result.stderr ?? ""), secrets);
    if (result.timedOut) {
      throw new CosignError(
        `cosign ${args[0]} timed out after ${(call.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s: is the registry (${call.registry.address}) or the Sigstore service reachable?`,
        { command: args, exitCode: undefined, stderr },
      );
    }
    if (result.exitCode === undefined) {
      // The spawn error (ENOENT, EACCES) carries no secret; execa's own error would echo output.
      throw new CosignError(`cosign ${args[0]} could not be started: ${result.shortMessage}`, {
        command: args,
        exitCode: undefined,
        stderr,
        cause: result.cause,
      });
    }
    return {
      exitCode: result.exitCode,
      stdout: redact(String(result.stdout ?? ""), secrets),
      stderr,
      durationMs,
    };
  });
}

/** What to do about a cosign failure that is not about the key, from what cosign said. */
function hintFor(output: string, call: CosignCall): string {
  // cosign's WARNING lines (an unreachable TUF mirror, a skipped tlog) are not the failure.
  const stderr = tail(output).join("\n");
  if (/UNAUTHORIZED|DENIED|authentication required|unauthorized/i.test(stderr)) {
    return `the registry ${call.registry.address} refused the credentials: check the registry user and password (REGISTRY_USERNAME, REGISTRY_PASSWORD), and that they may push to this repository.`;
  }
  if (
    /rekor|tlog|transparency|\/api\/v1\/log\/entries/i.test(stderr) &&
    /dial tcp|no such host|connection refused|timeout|giving up/i.test(stderr)
  ) {
    return `the transparency log (Rekor${call.sigstore?.rekorUrl ? ` at ${call.sigstore.rekorUrl}` : ""}) is unreachable: air-gapped, sign with tlogUpload: false and verify with requireTlog: false.`;
  }
  if (
    /tuf|trusted_root|fulcio/i.test(stderr) &&
    /dial tcp|no such host|connection refused/i.test(stderr)
  ) {
    return "the Sigstore services (TUF root, Fulcio) are unreachable: keyless signing needs network access to them.";
  }
  if (
    /dial tcp|no such host|connection refused|server gave HTTP response to HTTPS client/i.test(
      stderr,
    )
  ) {
    return `the registry ${call.registry.address} is unreachable${call.registry.plainHttp ? "" : " over HTTPS (set plainHttp for a local plain-HTTP registry)"}: is it running, and is the address right?`;
  }
  if (/MANIFEST_UNKNOWN|NAME_UNKNOWN|not found/i.test(stderr)) {
    return "the image is not in the registry: publish it first, then sign the digest publish reported.";
  }
  if (/id.?token|oidc|ACTIONS_ID_TOKEN/i.test(stderr)) {
    return "no OIDC token for keyless signing: grant the job `permissions: id-token: write`.";
  }
  return "read cosign's output below.";
}

/** Turns a failed `cosign sign`/`attest` into the error a person can act on. */
function signingFailure(run: CosignRun, args: string[], input: SignInput): Error {
  const reason = cosignReason(run.stderr);
  if (input.mode.kind === "key") {
    const cause = new CosignError(`cosign ${args[0]} exited with ${run.exitCode}: ${reason}`, {
      command: args,
      exitCode: run.exitCode,
      stderr: run.stderr,
    });
    const keyError = keyFailure(reason, input.mode, cause);
    if (keyError) return keyError;
  }
  return new CosignError(
    `cosign ${args[0]} of ${input.ref} failed: ${reason} — ${hintFor(run.stderr, input)}`,
    { command: args, exitCode: run.exitCode, stderr: run.stderr },
  );
}

/** Recognises cosign's key-loading errors ("reading key: …") and names the secret at fault. */
function keyFailure(
  reason: string,
  mode: KeyFileSigning | KeyPemSigning,
  cause: Error,
): SigningKeyError | undefined {
  const names = secretNamesOf(mode);
  const secrets = [names.key, names.password];
  if (/decrypt: encrypted: decryption failed/.test(reason)) {
    return new SigningKeyError(
      `the signing key ${names.key} could not be decrypted with ${names.password}: ${names.password} is not the password the key was generated with. Set ${names.password} to that password, or generate a new pair with \`cosign generate-key-pair\` and publish its cosign.pub.`,
      { secrets, cause },
    );
  }
  if (/invalid pem block|unsupported pem type|parsing private key/.test(reason)) {
    return new SigningKeyError(
      `${names.key} is not a cosign private key (expected the PEM "ENCRYPTED SIGSTORE PRIVATE KEY" block that \`cosign generate-key-pair\` writes to cosign.key): set ${names.key} to that file's content.`,
      { secrets, cause },
    );
  }
  if (/reading key: .*(no such file|not found|permission denied)/.test(reason)) {
    return new SigningKeyError(
      `the signing key ${names.key} cannot be read (${reason.replace(/^.*reading key: /, "")}): point it at the cosign.key file, or run \`mcp-pipeline setup\` to generate the local one.`,
      { secrets, cause },
    );
  }
  return undefined;
}

function tlogEntryOf(stderr: string): TlogEntry | undefined {
  const index = /tlog entry created with index:\s*(\d+)/.exec(stderr)?.[1];
  return index === undefined ? undefined : { logIndex: Number(index) };
}

function prepareSigning(input: SignInput): DigestRef {
  const ref = parseDigestRef(input.ref);
  if (input.mode.kind === "keyless") assertKeylessReady(input.env);
  return ref;
}

/**
 * Signs an image by digest with cosign and stores the signature next to it in the registry
 * (`<repo>:sha256-<hex>.sig`). Key mode takes the key pair's password through `COSIGN_PASSWORD`
 * and a PEM key through `COSIGN_KEY` in cosign's environment; keyless mode uses GitHub Actions'
 * OIDC token. Registry credentials reach cosign through a temporary Docker config, deleted after.
 *
 * @throws ImageRefError for a tag instead of a digest; SigningKeyError when the key or its
 * password is wrong (the message names the secrets, never their values); EnvironmentError when
 * cosign or the OIDC token is missing; CosignError for any other cosign failure.
 */
export async function signImage(input: SignInput): Promise<SignResult> {
  const ref = prepareSigning(input);
  const args = withFlags(
    signArgs(ref, input.mode, input.tlogUpload, input.registry, input.recursive),
    sigstoreFlags(input.sigstore, input.mode.kind === "keyless"),
  );
  const run = await runCosign(
    args,
    input,
    signingEnv(input.mode),
    secretsOf(input, input.mode),
    input.mode.kind === "keyless",
  );
  if (run.exitCode !== 0) throw signingFailure(run, args, input);
  return {
    ref: ref.ref,
    digest: ref.digest,
    mode: input.mode.kind,
    tlogUpload: input.tlogUpload,
    tlog: tlogEntryOf(run.stderr),
    command: ["cosign", ...args],
    durationMs: run.durationMs,
    signatureRef: cosignArtifactRef(ref, "sig"),
  };
}

/**
 * Attests a predicate about an image digest (`cosign attest --type cyclonedx|slsaprovenance1`):
 * an in-toto statement whose subject is the digest, signed like `signImage` signs, stored as
 * `<repo>:sha256-<hex>.att`. Attestations accumulate: attesting again adds one.
 *
 * @throws the same errors as signImage.
 */
export async function attest(input: AttestInput): Promise<AttestResult> {
  const ref = prepareSigning(input);
  const args = withFlags(
    attestArgs(ref, input.predicateFile, input.type, input.mode, input.tlogUpload, input.registry),
    sigstoreFlags(input.sigstore, input.mode.kind === "keyless"),
  );
  const run = await runCosign(
    args,
    input,
    signingEnv(input.mode),
    secretsOf(input, input.mode),
    input.mode.kind === "keyless",
  );
  if (run.exitCode !== 0) throw signingFailure(run, args, input);
  return {
    ref: ref.ref,
    digest: ref.digest,
    mode: input.mode.kind,
    tlogUpload: input.tlogUpload,
    tlog: tlogEntryOf(run.stderr),
    command: ["cosign", ...args],
    durationMs: run.durationMs,
    type: input.type,
    predicateType: PREDICATE_TYPE_URI[input.type],
    attestationRef: cosignArtifactRef(ref, "att"),
  };
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
