import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { MANIFEST_ACCEPT } from "../../src/host/registry-api.js";
import { REGISTRY_BRIDGE_HOST } from "../../src/toolchain/registry-config.js";
import { startTokenRegistry, type TokenRegistry } from "../ci/support/token-registry.js";

/**
 * Where GHCR's stand-in listens: the bridge address (the runner's Dagger engine reaches it there,
 * and the pipeline speaks plain HTTP to it), on a port of its own. Not the tests' token registry's
 * (`TOKEN_REGISTRY_ADDRESS`): the `test` job's `npm test` starts that one while this one serves,
 * and not one the runner's setup moves its own registries to (the next free ports after 5002).
 */
export const GHCR_ADDRESS = `${REGISTRY_BRIDGE_HOST}:5099`;

/** The image name pipeline.config.yaml gives this repository's image. */
export const IMAGE_NAME = "todo-mcp";

/** GHCR as the simulated runner sees it: the tests' token-auth registry, and a cosign key pair as repository secrets. */
export interface GhcrStandIn {
  registry: TokenRegistry;
  /** Secrets the simulated repository has. */
  secrets: Record<string, string>;
  /** The actor (GITHUB_ACTOR, the registry user). */
  actor: string;
  /** The public half of the repository's signing key. */
  publicKeyFile: string;
  close(): Promise<void>;
}

/** Starts the token-auth registry standing in for GHCR and makes the repository's signing key. */
export async function startGhcr(dir: string, cosign: string): Promise<GhcrStandIn> {
  const registry = await startTokenRegistry({ address: GHCR_ADDRESS });
  mkdirSync(dir, { recursive: true });
  const password = randomBytes(12).toString("hex");
  await execa(cosign, ["generate-key-pair"], {
    cwd: dir,
    env: { ...process.env, COSIGN_PASSWORD: password },
  });
  return {
    registry,
    actor: registry.username,
    publicKeyFile: join(dir, "cosign.pub"),
    secrets: {
      // On GitHub the job's GITHUB_TOKEN is what GHCR accepts from GITHUB_ACTOR.
      GITHUB_TOKEN: registry.password,
      COSIGN_KEY: readFileSync(join(dir, "cosign.key"), "utf8"),
      COSIGN_PASSWORD: password,
    },
    close: () => registry.close(),
  };
}

async function get(registry: TokenRegistry, name: string, path: string, init: RequestInit = {}) {
  return fetch(`http://${registry.address}/v2/${name}/${path}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${registry.pullToken(name)}`,
      Accept: MANIFEST_ACCEPT,
      ...(init.headers ?? {}),
    },
  });
}

/** The tags of `name` in the stand-in, and the digest each points at. */
export async function publishedTags(
  registry: TokenRegistry,
  name = IMAGE_NAME,
): Promise<Map<string, string>> {
  const list = await get(registry, name, "tags/list");
  if (list.status === 404) return new Map();
  const { tags } = (await list.json()) as { tags?: string[] | null };
  const out = new Map<string, string>();
  for (const tag of tags ?? []) {
    const head = await get(registry, name, `manifests/${tag}`, { method: "HEAD" });
    out.set(tag, head.headers.get("docker-content-digest") ?? "");
  }
  return out;
}

/**
 * What a run must have published: nothing at all (`want` empty), or exactly the tags in `want`
 * on one digest, with a cosign signature beside it. Returns the problems.
 */
export function judgePublished(tags: Map<string, string>, want: string[]): string[] {
  const images = [...tags.keys()].filter((t) => !t.startsWith("sha256-"));
  if (want.length === 0)
    return tags.size === 0
      ? []
      : [`published ${[...tags.keys()].join(", ")} but must publish nothing`];
  const problems: string[] = [];
  if (images.sort().join(",") !== [...want].sort().join(","))
    problems.push(`published tags ${images.join(", ") || "(none)"}, must be ${want.join(", ")}`);
  const digests = new Set(images.map((t) => tags.get(t)));
  if (digests.size > 1) problems.push(`the tags point at ${digests.size} digests, must be one`);
  const digest = [...digests][0] ?? "";
  if (digest && !tags.has(`${digest.replace(":", "-")}.sig`))
    problems.push(`${digest} is not signed (no ${digest.replace(":", "-")}.sig)`);
  return problems;
}

/**
 * Verifies the published digest's signature with real cosign as a user of the private Sigstore
 * would: against the repository's public key, with its transparency-log entry required (no
 * --insecure-ignore-tlog) and checked against the stand-in log's own public key. Returns the problems.
 */
export async function verifySignedInLog(
  ghcr: GhcrStandIn,
  digest: string,
  cosign: string,
  rekor: { url: string; publicKeyFile: string },
  dir: string,
  name = IMAGE_NAME,
): Promise<string[]> {
  const { registry } = ghcr;
  const dockerConfig = join(dir, "docker-config");
  mkdirSync(dockerConfig, { recursive: true });
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
  writeFileSync(
    join(dockerConfig, "config.json"),
    JSON.stringify({ auths: { [registry.address]: { auth } } }),
  );
  const ref = `${registry.address}/${name}@${digest}`;
  const result = await execa(
    cosign,
    [
      "verify",
      "--key",
      ghcr.publicKeyFile,
      `--rekor-url=${rekor.url}`,
      "--allow-http-registry",
      "--output",
      "json",
      ref,
    ],
    {
      env: {
        ...process.env,
        DOCKER_CONFIG: dockerConfig,
        SIGSTORE_REKOR_PUBLIC_KEY: rekor.publicKeyFile,
      },
      reject: false,
      timeout: 120_000,
    },
  ).finally(() => rmSync(dockerConfig, { recursive: true, force: true }));
  if (result.exitCode !== 0)
    return [
      `cosign verify of ${ref} against the stand-in Rekor failed: ${String(result.stderr).trim().split("\n").slice(-3).join(" / ")}`,
    ];
  const entries = (
    JSON.parse(String(result.stdout)) as {
      optional?: { Bundle?: { Payload?: { logIndex?: number } } } | null;
    }[]
  )
    .map((item) => item.optional?.Bundle?.Payload?.logIndex)
    .filter((index) => index !== undefined);
  return entries.length > 0 ? [] : [`the signature of ${ref} carries no transparency-log entry`];
}
