import { docker, tryDocker } from "./docker.js";
import { readOciImage } from "./image-facts.js";

/**
 * Loads an exported OCI image tarball into Docker unless Docker already has it, and returns its
 * image id. The id is what the engine's image store makes of the tarball: the config digest in
 * the classic store, the digest `index.json` names in the containerd image store (Docker 29's
 * default for new installs) — each store finds the image by its own id and no other, so both
 * are asked.
 */
export async function loadImageOnce(tarball: string): Promise<string> {
  const { configDigest, topDigest } = await readOciImage(tarball);
  for (const id of [configDigest, topDigest]) {
    const found = (await tryDocker(["image", "inspect", "--format", "{{.Id}}", id]))?.trim();
    if (found === id) return id;
  }
  const loaded = await docker(["load", "-q", "-i", tarball]);
  const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(loaded)?.[1];
  if (id) return id;
  // A tarball that names its image: `docker load -q` prints the name, not the id.
  const named = /Loaded image: (\S+)/.exec(loaded)?.[1];
  if (named) return (await docker(["image", "inspect", "--format", "{{.Id}}", named])).trim();
  throw new Error(`docker load did not say what it loaded: ${loaded}`);
}
