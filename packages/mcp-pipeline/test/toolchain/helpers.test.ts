import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { controlRunContext, withoutGitHubContext } from "./helpers.js";

describe("the tests' environment on GitHub Actions", () => {
  it("drops the pull request's ref, event, token, step summary and OIDC request, the pipeline's registry and signing settings, and keeps the rest", () => {
    const job = {
      PATH: "/usr/bin",
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_REF: "refs/pull/20/merge",
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_TOKEN: "ghs_x",
      GITHUB_STEP_SUMMARY: "/tmp/summary",
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token",
      RUNNER_TEMP: "/tmp/runner",
      AIRGAP: "0",
      REGISTRY: "ghcr.io",
      REGISTRY_PASSWORD: "x",
      PIPELINE_PLATFORMS: "linux/amd64",
      COSIGN_KEY: "-----BEGIN",
    };
    expect(withoutGitHubContext(job)).toEqual({ PATH: "/usr/bin", CI: "true", AIRGAP: "0" });
  });
});

describe("the git context of the tests' control runs", () => {
  const scratch = mkdtempSync(join(tmpdir(), "control-context-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("is the checkout's own on a branch, and the default branch's push on a detached HEAD (a pull request's checkout)", async () => {
    const git = (...args: string[]) => execa("git", args, { cwd: scratch });
    await git("init", "-q", "-b", "feature");
    await git(
      "-c",
      "user.name=t",
      "-c",
      "user.email=t@t",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "x",
    );
    expect(await controlRunContext(scratch)).toEqual({});
    const sha = (await git("rev-parse", "HEAD")).stdout.trim();
    await git("checkout", "-q", "--detach");
    expect(await controlRunContext(scratch)).toEqual({
      GITHUB_REF: "refs/heads/main",
      GITHUB_SHA: sha,
      GITHUB_EVENT_NAME: "push",
      GITHUB_DEFAULT_BRANCH: "main",
    });
  });
});
