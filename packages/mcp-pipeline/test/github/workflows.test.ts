import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadWorkflow, missingSecrets, thirdPartyActions, WORKFLOWS_DIR } from "./workflows.js";

const STAND_INS = [
  "actions/checkout",
  "actions/setup-node",
  "actions/upload-artifact",
  "actions/download-artifact",
  "github/codeql-action",
];

describe("the workflows' structure", () => {
  it("runs ci.yml on pull requests and pushes to main, release.yml on v*.*.* tags only", () => {
    expect(loadWorkflow("ci.yml").on).toEqual({ pull_request: null, push: { branches: ["main"] } });
    expect(loadWorkflow("release.yml").on).toEqual({ push: { tags: ["v*.*.*"] } });
  });

  it("publishes edge only after the whole test suite passed", () => {
    const publish = loadWorkflow("ci.yml").jobs.publish;
    expect([publish?.needs].flat().sort()).toEqual(["check", "test"]);
  });

  it("cancels superseded runs on pull requests only, never between publish and sign on main", () => {
    const { concurrency } = loadWorkflow("ci.yml") as { concurrency?: Record<string, unknown> };
    expect(concurrency?.["cancel-in-progress"]).toBe(`\${{ github.event_name == 'pull_request' }}`);
  });

  it("pins every third-party action to a commit, and the simulation has a stand-in for each", () => {
    const actions = thirdPartyActions(["ci.yml", "release.yml", "pipeline.yml"]);
    expect(actions.length).toBeGreaterThan(0);
    for (const { repo, ref } of actions) {
      expect(ref, repo).toMatch(/^[0-9a-f]{40}$/);
      expect(STAND_INS, repo).toContain(repo);
    }
  });

  it("passes every secret the reusable pipeline declares from each job that publishes", () => {
    expect(missingSecrets(loadWorkflow("ci.yml"))).toEqual([]);
    expect(missingSecrets(loadWorkflow("release.yml"))).toEqual([]);
  });

  it("names the job and the step when a publishing job stops passing cosign-key", () => {
    const text = readFileSync(join(WORKFLOWS_DIR, "release.yml"), "utf8");
    const broken = text.replace(/^\s+cosign-key: .*\n/m, "");
    expect(broken).not.toBe(text);
    expect(missingSecrets(loadWorkflow("release.yml", broken))).toEqual([
      { workflow: "release.yml", job: "pipeline", secret: "cosign-key", step: "Pipeline" },
    ]);
  });

  it("gives a pull request's verify job no secrets", () => {
    expect(loadWorkflow("ci.yml").jobs.verify?.secrets).toBeUndefined();
  });
});
