/** Predicate types this pipeline attests, by cosign v2's `--type` name. */
export type PredicateType = "cyclonedx" | "slsaprovenance1";

/** The in-toto `predicateType` URI cosign writes for each `--type`. */
export const PREDICATE_TYPE_URI: Readonly<Record<PredicateType, string>> = {
  cyclonedx: "https://cyclonedx.org/bom",
  slsaprovenance1: "https://slsa.dev/provenance/v1",
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

export function registryFlags(registry: RegistryTransport): string[] {
  return [
    ...(registry.plainHttp ? ["--allow-http-registry"] : []),
    ...(registry.insecureSkipTlsVerify ? ["--allow-insecure-registry"] : []),
  ];
}

/** Inserts flags before the trailing image reference. */
export function withFlags(args: string[], flags: string[]): string[] {
  return [...args.slice(0, -1), ...flags, ...args.slice(-1)];
}
