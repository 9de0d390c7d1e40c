import { EnvironmentError } from "../errors.js";

/** The OIDC issuer of GitHub Actions' job tokens, as Fulcio writes it into the certificate. */
export const GITHUB_ACTIONS_OIDC_ISSUER = "https://token.actions.githubusercontent.com";

/**
 * The workflow that runs the pipeline. `ci.yml` and `release.yml` call it as a reusable workflow
 * (`uses: ./.github/workflows/pipeline.yml`), so it — not the caller — is the signing identity.
 */
export const PIPELINE_WORKFLOW_FILE = "pipeline.yml";

/** Who a keyless signature must come from, in the terms of `cosign verify`'s flags. */
export interface KeylessIdentity {
  /** `--certificate-identity`: this repository's workflow at exactly this ref. */
  certificateIdentity: string;
  /** `--certificate-identity-regexp`: this repository's workflow at any branch or tag. */
  certificateIdentityRegexp: string;
  /** `--certificate-oidc-issuer`. */
  certificateOidcIssuer: string;
}

export interface KeylessIdentityOptions {
  /**
   * The `job_workflow_ref` claim of the job's OIDC token (`owner/repo/.github/workflows/file.yml@ref`):
   * the workflow Fulcio certifies. When given it names the identity outright, whichever repository
   * the workflow lives in (another repository's reusable workflow at `@v1`, say).
   */
  jobWorkflowRef?: string | undefined;
  /**
   * The reusable workflow file under `.github/workflows/` that runs the signing job
   * (default `pipeline.yml`); `null` when signing runs in the triggering workflow itself, whose
   * `GITHUB_WORKFLOW_REF` then names the identity.
   */
  calledWorkflow?: string | null;
}

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const WORKFLOW_REF =
  /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)\/\.github\/workflows\/([^@/]+)@(refs\/.+)$/;

function escapeRegexp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function required(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  example: string,
): string {
  const value = env[name];
  if (!value) {
    throw new EnvironmentError(
      `keyless verification needs ${name} (for example ${example}); it is set on GitHub Actions. Elsewhere, sign and verify with a key pair instead.`,
    );
  }
  return value;
}

/**
 * The certificate identity a keyless signature made by this pipeline on GitHub Actions carries.
 *
 * Fulcio puts the token's `job_workflow_ref` into the certificate's subject alternative name:
 * `https://github.com/<owner>/<repo>/.github/workflows/<file>@<ref>`. For a job that runs inside a
 * reusable workflow, that is the CALLED workflow (here `pipeline.yml`), not the caller
 * (`ci.yml`, `release.yml`). A workflow called as `./.github/workflows/…` runs from the caller's
 * commit, so its ref is the run's `GITHUB_REF` (`refs/heads/main`, `refs/tags/v1.2.3`).
 * The issuer is always `https://token.actions.githubusercontent.com`.
 *
 * Pure: reads only the variables passed in (`GITHUB_REPOSITORY`, `GITHUB_REF`,
 * `GITHUB_SERVER_URL`, and `GITHUB_WORKFLOW_REF` when `calledWorkflow` is `null`).
 */
export function expectedKeylessIdentity(
  env: Readonly<Record<string, string | undefined>>,
  options: KeylessIdentityOptions = {},
): KeylessIdentity {
  const server = env.GITHUB_SERVER_URL ?? "https://github.com";
  if (server !== "https://github.com") {
    throw new EnvironmentError(
      `GITHUB_SERVER_URL is ${server}: keyless signing through the public Sigstore instance (Fulcio) accepts only github.com workflow identities. Sign with a key pair (COSIGN_KEY, COSIGN_PASSWORD) on GitHub Enterprise Server.`,
    );
  }
  const calledWorkflow =
    options.calledWorkflow === undefined ? PIPELINE_WORKFLOW_FILE : options.calledWorkflow;
  let repository: string;
  let file: string;
  let ref: string;
  if (options.jobWorkflowRef !== undefined) {
    const match = WORKFLOW_REF.exec(options.jobWorkflowRef);
    if (!match?.[1] || !match[2] || !match[3]) {
      throw new EnvironmentError(
        `the OIDC token's job_workflow_ref is ${JSON.stringify(options.jobWorkflowRef)}; expected <owner>/<repo>/.github/workflows/<file>@refs/…`,
      );
    }
    [repository, file, ref] = [match[1], match[2], match[3]];
  } else if (calledWorkflow === null) {
    const workflowRef = required(
      env,
      "GITHUB_WORKFLOW_REF",
      "owner/repo/.github/workflows/ci.yml@refs/heads/main",
    );
    const match = WORKFLOW_REF.exec(workflowRef);
    if (!match?.[1] || !match[2] || !match[3]) {
      throw new EnvironmentError(
        `GITHUB_WORKFLOW_REF is ${JSON.stringify(workflowRef)}; expected <owner>/<repo>/.github/workflows/<file>@refs/…`,
      );
    }
    [repository, file, ref] = [match[1], match[2], match[3]];
  } else {
    if (!/^[^/@]+\.ya?ml$/.test(calledWorkflow)) {
      throw new EnvironmentError(
        `calledWorkflow ${JSON.stringify(calledWorkflow)} is not a workflow file name such as pipeline.yml`,
      );
    }
    repository = required(env, "GITHUB_REPOSITORY", "owner/repo");
    ref = required(env, "GITHUB_REF", "refs/heads/main");
    file = calledWorkflow;
  }
  if (!REPOSITORY.test(repository)) {
    throw new EnvironmentError(
      `GITHUB_REPOSITORY is ${JSON.stringify(repository)}; expected <owner>/<repo>`,
    );
  }
  if (!ref.startsWith("refs/")) {
    throw new EnvironmentError(
      `GITHUB_REF is ${JSON.stringify(ref)}; expected a full ref such as refs/heads/main or refs/tags/v1.2.3`,
    );
  }
  const workflow = `https://github.com/${repository}/.github/workflows/${file}`;
  return {
    certificateIdentity: `${workflow}@${ref}`,
    certificateIdentityRegexp: `^${escapeRegexp(workflow)}@refs/(heads|tags)/[^@]+$`,
    certificateOidcIssuer: GITHUB_ACTIONS_OIDC_ISSUER,
  };
}

/**
 * The `job_workflow_ref` claim of this job's GitHub Actions OIDC token: the workflow file (and its
 * ref) that Fulcio will name in the certificate, which for a reusable workflow is the called one,
 * possibly in another repository. Asked of the runner's token service with the job's request
 * token; the token itself is only decoded here, never logged or kept. Undefined outside a job
 * with `id-token: write`.
 */
export async function jobWorkflowRef(
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !token) return undefined;
  const request = new URL(url);
  request.searchParams.set("audience", "sigstore");
  let jwt: string;
  try {
    const res = await fetch(request, {
      headers: { authorization: `bearer ${token}`, accept: "application/json" },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`the token service answered ${res.status}`);
    jwt = ((await res.json()) as { value?: string }).value ?? "";
  } catch (err) {
    throw new EnvironmentError(
      `could not get the job's OIDC token to learn the signing identity (${(err as Error).message}); keyless signing needs \`id-token: write\` on the calling job`,
      { cause: err },
    );
  }
  const payload = jwt.split(".")[1];
  const claims = payload
    ? (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
        job_workflow_ref?: unknown;
      })
    : {};
  if (typeof claims.job_workflow_ref !== "string") {
    throw new EnvironmentError("the job's OIDC token has no job_workflow_ref claim to sign as");
  }
  return claims.job_workflow_ref;
}
