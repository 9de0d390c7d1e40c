import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  grantedPermissions,
  loadWorkflow,
  missingPermissions,
  WORKFLOWS_DIR,
} from "./workflows.js";

// act does not enforce `permissions`: each job's grant is asserted here, exactly (least
// privilege: nothing more than what its steps need), and derived from what its steps do.
const EXPECTED: Record<string, Record<string, Record<string, string>>> = {
  "ci.yml": {
    check: { contents: "read" },
    test: { contents: "read" },
    verify: { contents: "read", "security-events": "write", actions: "read" },
    publish: {
      contents: "read",
      packages: "write",
      "id-token": "write",
      "security-events": "write",
      actions: "read",
    },
  },
  "release.yml": {
    pipeline: {
      contents: "read",
      packages: "write",
      "id-token": "write",
      "security-events": "write",
      actions: "read",
    },
    "mcp-registry": { contents: "read", "id-token": "write" },
    "github-release": { contents: "write" },
  },
};

describe("workflow permissions", () => {
  for (const [file, jobs] of Object.entries(EXPECTED)) {
    it(`grants each job of ${file} exactly what it needs, and the workflow only contents: read`, () => {
      const workflow = loadWorkflow(file);
      expect(workflow.permissions).toEqual({ contents: "read" });
      expect(Object.keys(workflow.jobs).sort()).toEqual(Object.keys(jobs).sort());
      for (const [job, permissions] of Object.entries(jobs))
        expect(grantedPermissions(workflow, job), `${file} job ${job}`).toEqual(permissions);
      expect(missingPermissions(workflow)).toEqual([]);
    });
  }

  it("declares no permissions in the reusable pipeline.yml: its callers' jobs grant them", () => {
    const pipeline = loadWorkflow("pipeline.yml");
    expect(pipeline.permissions).toBeUndefined();
    for (const job of Object.values(pipeline.jobs)) expect(job.permissions).toBeUndefined();
  });

  it("names the job and the step when the signing job loses id-token: write", () => {
    const text = readFileSync(join(WORKFLOWS_DIR, "ci.yml"), "utf8");
    const broken = text.replace(/^\s+id-token: write.*\n/m, "");
    expect(broken).not.toBe(text);
    expect(missingPermissions(loadWorkflow("ci.yml", broken))).toEqual([
      {
        workflow: "ci.yml",
        job: "publish",
        step: "Pipeline",
        permission: "id-token",
        level: "write",
        why: "the pipeline signs keylessly with the job's OIDC token",
      },
    ]);
  });

  it("names the job and the step when the release job cannot write contents", () => {
    const text = readFileSync(join(WORKFLOWS_DIR, "release.yml"), "utf8");
    const broken = text.replace("contents: write", "contents: read");
    expect(missingPermissions(loadWorkflow("release.yml", broken))).toMatchObject([
      { job: "github-release", step: "Create the release", permission: "contents" },
    ]);
  });

  it("names the job and the step when the MCP Registry job loses id-token: write", () => {
    const text = readFileSync(join(WORKFLOWS_DIR, "release.yml"), "utf8");
    const broken = text.replace(/^\s+id-token: write # mcp-publisher.*\n/m, "");
    expect(broken).not.toBe(text);
    expect(missingPermissions(loadWorkflow("release.yml", broken))).toEqual([
      {
        workflow: "release.yml",
        job: "mcp-registry",
        step: "List in the MCP Registry",
        permission: "id-token",
        level: "write",
        why: "mcp-publisher logs in to the MCP Registry with the job's OIDC token",
      },
    ]);
  });

  it("lists the server in the MCP Registry from release.yml only, after the image is published and signed", () => {
    const release = loadWorkflow("release.yml");
    expect(release.jobs["mcp-registry"]?.needs).toBe("pipeline");
    expect([release.jobs["github-release"]?.needs].flat().sort()).toEqual([
      "mcp-registry",
      "pipeline",
    ]);
    for (const file of ["ci.yml", "pipeline.yml"]) {
      expect(readFileSync(join(WORKFLOWS_DIR, file), "utf8"), file).not.toContain(
        "mcp-registry-publish",
      );
    }
  });

  it("does not ask a pull-request-only job for packages or id-token", () => {
    const verify = missingPermissions(loadWorkflow("ci.yml")).filter((m) => m.job === "verify");
    expect(verify).toEqual([]);
  });
});
