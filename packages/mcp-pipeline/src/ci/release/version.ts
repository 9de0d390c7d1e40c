import semver from "semver";

/** The bumps `mcp-pipeline release` accepts besides an explicit version. */
export const BUMPS = ["patch", "minor", "major"] as const;
export type Bump = (typeof BUMPS)[number];

/** A release refused before anything changed: bad input, or a repository not ready to release. */
export class ReleaseRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The version a release request leads to from `current` (package.json's version).
 *
 * `patch`, `minor` and `major` bump it the semver way (`1.2.3` → `1.2.4`, `1.3.0`, `2.0.0`; a
 * pre-release `1.3.0-rc.1` → `1.3.0` for `patch`). An explicit version such as `1.4.0` or
 * `2.0.0-rc.1` is taken as given; a leading `v` is accepted and dropped, because the tag adds it.
 * Throws ReleaseRefusedError when `current` is not semver, when the request is neither a bump nor
 * a semver version, when it carries build metadata (an image tag cannot hold `+`), or when it is
 * not greater than `current`.
 */
export function nextVersion(current: string, request: string): string {
  const from = semver.valid(current);
  if (from === null) {
    throw new ReleaseRefusedError(
      `package.json has version ${JSON.stringify(current)}, which is not semver (X.Y.Z); fix it first`,
    );
  }
  const wanted = request.trim();
  if ((BUMPS as readonly string[]).includes(wanted)) {
    // `inc` cannot fail for a valid version and a plain bump.
    return semver.inc(from, wanted as Bump) as string;
  }
  const usage = `give ${BUMPS.join(", ")}, or a version like ${semver.inc(from, "patch")}`;
  if (!/^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(wanted)) {
    throw new ReleaseRefusedError(`${JSON.stringify(request)} is not a version: ${usage}`);
  }
  const to = semver.valid(wanted);
  if (to === null) {
    throw new ReleaseRefusedError(`${JSON.stringify(request)} is not a semver version: ${usage}`);
  }
  if (wanted.includes("+")) {
    throw new ReleaseRefusedError(
      `${JSON.stringify(request)} carries build metadata (+…), which an image tag cannot hold: ${usage}`,
    );
  }
  if (!semver.gt(to, from)) {
    throw new ReleaseRefusedError(
      `${to} is not greater than the current version ${from}: ${usage}`,
    );
  }
  return to;
}

/** The git tag of a release version: `v` + the version, which release.yml's `v*.*.*` matches. */
export function releaseTag(version: string): string {
  return `v${version}`;
}
