import type { DigestRef } from "./image-ref.js";

/** Predicate types this pipeline attests, by cosign v2's `--type` name. */
export type PredicateType = "cyclonedx" | "slsaprovenance1";

/** The in-toto `predicateType` URI cosign writes for each `--type`. */
export const PREDICATE_TYPE_URI: Readonly<Record<PredicateType, string>> = {
  cyclonedx: "https://cyclonedx.org/bom",
  slsaprovenance1: "https://slsa.dev/provenance/v1",
};

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

/** How cosign reaches the registry. */
export interface RegistryTransport {
  /** Plain HTTP (`--allow-http-registry`): the local registries. */
  plainHttp: boolean;
  /** HTTPS without certificate checks (`--allow-insecure-registry`): self-signed test registries. */
  insecureSkipTlsVerify?: boolean;
}

/** The variables that carry a key pair's secrets into cosign's environment. */
export const COSIGN_ENV = {
  password: "COSIGN_PASSWORD",
  key: "COSIGN_KEY",
  publicKey: "COSIGN_PUBLIC_KEY",
} as const;

function registryFlags(registry: RegistryTransport): string[] {
  return [
    ...(registry.plainHttp ? ["--allow-http-registry"] : []),
    ...(registry.insecureSkipTlsVerify ? ["--allow-insecure-registry"] : []),
  ];
}

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
 * key is shown as `publicKeyName` (default `cosign.pub`), the file users are given.
 */
export function verifyCommand(
  ref: DigestRef,
  expected: VerifyExpectation,
  requireTlog: boolean,
  registry: RegistryTransport,
  options: { type?: PredicateType; publicKeyName?: string } = {},
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
  const args = verifyArgs(ref, shown, requireTlog, registry, options.type);
  const output = args.indexOf("--output");
  args.splice(output, 2);
  return ["cosign", ...args].map(shellQuote).join(" ");
}
