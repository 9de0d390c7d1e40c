import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version of the package `name` as this package's code resolves it, or undefined when it is
 * not installed. Read from the package's own manifest, found by walking up from its entry point:
 * packages whose `exports` leave out `./package.json` are found too.
 */
export function installedVersion(name: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.resolve(name)));
  } catch {
    return undefined;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const parsed = JSON.parse(readFileSync(manifest, "utf8")) as {
      name?: string;
      version?: string;
    };
    if (parsed.name === name) return parsed.version;
  }
  return undefined;
}
