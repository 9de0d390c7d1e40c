import semver from "semver";
import { describe, expect, it } from "vitest";
import { GitContextError } from "../../../src/ci/errors.js";
import { type ComputedTags, computeTags, sanitizeTag } from "../../../src/ci/git/tags.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ctx = (ref: string, extra: { eventName?: string; baseRef?: string } = {}) => ({
  ref,
  sha: SHA,
  defaultBranch: "main",
  ...extra,
});

describe("computeTags", () => {
  const table: {
    name: string;
    ref: string;
    tags: string[];
    kind: ComputedTags["kind"];
    publish: boolean;
    version: string;
  }[] = [
    {
      name: "a v-prefixed release gets exact, minor, major and latest",
      ref: "refs/tags/v1.2.3",
      tags: ["1.2.3", "1.2", "1", "latest"],
      kind: "release",
      publish: true,
      version: "1.2.3",
    },
    {
      name: "a release without the v prefix is the same release",
      ref: "refs/tags/1.2.3",
      tags: ["1.2.3", "1.2", "1", "latest"],
      kind: "release",
      publish: true,
      version: "1.2.3",
    },
    {
      name: "a 0.x release skips the bare major tag",
      ref: "refs/tags/v0.4.1",
      tags: ["0.4.1", "0.4", "latest"],
      kind: "release",
      publish: true,
      version: "0.4.1",
    },
    {
      name: "a pre-release with dotted identifiers gets only its exact tag",
      ref: "refs/tags/v1.2.3-rc.1",
      tags: ["1.2.3-rc.1"],
      kind: "prerelease",
      publish: true,
      version: "1.2.3-rc.1",
    },
    {
      name: "a pre-release with a single identifier gets only its exact tag, never latest",
      ref: "refs/tags/v2.0.0-rc1",
      tags: ["2.0.0-rc1"],
      kind: "prerelease",
      publish: true,
      version: "2.0.0-rc1",
    },
    {
      name: "a pre-release with a single word identifier is a pre-release too",
      ref: "refs/tags/v1.0.0-beta",
      tags: ["1.0.0-beta"],
      kind: "prerelease",
      publish: true,
      version: "1.0.0-beta",
    },
    {
      name: "a pre-release with a single numeric identifier is a pre-release too",
      ref: "refs/tags/1.4.0-0",
      tags: ["1.4.0-0"],
      kind: "prerelease",
      publish: true,
      version: "1.4.0-0",
    },
    {
      name: "a 0.x pre-release gets only its exact tag",
      ref: "refs/tags/v0.1.0-alpha.2.3",
      tags: ["0.1.0-alpha.2.3"],
      kind: "prerelease",
      publish: true,
      version: "0.1.0-alpha.2.3",
    },
    {
      name: "build metadata is kept with + replaced by -",
      ref: "refs/tags/v1.2.3+build.5",
      tags: ["1.2.3-build.5", "1.2", "1", "latest"],
      kind: "release",
      publish: true,
      version: "1.2.3+build.5",
    },
    {
      name: "a pre-release with build metadata keeps both",
      ref: "refs/tags/v2.0.0-beta.1+exp.sha.5114f85",
      tags: ["2.0.0-beta.1-exp.sha.5114f85"],
      kind: "prerelease",
      publish: true,
      version: "2.0.0-beta.1+exp.sha.5114f85",
    },
    {
      name: "the default branch is edge plus the short sha",
      ref: "refs/heads/main",
      tags: ["edge", "sha-0123456"],
      kind: "default-branch",
      publish: true,
      version: "0.0.0-edge+0123456",
    },
    {
      name: "another branch is its sanitized, lowercased name plus the short sha",
      ref: "refs/heads/Feature/Add_Login",
      tags: ["feature-add_login", "sha-0123456"],
      kind: "branch",
      publish: true,
      version: "0.0.0-feature-add-login+0123456",
    },
    {
      name: "characters outside the tag alphabet collapse into one dash",
      ref: "refs/heads/fix/über café#12",
      tags: ["fix-ber-caf-12", "sha-0123456"],
      kind: "branch",
      publish: true,
      version: "0.0.0-fix-ber-caf-12+0123456",
    },
    {
      name: "a pull request merge ref is pr-<n> and not published",
      ref: "refs/pull/42/merge",
      tags: ["pr-42"],
      kind: "pull-request",
      publish: false,
      version: "0.0.0-pr.42+0123456",
    },
    {
      name: "a pull request head ref is pr-<n> and not published",
      ref: "refs/pull/7/head",
      tags: ["pr-7"],
      kind: "pull-request",
      publish: false,
      version: "0.0.0-pr.7+0123456",
    },
    {
      name: "a tag that is not semver becomes its sanitized name",
      ref: "refs/tags/Release-Candidate",
      tags: ["release-candidate"],
      kind: "other",
      publish: true,
      version: "0.0.0-release-candidate+0123456",
    },
    {
      name: "a two-part version tag is not semver and stays as written",
      ref: "refs/tags/v1.2",
      tags: ["v1.2"],
      kind: "other",
      publish: true,
      version: "0.0.0-v1-2+0123456",
    },
    {
      name: "an unknown ref only gets the sha tag and is not published",
      ref: "refs/remotes/origin/main",
      tags: ["sha-0123456"],
      kind: "other",
      publish: false,
      version: "0.0.0-unknown+0123456",
    },
  ];

  it.each(table)("$name ($ref)", ({ ref, tags, kind, publish, version }) => {
    expect(computeTags(ctx(ref))).toEqual({ tags, kind, publish, version });
  });

  it("always produces a version that is valid semver", () => {
    for (const row of table) {
      expect(semver.valid(computeTags(ctx(row.ref)).version), row.ref).not.toBeNull();
    }
  });

  it("always produces tags that docker accepts", () => {
    const refs = [...table.map((row) => row.ref), `refs/heads/${"x/".repeat(100)}`];
    for (const ref of refs) {
      for (const tag of computeTags(ctx(ref)).tags) {
        expect(tag, ref).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
      }
    }
  });

  it("caps a long branch name at 128 characters", () => {
    const branch = `feature/${"a".repeat(300)}`;
    const [tag] = computeTags(ctx(`refs/heads/${branch}`)).tags;
    expect(tag).toHaveLength(128);
    expect(tag?.startsWith("feature-aaa")).toBe(true);
  });

  it("drops leading dots and dashes that docker rejects", () => {
    expect(computeTags(ctx("refs/heads/-.hidden")).tags[0]).toBe("hidden");
  });

  it("omits latest when the latest option is false", () => {
    expect(computeTags(ctx("refs/tags/v1.2.3"), { latest: false }).tags).toEqual([
      "1.2.3",
      "1.2",
      "1",
    ]);
  });

  it("appends extra tags once, after the computed ones", () => {
    const { tags } = computeTags(ctx("refs/heads/main"), { extra: ["stable", "edge"] });
    expect(tags).toEqual(["edge", "sha-0123456", "stable"]);
  });

  it("publishes pull requests only when asked to", () => {
    expect(computeTags(ctx("refs/pull/42/merge"), { publishOnPullRequest: true }).publish).toBe(
      true,
    );
  });

  it("takes a pull_request_target run as a pull request from its event name alone", () => {
    const result = computeTags(ctx("refs/heads/main", { eventName: "pull_request_target" }));
    expect(result).toMatchObject({ kind: "pull-request", publish: false, tags: ["sha-0123456"] });
  });

  it("takes a run with a pull request base branch as a pull request, whatever its event name", () => {
    const result = computeTags(ctx("refs/heads/main", { baseRef: "main" }));
    expect(result).toMatchObject({ kind: "pull-request", publish: false, tags: ["sha-0123456"] });
  });

  it("takes a pull request merge ref as a pull request without any event name or base branch", () => {
    const result = computeTags({ ref: "refs/pull/42/merge", sha: SHA, defaultBranch: "main" });
    expect(result).toMatchObject({ kind: "pull-request", publish: false, tags: ["pr-42"] });
  });

  it("publishes a push event on the default branch as edge: only pull request events count", () => {
    const result = computeTags(ctx("refs/heads/main", { eventName: "push", baseRef: "" }));
    expect(result).toMatchObject({ kind: "default-branch", publish: true });
  });

  it("treats a pull_request_target run on the base branch as a pull request, not as edge", () => {
    const result = computeTags(
      ctx("refs/heads/main", { eventName: "pull_request_target", baseRef: "main" }),
    );
    expect(result).toMatchObject({ kind: "pull-request", publish: false, tags: ["sha-0123456"] });
  });

  it("uses the configured default branch for edge", () => {
    const result = computeTags({ ref: "refs/heads/trunk", sha: SHA, defaultBranch: "trunk" });
    expect(result.tags).toEqual(["edge", "sha-0123456"]);
    expect(computeTags(ctx("refs/heads/trunk")).kind).toBe("branch");
  });

  it("lowercases an uppercase sha in the sha tag", () => {
    const result = computeTags({
      ref: "refs/heads/main",
      sha: SHA.toUpperCase(),
      defaultBranch: "main",
    });
    expect(result.tags).toContain("sha-0123456");
  });

  it.each(["", "not-a-sha", "0123456789abcdeg", "abc12"])("rejects the invalid sha %j", (sha) => {
    expect(() => computeTags({ ref: "refs/heads/main", sha, defaultBranch: "main" })).toThrow(
      GitContextError,
    );
  });

  it("rejects an extra tag docker would refuse", () => {
    expect(() => computeTags(ctx("refs/heads/main"), { extra: ["bad+tag"] })).toThrow(
      /extra tag "bad\+tag" is not a valid image tag/,
    );
  });

  it("rejects a ref that leaves nothing to tag with", () => {
    expect(() => computeTags(ctx("refs/heads/%%%"))).toThrow(
      /does not contain anything usable as an image tag/,
    );
  });
});

describe("sanitizeTag", () => {
  it("turns slashes into dashes and lowercases", () => {
    expect(sanitizeTag("Team/Feature/X")).toBe("team-feature-x");
  });
});
