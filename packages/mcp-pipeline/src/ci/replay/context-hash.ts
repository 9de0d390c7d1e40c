import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import dockerignoreModule from "@balena/dockerignore";

// A CommonJS module whose types declare `export default`; it sets both, so `.default` is safe.
const dockerignore = dockerignoreModule.default;

/** Files never worth uploading to the engine; `.dockerignore` still decides what the build sees. */
export const NEVER_UPLOAD = ["node_modules", ".git", "dist", "coverage"];

/** A `.dockerignore` file's patterns: comments and blank lines dropped. */
function ignorePatterns(contextDir: string): string[] {
  const file = join(contextDir, ".dockerignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** One path segment of a pattern as a regular expression (`*` and `?` stay within the segment). */
function segmentRegExp(segment: string): RegExp {
  const source = segment
    .split(/(\*|\?)/)
    .map((part) =>
      part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`);
}

/**
 * Whether an exception (`!pattern`) could bring back something inside `dir`, an excluded
 * directory: the pattern's leading segments match the directory's, or reach `**` first. Docker
 * walks into such a directory; any other excluded directory is skipped whole.
 */
function mayReinclude(dir: string, exceptions: readonly string[][]): boolean {
  const parts = dir.split("/");
  return exceptions.some((segments) => {
    for (const [i, part] of parts.entries()) {
      const segment = segments[i];
      if (segment === undefined) return false;
      if (segment === "**") return true;
      if (!segmentRegExp(segment).test(part)) return false;
    }
    return true;
  });
}

/**
 * sha256 over what a build of `contextDir` is sent: every file `.dockerignore`
 * lets through (by Docker's rules) and its path, executable bit and content,
 * and each symbolic link's target. `skip` names top-level entries never
 * uploaded at all (dependencies, git's own files, the report directory). The
 * Dockerfile and `.dockerignore` are hashed by whoever needs them: the build
 * reads them even when the context excludes them.
 */
export function contextHash(contextDir: string, skip: readonly string[] = []): string {
  const patterns = ignorePatterns(contextDir);
  const ignore = dockerignore().add(patterns);
  const exceptions = patterns
    .filter((p) => p.startsWith("!"))
    .map((p) =>
      p
        .slice(1)
        .replace(/^\/+|\/+$/g, "")
        .split("/"),
    );
  const hash = createHash("sha256");
  const walk = (dir: string, rel: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (rel === "" && skip.includes(entry.name)) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!ignore.ignores(path) || mayReinclude(path, exceptions)) walk(full, path);
        continue;
      }
      if (ignore.ignores(path)) continue;
      if (entry.isSymbolicLink()) {
        hash.update(`link\0${path}\0${readlinkSync(full)}\0`);
      } else if (entry.isFile()) {
        const executable = (lstatSync(full).mode & 0o111) !== 0;
        hash.update(`file\0${path}\0${executable ? "x" : "-"}\0`);
        hash.update(createHash("sha256").update(readFileSync(full)).digest("hex"));
      }
    }
  };
  walk(contextDir, "");
  return hash.digest("hex");
}
