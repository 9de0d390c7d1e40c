import { describe, expect, it } from "vitest";
import { withoutGitHubContext } from "./helpers.js";

describe("the tests' environment on GitHub Actions", () => {
  it("drops the pull request's ref, event, token, step summary and OIDC request, and keeps the rest", () => {
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
    };
    expect(withoutGitHubContext(job)).toEqual({ PATH: "/usr/bin", CI: "true", AIRGAP: "0" });
  });
});
