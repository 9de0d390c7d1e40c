import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunKey } from "../../../src/ci/replay/key.js";
import type { PipelineReport } from "../../../src/ci/report/schema.js";

// What the runs cache's tests keep and look up: a report, a key, the files a run wrote.

/** A run's report with one check, passed or failed. */
export const report = (ok = true): PipelineReport => ({
  ok,
  image: { ref: "x:pipeline", digest: null, sizeBytes: 10, compressedBytes: 5 },
  checks: [
    { id: "trivy", status: ok ? "passed" : "failed", summary: "s", details: [], durationMs: 1200 },
  ],
  published: [],
  error: null,
});

/** A run key named `name`: its 64 hex digits derived from the name. */
export const key = (
  name: string,
  parts: Record<string, unknown> = { build: { context: name } },
): RunKey => ({
  key: Buffer.from(name).toString("hex").repeat(64).slice(0, 64),
  parts,
});

/** A report directory `root/name` holding what a run wrote beside its report. */
export function reportDir(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "sarif"), { recursive: true });
  writeFileSync(join(dir, "report.json"), "{}");
  writeFileSync(join(dir, "sbom.cdx.json"), '{"sbom":1}');
  writeFileSync(join(dir, "sarif", "trivy.sarif"), '{"sarif":1}');
  return dir;
}
