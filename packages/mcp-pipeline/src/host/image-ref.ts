/** An image reference split the way Docker reads one (`docker.io/library/node:24@sha256:…`). */
export interface ImageRef {
  /** Registry host (and port); `docker.io` when the reference names none. */
  registry: string;
  /** Repository path inside the registry; Docker Hub's official images gain `library/`. */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Parses an image reference by Docker's rules: the first component is a
 * registry host when it holds a `.` or a `:` or is `localhost`; a tag follows
 * the last `:` after the last `/`; a digest follows `@`.
 */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf("@");
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const named = at === -1 ? ref : ref.slice(0, at);
  const colon = named.lastIndexOf(":");
  const hasTag = colon > named.lastIndexOf("/");
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  const name = hasTag ? named.slice(0, colon) : named;
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  const registry = hasHost ? first : "docker.io";
  let path = hasHost ? name.slice(slash + 1) : name;
  if (registry === "docker.io" && !path.includes("/")) path = `library/${path}`;
  return { registry, path, tag, digest };
}
