import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ActJob } from "./act-log.js";

export type SimEvent = "pull_request" | "push" | "tag";

/** What each job must end as, for one event. */
export type Expectation = Record<string, "success" | "skipped" | "failure">;

/** The jobs' required results per event (issue #20): pull requests verify, pushes publish. */
export function jobExpectations(event: SimEvent): Expectation {
  switch (event) {
    case "pull_request":
      return { check: "success", test: "success", verify: "success", publish: "skipped" };
    case "push":
      return { check: "success", test: "success", verify: "skipped", publish: "success" };
    case "tag":
      // The simulated runner has no OIDC token and the simulated repository no registry token, so
      // listing the server must be refused (before anything is sent) while the release goes on:
      // a refused listing never stops the GitHub release of an image that was published.
      return { pipeline: "success", "mcp-registry": "failure", "github-release": "success" };
  }
}

interface SimDirs {
  sarif: string;
  record: string;
  artifacts: string;
}

/**
 * Judges a simulated run: per job, "" when it ended as it must, else why not;
 * and what the run as a whole must leave behind (SARIF kept or not, the
 * release created with its notes and assets).
 */
export function expectations(
  opts: { event: SimEvent; fork: boolean; jobs: string[] },
  jobs: ActJob[],
  sim: SimDirs,
  actExit: number,
): { perJob: Map<string, string>; other: string[] } {
  const want = jobExpectations(opts.event);
  const perJob = new Map<string, string>();
  for (const job of jobs) {
    const must = want[job.id];
    if (opts.jobs.length > 0 && !opts.jobs.includes(job.id)) continue;
    perJob.set(job.id, must === undefined || job.result === must ? "" : `must be ${must}`);
  }
  const other: string[] = [];
  const ran = (id: string) => jobs.some((j) => j.id === id && j.result !== "skipped");
  const allOk = [...perJob.values()].every((v) => v === "");
  // act exits non-zero when a job fails: expected when a job must fail.
  const failureExpected = Object.values(want).includes("failure");
  if (allOk && actExit !== 0 && !failureExpected)
    other.push(`act exited ${actExit} although every job ended as it must`);
  const sarif = join(sim.sarif, "trivy-image.sarif");
  if (opts.event === "pull_request" && ran("verify")) {
    if (opts.fork && existsSync(sarif)) other.push("a fork's pull request uploaded SARIF");
    if (!opts.fork && !existsSync(sarif)) other.push("no SARIF was kept from the verify job");
  }
  if (opts.event === "tag" && ran("github-release")) {
    const log = join(sim.record, "gh.jsonl");
    const calls = existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];
    const create = calls.find((c) => c[0] === "release" && c[1] === "create");
    if (!create) other.push("gh release create was not called");
    else {
      const notes = create[create.indexOf("--notes-file") + 1];
      const kept = notes ? join(sim.record, "release", notes.split("/").at(-1) ?? "") : "";
      if (!create.includes("--notes-file") || !notes) other.push("the release has no notes file");
      else if (!existsSync(kept) || !readFileSync(kept, "utf8").includes("Pipeline passed"))
        other.push(`the release notes (${notes}) are not the passing pipeline's report`);
    }
    // Signed with the repository's key into the stand-in's private log: both keys to verify with.
    for (const asset of ["report.md", "report.json", "sbom.cdx.json", "cosign.pub", "rekor.pub"])
      if (!existsSync(join(sim.record, "release", asset))) other.push(`the release lacks ${asset}`);
  }
  return { perJob, other };
}
