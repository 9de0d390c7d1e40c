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
  if (calledWorkflow === null) {
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
