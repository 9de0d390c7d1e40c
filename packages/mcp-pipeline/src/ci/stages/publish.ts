import { type Client, type Container, dag } from "@dagger.io/dagger";
import { parseImageRef } from "../../host/image-ref.js";
import { manifestKind } from "../../host/registry-api.js";
import type { PublishTarget } from "../registry/target.js";

export interface PublishResult {
  /** `repository:tag@digest` for every tag. */
  refs: string[];
  /** The manifest's digest, or the index's when several platforms were published. */
  digest: string;
}

/**
 * How often a tag is published again until its index matches the first tag's.
 * Dagger 0.20 lists an index's platforms in Go map order, so publishing the same
 * images can produce the same index with its entries swapped — another digest.
 * Each try has a 1-in-(number of orders) chance of a mismatch: with two
 * platforms, 20 tries leave one in a million.
 */
const INDEX_ORDER_ATTEMPTS = 20;

const digestOf = (ref: string) => ref.split("@")[1];

/**
 * Publishes the built container under every tag with Dagger's
 * `withRegistryAuth` + `publish`; with `platformVariants` (the other
 * platforms' images) every tag gets one OCI image index of them all, without
 * them a plain manifest. The credentials only ever exist as a Dagger secret.
 * Fails unless every tag resolves to one digest.
 */
export async function publish(
  container: Container,
  target: PublishTarget,
  tags: string[],
  platformVariants: Container[] = [],
  client: Client = dag,
): Promise<PublishResult> {
  const [firstTag, ...otherTags] = tags;
  if (firstTag === undefined) throw new Error("no tags to publish");
  const secret = client.setSecret("registry-password", target.password);
  const authed = container.withRegistryAuth(target.address, target.username, secret);
  const push = (tag: string) => authed.publish(`${target.repository}:${tag}`, { platformVariants });
  const refs = [await push(firstTag)];
  const digest = digestOf(refs[0] ?? "");
  for (const tag of otherTags) {
    let ref = await push(tag);
    for (
      let attempt = 1;
      platformVariants.length > 0 && digestOf(ref) !== digest && attempt < INDEX_ORDER_ATTEMPTS;
      attempt++
    ) {
      ref = await push(tag);
    }
    refs.push(ref);
  }
  const digests = new Set(refs.map(digestOf));
  if (digests.size !== 1 || !digest)
    throw new Error(`tags resolved to different digests: ${refs.join(", ")}`);
  return { refs: tags.map((t) => `${target.repository}:${t}@${digest}`), digest };
}

/**
 * Each platform's manifest digest inside a published index, read from the
 * registry with the publish credentials.
 */
export async function platformDigests(
  target: PublishTarget,
  indexDigest: string,
  plainHttp: boolean,
): Promise<Record<string, string>> {
  const { path } = parseImageRef(target.repository);
  const found = await manifestKind(target.address, path, indexDigest, target, {
    https: !plainHttp,
  });
  if (found.kind !== "index") return {};
  return Object.fromEntries(found.entries.map((e) => [e.platform, e.digest]));
}
