import { type Client, type Container, dag } from "@dagger.io/dagger";
import type { PublishTarget } from "../registry/target.js";

export interface PublishResult {
  /** `repository:tag@digest` for every tag. */
  refs: string[];
  digest: string;
}

/**
 * Publishes the built container under every tag with Dagger's
 * `withRegistryAuth` + `publish`. The credentials only ever exist as a Dagger
 * secret. Fails unless every tag resolves to one digest.
 */
export async function publish(
  container: Container,
  target: PublishTarget,
  tags: string[],
  client: Client = dag,
): Promise<PublishResult> {
  if (tags.length === 0) throw new Error("no tags to publish");
  const secret = client.setSecret("registry-password", target.password);
  const authed = container.withRegistryAuth(target.address, target.username, secret);
  const refs: string[] = [];
  for (const tag of tags) refs.push(await authed.publish(`${target.repository}:${tag}`));
  const digests = new Set(refs.map((r) => r.split("@")[1]));
  const [digest] = [...digests];
  if (digests.size !== 1 || !digest)
    throw new Error(`tags resolved to different digests: ${refs.join(", ")}`);
  return { refs: tags.map((t) => `${target.repository}:${t}@${digest}`), digest };
}
