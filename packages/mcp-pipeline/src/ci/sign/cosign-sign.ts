import { CosignError, EnvironmentError, SigningKeyError } from "../errors.js";
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
  OIDC_REQUEST_ENV,
  runCosign,
  secretsOf,
  sigstoreFlags,
  type TlogEntry,
} from "./cosign-run.js";
import { cosignArtifactRef, type DigestRef, parseDigestRef } from "./image-ref.js";

// `cosign sign` and `cosign attest`: the signing modes (a key pair, or keyless), their secrets in
// cosign's environment, the arguments, and failures that name the secret at fault.

/** How the report names the secrets of a key pair: the variables or files they came from. */
export interface SecretNames {
  /** Default `COSIGN_KEY` (or the key file's path when signing with a file). */
  key?: string;
  /** Default `COSIGN_PASSWORD`. */
  password?: string;
}

/** Sign with a cosign key pair (`cosign generate-key-pair`), the private key in a file. */
export interface KeyFileSigning {
  kind: "key";
  keyFile: string;
  password: string;
  secretNames?: SecretNames;
}

/** Sign with a cosign key pair whose encrypted private key is given as PEM (a `COSIGN_KEY` secret). */
export interface KeyPemSigning {
  kind: "key";
  keyPem: string;
  password: string;
  secretNames?: SecretNames;
}

/**
 * Sign keylessly: Fulcio certifies an ephemeral key for the ambient OIDC identity (on GitHub
 * Actions the workflow, with `permissions: id-token: write`), Rekor logs the signature.
 */
export interface KeylessSigning {
  kind: "keyless";
  /** Where cosign gets the OIDC token; never the interactive browser flow. */
  oidcProvider?: "github-actions";
}

export type SigningMode = KeyFileSigning | KeyPemSigning | KeylessSigning;

function signerFlags(mode: SigningMode): string[] {
  if (mode.kind === "keyless") return [`--oidc-provider=${mode.oidcProvider ?? "github-actions"}`];
  return ["--key", "keyFile" in mode ? mode.keyFile : `env://${COSIGN_ENV.key}`];
}

/**
 * The secrets a signing mode puts into cosign's environment (never argv): the password as
 * `COSIGN_PASSWORD` — always set in key mode, so cosign never falls back to reading a terminal or
 * stdin — and a PEM key as `COSIGN_KEY`, read by `--key env://COSIGN_KEY`.
 */
export function signingEnv(mode: SigningMode): Record<string, string> {
  if (mode.kind === "keyless") return {};
  return {
    [COSIGN_ENV.password]: mode.password,
    ...("keyPem" in mode ? { [COSIGN_ENV.key]: mode.keyPem } : {}),
  };
}

/** A signing mode's secret values, scrubbed from cosign's output. */
function modeSecrets(mode: SigningMode): string[] {
  if (mode.kind === "keyless") return [];
  return [mode.password, ...("keyPem" in mode ? [mode.keyPem] : [])];
}

/** Names of a signing mode's secrets, as messages and reports may print them. */
export function secretNamesOf(mode: KeyFileSigning | KeyPemSigning): {
  key: string;
  password: string;
} {
  return {
    key: mode.secretNames?.key ?? ("keyFile" in mode ? mode.keyFile : COSIGN_ENV.key),
    password: mode.secretNames?.password ?? COSIGN_ENV.password,
  };
}

/**
 * `cosign sign` arguments for a digest. `--tlog-upload=false` keeps an air-gapped signature out of
 * the public transparency log (Rekor), which it could not reach anyway.
 */
export function signArgs(
  ref: DigestRef,
  mode: SigningMode,
  tlogUpload: boolean,
  registry: RegistryTransport,
  recursive = false,
): string[] {
  return [
    "sign",
    "--yes",
    // An index: sign it and every platform image in it, so either can be verified.
    ...(recursive ? ["--recursive"] : []),
    ...signerFlags(mode),
    `--tlog-upload=${tlogUpload}`,
    ...registryFlags(registry),
    ref.ref,
  ];
}

/** `cosign attest` arguments: the predicate file wrapped in an in-toto statement about the digest. */
export function attestArgs(
  ref: DigestRef,
  predicateFile: string,
  type: PredicateType,
  mode: SigningMode,
  tlogUpload: boolean,
  registry: RegistryTransport,
): string[] {
  return [
    "attest",
    "--yes",
    ...signerFlags(mode),
    "--type",
    type,
    "--predicate",
    predicateFile,
    `--tlog-upload=${tlogUpload}`,
    ...registryFlags(registry),
    ref.ref,
  ];
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
  const { ref, signed } = await runSigning(input, (r) =>
    signArgs(r, input.mode, input.tlogUpload, input.registry, input.recursive),
  );
  return { ...signed, signatureRef: cosignArtifactRef(ref, "sig") };
}

/**
 * Attests a predicate about an image digest (`cosign attest --type cyclonedx|slsaprovenance1`):
 * an in-toto statement whose subject is the digest, signed like `signImage` signs, stored as
 * `<repo>:sha256-<hex>.att`. Attestations accumulate: attesting again adds one.
 *
 * @throws the same errors as signImage.
 */
export async function attest(input: AttestInput): Promise<AttestResult> {
  const { ref, signed } = await runSigning(input, (r) =>
    attestArgs(r, input.predicateFile, input.type, input.mode, input.tlogUpload, input.registry),
  );
  return {
    ...signed,
    type: input.type,
    predicateType: PREDICATE_TYPE_URI[input.type],
    attestationRef: cosignArtifactRef(ref, "att"),
  };
}

/** Runs one signing command (`sign` or `attest`) for a digest and reads what every one reports. */
async function runSigning(
  input: SignInput,
  argsFor: (ref: DigestRef) => string[],
): Promise<{ ref: DigestRef; signed: SignedArtifact }> {
  const ref = prepareSigning(input);
  const keyless = input.mode.kind === "keyless";
  const args = withFlags(argsFor(ref), sigstoreFlags(input.sigstore, keyless));
  const run = await runCosign(
    args,
    input,
    signingEnv(input.mode),
    secretsOf(input, modeSecrets(input.mode)),
    keyless,
  );
  if (run.exitCode !== 0) throw signingFailure(run, args, input);
  return {
    ref,
    signed: {
      ref: ref.ref,
      digest: ref.digest,
      mode: input.mode.kind,
      tlogUpload: input.tlogUpload,
      tlog: tlogEntryOf(run.stderr),
      command: ["cosign", ...args],
      durationMs: run.durationMs,
    },
  };
}
