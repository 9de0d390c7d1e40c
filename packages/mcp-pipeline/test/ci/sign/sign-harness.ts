import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { docker } from "../../../src/ci/docker/docker.js";
import type { CosignRegistry } from "../../../src/ci/sign/cosign-run.js";
import { which } from "../../../src/host/exec.js";
import { basicAuth, MANIFEST_ACCEPT } from "../../../src/host/registry-api.js";
import { readRegistryAuth } from "../../../src/toolchain/state.js";
import { env, paths, viaLoopback } from "../../toolchain/helpers.js";

export { env };

const auth = readRegistryAuth(paths);

/** The local authenticated registry as the signing modules take it. */
export function localRegistry(): CosignRegistry {
  if (!auth)
    throw new Error("the local registry's credentials are missing: run `mcp-pipeline setup`");
  return { ...auth, plainHttp: true };
}

/**
 * A fresh repository in the local authenticated registry: the registry outlives test runs, so
 * the name takes 8 random bytes (3 once met an earlier run's repository).
 */
export function freshRepository(prefix: string): string {
  return `${localRegistry().address}/${prefix}-${randomBytes(8).toString("hex")}`;
}

/** A scratch directory removed by the returned function. */
export function scratchDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Names of the signing modules' temporary Docker config directories that exist right now. */
export function dockerConfigDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith("cosign-docker-config-"));
}

/**
 * Builds a one-layer `FROM scratch` image holding `marker` and an npm package manifest (so an
 * SBOM has a component to list), pushes it as `repository:tag` with `docker push` (logged in
 * through a private Docker config, on loopback: `viaLoopback`), and returns the digest the
 * registry stored.
 */
export async function pushImage(repository: string, tag: string, marker: string) {
  const context = scratchDir("sign-image");
  const config = scratchDir("sign-docker-login");
  const ref = viaLoopback(`${repository}:${tag}`);
  try {
    const pkg = join(context.dir, "app", "node_modules", "left-pad");
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, "package.json"),
      JSON.stringify({ name: "left-pad", version: "1.3.0", license: "WTFPL" }),
    );
    writeFileSync(join(context.dir, "app", "marker.txt"), `${marker}\n`);
    writeFileSync(join(context.dir, "Dockerfile"), "FROM scratch\nCOPY app /app\n");
    // FROM scratch needs no BuildKit; the legacy builder works with every Docker client here.
    await docker(["build", "-q", "-t", ref, context.dir], {
      env: { ...env, DOCKER_BUILDKIT: "0" },
    });
    const registry = localRegistry();
    await docker(
      [
        "--config",
        config.dir,
        "login",
        "-u",
        registry.username,
        "--password-stdin",
        viaLoopback(registry.address),
      ],
      { env, input: registry.password },
    );
    const out = await docker(["--config", config.dir, "push", ref], { env });
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
    if (!digest) throw new Error(`docker push printed no digest:\n${out}`);
    return { digest, ref: `${repository}@${digest}`, localRef: ref };
  } finally {
    context.remove();
    config.remove();
  }
}

/** `docker save` of a local image into `file` (what Trivy reads). */
export async function saveImage(localRef: string, file: string): Promise<void> {
  await docker(["save", "-o", file, localRef], { env });
}

/** Removes local images this suite built (never anyone else's). */
export async function removeLocalImages(refs: readonly string[]): Promise<void> {
  if (refs.length > 0) await execa("docker", ["rmi", "-f", ...refs], { env, reject: false });
}

async function registryFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const registry = localRegistry();
  return fetch(`http://${registry.address}/v2/${path}`, {
    ...init,
    headers: { Accept: MANIFEST_ACCEPT, Authorization: basicAuth(registry), ...init.headers },
    signal: AbortSignal.timeout(10_000),
  });
}

/** Tags of a repository in the local registry ([] when it does not exist). */
export async function tagsOf(repository: string): Promise<string[]> {
  const name = repository.slice(localRegistry().address.length + 1);
  const res = await registryFetch(`${name}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
}

/** The digest a tag points at, or undefined. */
export async function digestOfTag(repository: string, tag: string): Promise<string | undefined> {
  const name = repository.slice(localRegistry().address.length + 1);
  const res = await registryFetch(`${name}/manifests/${tag}`, { method: "HEAD" });
  return res.ok ? (res.headers.get("docker-content-digest") ?? undefined) : undefined;
}

/** Deletes every manifest of a test repository (the registry has deletes enabled). */
export async function deleteRepository(repository: string): Promise<void> {
  const name = repository.slice(localRegistry().address.length + 1);
  const digests = new Set<string>();
  for (const tag of await tagsOf(repository)) {
    const digest = await digestOfTag(repository, tag);
    if (digest) digests.add(digest);
  }
  for (const digest of digests) {
    await registryFetch(`${name}/manifests/${digest}`, { method: "DELETE" });
  }
}

/** A cosign key pair made by `cosign generate-key-pair` (password through the environment). */
export async function generateKeyPair(dir: string, password: string) {
  if (!which("cosign", env)) {
    throw new Error(
      "cosign is not on the toolchain PATH: `mcp-pipeline setup` installs it into ~/.cache/mcp-pipeline/bin",
    );
  }
  mkdirSync(dir, { recursive: true });
  await execa("cosign", ["generate-key-pair"], {
    cwd: dir,
    env: { ...env, COSIGN_PASSWORD: password },
    stdin: "ignore",
  });
  return {
    keyFile: join(dir, "cosign.key"),
    publicKeyFile: join(dir, "cosign.pub"),
    keyPem: readFileSync(join(dir, "cosign.key"), "utf8"),
    publicKeyPem: readFileSync(join(dir, "cosign.pub"), "utf8"),
    password,
  };
}
