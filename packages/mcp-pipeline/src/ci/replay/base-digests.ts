import { parseImageRef } from "../../host/image-ref.js";
import { currentDigest } from "../../host/registry-api.js";

/** The engine's registry settings (its engine.json `registries`): mirrors, and plain HTTP. */
export type RegistryHosts = Readonly<
  Record<string, { mirrors?: readonly string[] | undefined; http?: boolean | undefined }>
>;

/**
 * The digest a build resolving `ref` gets now, asked the way the engine asks:
 * the registry's mirrors first, then the registry itself, over plain HTTP
 * where the engine's settings say so. A reference pinned by digest is its
 * own answer. Throws, naming every place asked, when none has it.
 */
export async function resolveBaseDigest(ref: string, hosts: RegistryHosts): Promise<string> {
  const image = parseImageRef(ref);
  if (image.digest) return image.digest;
  const problems: string[] = [];
  for (const host of [...(hosts[image.registry]?.mirrors ?? []), image.registry]) {
    try {
      const digest = await currentDigest(host, image.path, image.tag ?? "latest", {
        https: hosts[host]?.http !== true,
      });
      if (digest) return digest;
      problems.push(`${host}: no such manifest`);
    } catch (err) {
      problems.push(`${host}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot resolve ${ref}: ${problems.join("; ")}`);
}
