import { describe, expect, it } from "vitest";
import { computeTags } from "../../src/ci/git/tags.js";
import { gitContextFromEnv } from "../../src/ci/request.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("gitContextFromEnv", () => {
  it("returns undefined outside GitHub Actions", () => {
    expect(gitContextFromEnv({})).toBeUndefined();
    expect(gitContextFromEnv({ GITHUB_REF: "" })).toBeUndefined();
  });

  it("reads the ref, sha, event, base ref and default branch", () => {
    expect(
      gitContextFromEnv({
        GITHUB_REF: "refs/pull/9/merge",
        GITHUB_SHA: SHA,
        GITHUB_EVENT_NAME: "pull_request",
        GITHUB_BASE_REF: "develop",
        GITHUB_DEFAULT_BRANCH: "develop",
      }),
    ).toEqual({
      ref: "refs/pull/9/merge",
      sha: SHA,
      eventName: "pull_request",
      baseRef: "develop",
      defaultBranch: "develop",
    });
  });

  it("defaults the default branch to main and treats empty variables as unset", () => {
    const context = gitContextFromEnv({
      GITHUB_REF: "refs/heads/main",
      GITHUB_SHA: SHA,
      GITHUB_BASE_REF: "",
    });
    expect(context).toMatchObject({ defaultBranch: "main", baseRef: undefined });
    expect(context && computeTags(context).kind).toBe("default-branch");
  });

  it("fails when the ref is set without a sha", () => {
    expect(() => gitContextFromEnv({ GITHUB_REF: "refs/heads/main" })).toThrow(/GITHUB_SHA/);
  });
});
