/**
 * The base images a Dockerfile pulls: every `FROM` that names an image (not
 * `scratch`, not an earlier stage), with `${ARG}` defaults declared before the
 * first `FROM` and the given build args substituted. For the provenance; the
 * digests come from the engine that built it.
 */
export function baseImageRefs(
  dockerfile: string,
  buildArgs: Readonly<Record<string, string>>,
): string[] {
  const args: Record<string, string> = {};
  const stages = new Set<string>();
  const refs: string[] = [];
  let seenFrom = false;
  // Line continuations joined first, so a FROM or ARG split over lines reads whole.
  for (const line of dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/)) {
    const arg = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/i.exec(line);
    if (arg?.[1] && !seenFrom) {
      args[arg[1]] = buildArgs[arg[1]] ?? arg[2]?.replace(/^["']|["']$/g, "") ?? "";
      continue;
    }
    const from = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from?.[1]) continue;
    seenFrom = true;
    const image = from[1].replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
      (_m, name: string) => args[name] ?? "",
    );
    if (image !== "scratch" && !stages.has(image.toLowerCase()) && !refs.includes(image))
      refs.push(image);
    if (from[2]) stages.add(from[2].toLowerCase());
  }
  return refs;
}
