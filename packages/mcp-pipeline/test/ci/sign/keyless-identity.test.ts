import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EnvironmentError } from "../../../src/ci/errors.js";
import {
  expectedKeylessIdentity,
  GITHUB_ACTIONS_OIDC_ISSUER,
  jobWorkflowRef,
  PIPELINE_WORKFLOW_FILE,
} from "../../../src/ci/sign/keyless-identity.js";
import { repoRoot } from "../../toolchain/helpers.js";

const push = {
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "octo-org/todo-mcp",
  GITHUB_REF: "refs/heads/main",
  GITHUB_WORKFLOW_REF: "octo-org/todo-mcp/.github/workflows/ci.yml@refs/heads/main",
};

describe("expectedKeylessIdentity", () => {
  it("names the called pipeline.yml at the run's ref, not the calling workflow", () => {
    expect(expectedKeylessIdentity(push)).toEqual({
      certificateIdentity:
        "https://github.com/octo-org/todo-mcp/.github/workflows/pipeline.yml@refs/heads/main",
      certificateIdentityRegexp:
        "^https://github\\.com/octo-org/todo-mcp/\\.github/workflows/pipeline\\.yml@refs/(heads|tags)/[^@]+$",
      certificateOidcIssuer: "https://token.actions.githubusercontent.com",
    });
  });

  it("names the release tag for a release run", () => {
    expect(
      expectedKeylessIdentity({ ...push, GITHUB_REF: "refs/tags/v1.2.3" }).certificateIdentity,
    ).toBe("https://github.com/octo-org/todo-mcp/.github/workflows/pipeline.yml@refs/tags/v1.2.3");
  });

  it("gives a regexp that accepts this workflow at any branch or tag and nothing else", () => {
    const re = new RegExp(expectedKeylessIdentity(push).certificateIdentityRegexp);
    const base = "https://github.com/octo-org/todo-mcp/.github/workflows";
    expect(re.test(`${base}/pipeline.yml@refs/heads/main`)).toBe(true);
    expect(re.test(`${base}/pipeline.yml@refs/tags/v2.0.0`)).toBe(true);
    expect(re.test(`${base}/ci.yml@refs/heads/main`)).toBe(false);
    expect(re.test(`${base}/pipeline.yml@refs/pull/7/merge`)).toBe(false);
    expect(
      re.test(
        "https://github.com/octo-org/todo-mcp-fork/.github/workflows/pipeline.yml@refs/heads/main",
      ),
    ).toBe(false);
    expect(
      re.test(
        "https://github.com/evil/x/.github/workflows/pipeline.yml@refs/heads/main?https://github.com/octo-org/todo-mcp/.github/workflows/pipeline.yml@refs/heads/main",
      ),
    ).toBe(false);
  });

  it("escapes dots in the repository name, so a look-alike repository does not match", () => {
    const re = new RegExp(
      expectedKeylessIdentity({ ...push, GITHUB_REPOSITORY: "octo/my.app" })
        .certificateIdentityRegexp,
    );
    expect(
      re.test("https://github.com/octo/my.app/.github/workflows/pipeline.yml@refs/heads/x"),
    ).toBe(true);
    expect(
      re.test("https://github.com/octo/myXapp/.github/workflows/pipeline.yml@refs/heads/x"),
    ).toBe(false);
  });

  it("takes the triggering workflow from GITHUB_WORKFLOW_REF when signing runs outside a reusable workflow", () => {
    expect(expectedKeylessIdentity(push, { calledWorkflow: null }).certificateIdentity).toBe(
      "https://github.com/octo-org/todo-mcp/.github/workflows/ci.yml@refs/heads/main",
    );
  });

  it("names another reusable workflow file when told to", () => {
    expect(
      expectedKeylessIdentity(push, { calledWorkflow: "release-sign.yaml" }).certificateIdentity,
    ).toBe(
      "https://github.com/octo-org/todo-mcp/.github/workflows/release-sign.yaml@refs/heads/main",
    );
  });

  it("says which variable is missing outside GitHub Actions", () => {
    expect(() => expectedKeylessIdentity({ GITHUB_REF: "refs/heads/main" })).toThrowError(
      EnvironmentError,
    );
    expect(() => expectedKeylessIdentity({ GITHUB_REF: "refs/heads/main" })).toThrowError(
      /needs GITHUB_REPOSITORY.*sign and verify with a key pair/,
    );
    expect(() => expectedKeylessIdentity({ GITHUB_REPOSITORY: "o/r" })).toThrowError(
      /needs GITHUB_REF/,
    );
    expect(() =>
      expectedKeylessIdentity({ GITHUB_REPOSITORY: "o/r" }, { calledWorkflow: null }),
    ).toThrowError(/needs GITHUB_WORKFLOW_REF/);
  });

  it("refuses malformed GitHub variables", () => {
    expect(() =>
      expectedKeylessIdentity({ ...push, GITHUB_REPOSITORY: "just-a-name" }),
    ).toThrowError(/GITHUB_REPOSITORY is "just-a-name"/);
    expect(() => expectedKeylessIdentity({ ...push, GITHUB_REF: "main" })).toThrowError(
      /GITHUB_REF is "main"; expected a full ref/,
    );
    expect(() =>
      expectedKeylessIdentity(
        { ...push, GITHUB_WORKFLOW_REF: "octo-org/todo-mcp/ci.yml" },
        { calledWorkflow: null },
      ),
    ).toThrowError(/GITHUB_WORKFLOW_REF is/);
    expect(() => expectedKeylessIdentity(push, { calledWorkflow: "../evil.yml" })).toThrowError(
      /not a workflow file name/,
    );
  });

  it("refuses GitHub Enterprise Server, whose identities the public Fulcio does not certify", () => {
    expect(() =>
      expectedKeylessIdentity({ ...push, GITHUB_SERVER_URL: "https://github.example.com" }),
    ).toThrowError(/GITHUB_SERVER_URL is https:\/\/github.example.com.*key pair/);
  });
});

describe("the workflows this identity describes", () => {
  it("run the publishing jobs through the reusable pipeline.yml, the identity Fulcio certifies", () => {
    for (const file of ["ci.yml", "release.yml"]) {
      const workflow = parse(
        readFileSync(join(repoRoot, ".github", "workflows", file), "utf8"),
      ) as {
        jobs: Record<string, { uses?: string; permissions?: Record<string, string> }>;
      };
      const publishing = Object.values(workflow.jobs).filter(
        (job) => job.permissions?.packages === "write",
      );
      expect(publishing.length, file).toBeGreaterThan(0);
      for (const job of publishing) {
        expect(job.uses, file).toBe(`./.github/workflows/${PIPELINE_WORKFLOW_FILE}`);
      }
    }
    expect(GITHUB_ACTIONS_OIDC_ISSUER).toBe("https://token.actions.githubusercontent.com");
  });
});

describe("the identity of a job that runs another repository's reusable workflow", () => {
  // The runner's token service on loopback: it answers the job's request token with a JWT whose
  // claims are the ones GitHub puts in it (unsigned here: only the claims are read).
  const claims = {
    repository: "adopter/notes",
    workflow_ref: "adopter/notes/.github/workflows/container.yml@refs/heads/main",
    job_workflow_ref: "mcp-pipeline/mcp-pipeline/.github/workflows/pipeline.yml@refs/tags/v1",
  };
  const jwt = ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "sig"].join(".");
  const seen: { auth?: string; audience?: string | null }[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({
        auth: req.headers.authorization,
        audience: new URL(req.url ?? "/", "http://x").searchParams.get("audience"),
      });
      if (req.headers.authorization !== "bearer request-token") {
        res.writeHead(403).end();
        return;
      }
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ value: jwt }));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("is the called workflow the token names, not the caller's repository", async () => {
    const ref = await jobWorkflowRef({
      ACTIONS_ID_TOKEN_REQUEST_URL: url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
    });
    expect(ref).toBe(claims.job_workflow_ref);
    expect(seen.at(-1)).toEqual({ auth: "bearer request-token", audience: "sigstore" });
    const identity = expectedKeylessIdentity(
      { ...push, GITHUB_REPOSITORY: "adopter/notes" },
      { jobWorkflowRef: ref },
    );
    expect(identity.certificateIdentity).toBe(
      "https://github.com/mcp-pipeline/mcp-pipeline/.github/workflows/pipeline.yml@refs/tags/v1",
    );
  });

  it("is undefined outside a job allowed an OIDC token, and an error when the token service refuses", async () => {
    expect(await jobWorkflowRef({})).toBeUndefined();
    await expect(
      jobWorkflowRef({
        ACTIONS_ID_TOKEN_REQUEST_URL: url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "wrong",
      }),
    ).rejects.toThrow(/token service answered 403.*id-token: write/);
  });
});
