import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A registry and the credentials cosign uses for it. */
export interface RegistryCredentials {
  /** `host[:port]`, as in the image reference: `ghcr.io`, `172.17.0.1:5001`. */
  address: string;
  username: string;
  password: string;
  /** The registry speaks plain HTTP (local registries). */
  plainHttp: boolean;
}

/** The key Docker's credential lookup uses for a registry: Docker Hub has a legacy one. */
export function dockerAuthKey(address: string): string {
  return address === "docker.io" ||
    address === "index.docker.io" ||
    address === "registry-1.docker.io"
    ? "https://index.docker.io/v1/"
    : address;
}

/**
 * The `config.json` that gives cosign (through go-containerregistry's default keychain) the
 * registry credentials: `{"auths": {"<host>": {"auth": base64("user:password")}}}`.
 */
export function dockerConfigJson(registry: RegistryCredentials): string {
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
  return `${JSON.stringify({ auths: { [dockerAuthKey(registry.address)]: { auth } } }, null, 2)}\n`;
}

/**
 * Runs `fn` with a private Docker config directory holding only `registry`'s credentials (directory
 * 0700, `config.json` 0600), and deletes it afterwards whether `fn` succeeds or throws. Pass the
 * directory to the child as `DOCKER_CONFIG`: the credentials never reach argv, logs or the user's
 * own `~/.docker`.
 */
export async function withDockerConfig<T>(
  registry: RegistryCredentials,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  // mkdtemp creates the directory with mode 0700.
  const dir = mkdtempSync(join(tmpdir(), "cosign-docker-config-"));
  try {
    writeFileSync(join(dir, "config.json"), dockerConfigJson(registry), {
      mode: 0o600,
      flag: "wx",
    });
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
