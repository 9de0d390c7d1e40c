import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { which } from "../../host/exec.js";
import { CosignError, EnvironmentError } from "../errors.js";
import { redact } from "../report/redact.js";
import type { RegistryTransport } from "./cosign-args.js";
import { type RegistryCredentials, withDockerConfig } from "./docker-config.js";

// What every cosign command shares: the registry and Sigstore it talks to, the environment it
// runs in (only this call's secrets), running it, and reading what it said when it failed.

/** The registry cosign reads the image from and writes signatures to. */
export type CosignRegistry = RegistryCredentials & Pick<RegistryTransport, "insecureSkipTlsVerify">;

/** A private transparency log's public key as users get it: in the report directory, among a release's assets. */
export const REKOR_KEY_NAME = "rekor.pub";

/** A private Sigstore deployment; the public instance when unset. */
export interface SigstoreServices {
  /** `--rekor-url` (transparency log). */
  rekorUrl?: string;
  /** `--fulcio-url` (keyless certificates). */
  fulcioUrl?: string;
}

/** What every cosign call takes besides its own inputs. */
export interface CosignCall {
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

/** An entry the signature got in the transparency log. */
export interface TlogEntry {
  logIndex: number;
  /** Unix seconds, when known (verification reports it). */
  integratedTime?: number;
}

export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
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
export const OIDC_REQUEST_ENV = ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"];

export interface CosignRun {
  exitCode: number;
  stdout: string;
  /** Scrubbed. */
  stderr: string;
  durationMs: number;
}

export function sigstoreFlags(sigstore: SigstoreServices | undefined, keyless: boolean): string[] {
  return [
    ...(sigstore?.rekorUrl ? [`--rekor-url=${sigstore.rekorUrl}`] : []),
    ...(keyless && sigstore?.fulcioUrl ? [`--fulcio-url=${sigstore.fulcioUrl}`] : []),
  ];
}

export function childEnv(
  base: NodeJS.ProcessEnv,
  extra: Record<string, string>,
  keyless: boolean,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of [...WITHHELD_ENV, ...(keyless ? [] : OIDC_REQUEST_ENV)]) delete env[name];
  return { ...env, ...extra };
}

/** Values scrubbed from whatever cosign prints: the registry's, the OIDC token, and `extra`. */
export function secretsOf(call: CosignCall, extra: readonly string[] = []): string[] {
  const { username, password } = call.registry;
  return [
    password,
    `${username}:${password}`,
    ...extra,
    call.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "",
  ];
}

export function tail(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "" && !line.startsWith("WARNING:"))
    .slice(-STDERR_TAIL);
}

/** cosign's own error sentence: its last `Error: …` line, else the last line it wrote. */
export function cosignReason(stderr: string): string {
  const lines = tail(stderr);
  const error = [...lines].reverse().find((line) => line.startsWith("Error: "));
  return (error ?? lines.at(-1) ?? "no output").replace(/^Error: /, "");
}

export async function runCosign(
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
export function hintFor(output: string, call: CosignCall): string {
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
