import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { REPO_ROOT } from "../paths.js";

/** The workflows directory of this repository. */
export const WORKFLOWS_DIR = join(REPO_ROOT, ".github", "workflows");

const Permissions = z.record(z.string(), z.enum(["read", "write", "none"]));
export type Permissions = z.infer<typeof Permissions>;

const Step = z.looseObject({
  name: z.string().optional(),
  id: z.string().optional(),
  uses: z.string().optional(),
  run: z.string().optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
  env: z.record(z.string(), z.unknown()).optional(),
  with: z.record(z.string(), z.unknown()).optional(),
});
export type Step = z.infer<typeof Step>;

const Job = z.looseObject({
  name: z.string().optional(),
  needs: z.union([z.string(), z.array(z.string())]).optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
  permissions: Permissions.optional(),
  uses: z.string().optional(),
  secrets: z.union([z.literal("inherit"), z.record(z.string(), z.string())]).optional(),
  steps: z.array(Step).optional(),
});
export type Job = z.infer<typeof Job>;

const Workflow = z.looseObject({
  name: z.string(),
  on: z.record(z.string(), z.unknown()),
  permissions: Permissions.optional(),
  concurrency: z.unknown().optional(),
  jobs: z.record(z.string(), Job),
});
export type Workflow = z.infer<typeof Workflow> & { file: string };

/** Parses one workflow file (by name under .github/workflows, or its text). */
export function loadWorkflow(file: string, text?: string): Workflow {
  const source = text ?? readFileSync(join(WORKFLOWS_DIR, file), "utf8");
  return { ...Workflow.parse(parse(source)), file };
}

/** What a step is called in the Actions UI: its name, else its `uses`, else `Run <first line>`. */
export function stepLabel(step: Step): string {
  if (step.name) return step.name;
  if (step.uses) return step.uses.split("@")[0] ?? step.uses;
  return `Run ${(step.run ?? "").trim().split("\n")[0]}`;
}

/** The steps a job runs: its own, or those of the local reusable workflow it calls. */
export function jobSteps(job: Job): { workflow: string; job: string; step: Step }[] {
  if (job.uses?.startsWith("./.github/workflows/")) {
    const called = loadWorkflow(job.uses.slice("./.github/workflows/".length));
    return Object.entries(called.jobs).flatMap(([id, j]) =>
      (j.steps ?? []).map((step) => ({ workflow: called.file, job: id, step })),
    );
  }
  return (job.steps ?? []).map((step) => ({ workflow: "", job: "", step }));
}

/** The `uses: owner/repo[/path]@ref` of every step in the workflows, deduplicated. */
export function thirdPartyActions(files: readonly string[]): { repo: string; ref: string }[] {
  const seen = new Map<string, { repo: string; ref: string }>();
  for (const file of files) {
    for (const job of Object.values(loadWorkflow(file).jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.uses || step.uses.startsWith("./")) continue;
        const [path = "", ref = ""] = step.uses.split("@");
        const repo = path.split("/").slice(0, 2).join("/");
        seen.set(`${repo}@${ref}`, { repo, ref });
      }
    }
  }
  return [...seen.values()];
}

/** Whether a job runs on pushes (so can publish) rather than only on pull requests. */
function publishes(workflow: Workflow, job: Job): boolean {
  const onPush = "push" in workflow.on;
  const prOnly = typeof job.if === "string" && /event_name\s*==\s*'pull_request'/.test(job.if);
  return onPush && !prOnly;
}

/** One permission a job lacks, with the step that needs it. */
export interface MissingPermission {
  workflow: string;
  job: string;
  step: string;
  permission: string;
  level: "read" | "write";
  why: string;
}

const rank = { none: 0, read: 1, write: 2 } as const;

/**
 * The permissions each step of a job needs, derived from what the step does,
 * checked against what the job is granted (its own `permissions`, else the
 * workflow's). act does not enforce `permissions`; this is where they are checked.
 */
export function missingPermissions(workflow: Workflow): MissingPermission[] {
  const missing: MissingPermission[] = [];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    const granted = job.permissions ?? workflow.permissions ?? {};
    const need = (step: Step, permission: string, level: "read" | "write", why: string): void => {
      if (rank[granted[permission] ?? "none"] >= rank[level]) return;
      missing.push({
        workflow: workflow.file,
        job: id,
        step: stepLabel(step),
        permission,
        level,
        why,
      });
    };
    for (const { step } of jobSteps(job)) {
      if (step.uses?.startsWith("actions/checkout@"))
        need(step, "contents", "read", "it clones the repository");
      if (step.uses?.includes("codeql-action/upload-sarif@")) {
        need(step, "security-events", "write", "it uploads to code scanning");
        need(
          step,
          "actions",
          "read",
          "upload-sarif reads the run's metadata in private repositories",
        );
      }
      if (step.run?.includes("mcp-registry-publish")) {
        need(step, "contents", "read", "it reads server.json and builds the pinned mcp-publisher");
        need(
          step,
          "id-token",
          "write",
          "mcp-publisher logs in to the MCP Registry with the job's OIDC token",
        );
      } else if (step.run?.includes("mcp-pipeline") && publishes(workflow, job)) {
        need(step, "packages", "write", "the pipeline pushes to GHCR with GITHUB_TOKEN");
        need(step, "id-token", "write", "the pipeline signs keylessly with the job's OIDC token");
      }
      if (step.run && /\bgh release (create|upload)\b/.test(step.run))
        need(step, "contents", "write", "it creates the release and uploads its assets");
    }
  }
  return missing;
}

/** A job's granted permissions (its own, else the workflow's), for exact assertions. */
export function grantedPermissions(workflow: Workflow, jobId: string): Permissions {
  const job = workflow.jobs[jobId];
  if (!job) throw new Error(`${workflow.file} has no job ${jobId}`);
  return job.permissions ?? workflow.permissions ?? {};
}

/** A secret a reusable workflow declares that a publishing caller does not pass, with the step that reads it. */
export interface MissingSecret {
  workflow: string;
  job: string;
  secret: string;
  step: string;
}

/**
 * Secrets a called workflow declares (`on.workflow_call.secrets`) but a caller
 * job that publishes does not pass: inside the call they are silently empty
 * (for cosign-key, signing falls back to keyless or fails). Verify-only jobs
 * pass none on purpose: pull requests, forks' above all, get no secrets.
 */
export function missingSecrets(workflow: Workflow): MissingSecret[] {
  const missing: MissingSecret[] = [];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    if (!job.uses?.startsWith("./.github/workflows/") || !publishes(workflow, job)) continue;
    if (job.secrets === "inherit") continue;
    const called = loadWorkflow(job.uses.slice("./.github/workflows/".length));
    const declared = Object.keys(
      ((called.on.workflow_call ?? {}) as { secrets?: Record<string, unknown> }).secrets ?? {},
    );
    for (const secret of declared) {
      if (job.secrets?.[secret] !== undefined) continue;
      const reader = jobSteps(job).find(({ step }) =>
        JSON.stringify(step.env ?? {}).includes(`secrets.${secret}`),
      );
      missing.push({
        workflow: workflow.file,
        job: id,
        secret,
        step: reader ? stepLabel(reader.step) : "(none reads it)",
      });
    }
  }
  return missing;
}
