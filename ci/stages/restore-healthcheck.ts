import type { Healthcheck } from "../dockerfile.js";
import { type RegistryAccess, RegistryClient } from "../registry-client.js";

interface ManifestJson {
  mediaType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: unknown[];
  manifests?: unknown[];
}

/** Docker's image config field for a HEALTHCHECK. */
export function healthcheckConfig(hc: Healthcheck): Record<string, unknown> {
  return {
    Test: hc.test,
    ...(hc.intervalNs !== undefined ? { Interval: hc.intervalNs } : {}),
    ...(hc.timeoutNs !== undefined ? { Timeout: hc.timeoutNs } : {}),
    ...(hc.startPeriodNs !== undefined ? { StartPeriod: hc.startPeriodNs } : {}),
    ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
  };
}

/**
 * Puts the Dockerfile's HEALTHCHECK back into a pushed image's config, which
 * Dagger 0.19 leaves out. The layers stay as pushed; a new config blob and
 * manifest are written and every tag is moved to it. Returns the new digest.
 */
export async function restoreHealthcheck(
  access: RegistryAccess,
  repository: string,
  tags: string[],
  hc: Healthcheck,
): Promise<string> {
  // `ghcr.io/owner/app` → `owner/app`; Docker Hub references may omit the host.
  const firstPart = repository.split("/")[0] ?? "";
  const hasHost = /[.:]/.test(firstPart) || firstPart === "localhost";
  const path = hasHost ? repository.slice(firstPart.length + 1) : repository;
  const repo =
    firstPart === "docker.io" || !hasHost ? (path.includes("/") ? path : `library/${path}`) : path;
  const client = new RegistryClient(access);
  const first = tags[0];
  if (!first) throw new Error("no tags");
  const manifest = await client.getManifest(repo, first);
  const parsed = JSON.parse(manifest.body) as ManifestJson;
  if (parsed.manifests)
    throw new Error(
      `${repository}:${first} is an index; restoring HEALTHCHECK supports single-platform images only`,
    );
  const config = JSON.parse(
    (await client.getBlob(repo, parsed.config.digest)).toString("utf8"),
  ) as { config?: Record<string, unknown> };
  config.config = { ...(config.config ?? {}), Healthcheck: healthcheckConfig(hc) };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await client.putBlob(repo, configBytes);
  const body = JSON.stringify({
    ...parsed,
    config: { ...parsed.config, digest: configDigest, size: configBytes.length },
  });
  const mediaType = parsed.mediaType ?? manifest.mediaType;
  const digests = new Set<string>();
  for (const tag of tags) digests.add(await client.putManifest(repo, tag, { mediaType, body }));
  const [digest] = [...digests];
  if (digests.size !== 1 || !digest)
    throw new Error(`tags moved to different digests: ${[...digests].join(", ")}`);
  return digest;
}
