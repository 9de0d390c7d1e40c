import type { SemVer } from "semver";
import semver from "semver";
import { TAG_PATTERN } from "../config/schema.js";
import { GitContextError } from "../errors.js";

/** What the pipeline knows about the commit it builds. */
export interface GitContext {
  /** Full ref: `refs/tags/v1.2.3`, `refs/heads/main`, `refs/pull/42/merge`. */
  ref: string;
  /** Commit id, hex (7 to 64 characters). */
  sha: string;
  /** The repository's default branch, e.g. `main`; it is tagged `edge`. */
  defaultBranch: string;
  /** The triggering event (`push`, `pull_request`, …), when known. */
  eventName?: string | undefined;
  /** The pull request's target branch (`GITHUB_BASE_REF`); only set for pull request events. */
  baseRef?: string | undefined;
}

export type TagKind =
  | "release"
  | "prerelease"
  | "branch"
  | "default-branch"
  | "pull-request"
  | "other";

export interface TagOptions {
  /** Add `latest` to stable releases. Default true. */
  latest?: boolean | undefined;
  /** Tags added to every computed set, e.g. `stable`. */
  extra?: readonly string[] | undefined;
  /** Publish pull request builds too. Default false. */
  publishOnPullRequest?: boolean | undefined;
}

export interface ComputedTags {
  /** Tags in the order they should be pushed; the first is the most specific. */
  tags: string[];
  /** Whether this context should be pushed to the registry at all. */
  publish: boolean;
  kind: TagKind;
  /**
   * A valid semver for the image's `org.opencontainers.image.version` label: the release version
   * without `v` (build metadata kept) for releases and pre-releases, otherwise
   * `0.0.0-<what>+<sha7>`, e.g. `0.0.0-edge+0123abc`, `0.0.0-feature-x+0123abc`, `0.0.0-pr.42+0123abc`.
   */
  version: string;
}

const MAX_TAG_LENGTH = 128;
const SHA = /^[0-9a-f]{7,64}$/i;
const PULL_REF = /^refs\/pull\/(\d+)\/(?:merge|head)$/;

/**
 * Computes image tags for a git context the way docker/metadata-action's common setup does:
 *
 * - `v1.2.3` or `1.2.3` → `1.2.3`, `1.2`, `1`, `latest`; for `0.x` the bare major (`0`) is skipped;
 * - a pre-release `v1.2.3-rc.1` → `1.2.3-rc.1` only;
 * - build metadata is kept in the exact tag with `+` replaced by `-` (`1.2.3+b.5` → `1.2.3-b.5`),
 *   because `+` is not allowed in a tag; the floating tags ignore it;
 * - the default branch → `edge`, `sha-<7>`; other branches → the sanitized branch name, `sha-<7>`;
 * - `refs/pull/<n>/merge|head` (or any pull request event) → `pr-<n>`, not published unless
 *   `publishOnPullRequest`;
 * - a tag that is not semver → the sanitized tag name, published;
 * - any other ref → `sha-<7>`, not published.
 *
 * Sanitizing lowercases, turns `/` and other invalid characters into `-`, trims leading `.`/`-`
 * and caps the length at 128. Throws GitContextError for a non-hex sha, a ref that yields no
 * valid tag, or an invalid extra tag.
 */
export function computeTags(ctx: GitContext, opts: TagOptions = {}): ComputedTags {
  if (!SHA.test(ctx.sha)) {
    throw new GitContextError(
      `commit sha ${JSON.stringify(ctx.sha)} is not a hex commit id (7 to 64 characters of 0-9a-f)`,
    );
  }
  const sha7 = ctx.sha.slice(0, 7).toLowerCase();
  const shaTag = `sha-${sha7}`;
  const extra = [...(opts.extra ?? [])];
  for (const tag of extra) {
    if (!TAG_PATTERN.test(tag)) {
      throw new GitContextError(
        `extra tag ${JSON.stringify(tag)} is not a valid image tag: use letters, digits, _ . - only, at most 128 characters, not starting with . or -`,
      );
    }
  }
  const result = (kind: TagKind, tags: string[], publish: boolean, version: string) => ({
    kind,
    tags: [...new Set([...tags, ...extra])],
    publish,
    version,
  });

  const pull = PULL_REF.exec(ctx.ref);
  const pullRequestEvent =
    ctx.eventName?.startsWith("pull_request") === true || (ctx.baseRef ?? "") !== "";
  if (pull || pullRequestEvent) {
    const publish = opts.publishOnPullRequest === true;
    // pull_request_target runs on the base branch ref, which carries no PR number.
    if (!pull) return result("pull-request", [shaTag], publish, `0.0.0-pr+${sha7}`);
    return result("pull-request", [`pr-${pull[1]}`], publish, `0.0.0-pr.${pull[1]}+${sha7}`);
  }

  if (ctx.ref.startsWith("refs/tags/")) {
    const name = ctx.ref.slice("refs/tags/".length);
    const parsed = semver.parse(name);
    if (parsed) return releaseTags(parsed, opts.latest !== false, result);
    const tag = requireTag(sanitizeTag(name), ctx.ref);
    return result("other", [tag], true, `0.0.0-${semverIdentifier(tag)}+${sha7}`);
  }

  if (ctx.ref.startsWith("refs/heads/")) {
    const branch = ctx.ref.slice("refs/heads/".length);
    if (branch === ctx.defaultBranch) {
      return result("default-branch", ["edge", shaTag], true, `0.0.0-edge+${sha7}`);
    }
    const tag = requireTag(sanitizeTag(branch), ctx.ref);
    return result("branch", [tag, shaTag], true, `0.0.0-${semverIdentifier(tag)}+${sha7}`);
  }

  return result("other", [shaTag], false, `0.0.0-unknown+${sha7}`);
}

function releaseTags(
  version: SemVer,
  latest: boolean,
  result: (kind: TagKind, tags: string[], publish: boolean, version: string) => ComputedTags,
): ComputedTags {
  const full =
    version.build.length > 0 ? `${version.version}+${version.build.join(".")}` : version.version;
  const exact = sanitizeSemverTag(full);
  if (version.prerelease.length > 0) return result("prerelease", [exact], true, full);
  const tags = [exact, `${version.major}.${version.minor}`];
  // metadata-action's default: no bare `0`, since 0.x promises no compatibility across minors.
  if (version.major > 0) tags.push(`${version.major}`);
  if (latest) tags.push("latest");
  return result("release", tags, true, full);
}

/** Turns any string into a valid image tag, or "" when nothing usable is left. */
export function sanitizeTag(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[.-]+/, "")
    .slice(0, MAX_TAG_LENGTH)
    .replace(/-+$/, "");
}

function sanitizeSemverTag(version: string): string {
  return version.replace(/\+/g, "-").slice(0, MAX_TAG_LENGTH);
}

function requireTag(tag: string, ref: string): string {
  if (tag === "") {
    throw new GitContextError(
      `ref ${JSON.stringify(ref)} does not contain anything usable as an image tag`,
    );
  }
  return tag;
}

/** A single semver pre-release identifier made from a tag: `[0-9A-Za-z-]`, no leading zero if numeric. */
function semverIdentifier(tag: string): string {
  const identifier = tag.replace(/[^0-9A-Za-z-]+/g, "-");
  return /^0\d+$/.test(identifier) ? `x${identifier}` : identifier;
}
