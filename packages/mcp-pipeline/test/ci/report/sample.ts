import type { PipelineReport } from "../../../src/ci/report/schema.js";

export const TOKEN = "ghp_s3cr3tT0kenValue";

export function sampleReport(): PipelineReport {
  return {
    ok: false,
    image: {
      ref: "todo-mcp:dev",
      digest: "sha256:7cb6f406ea18dd15fd6bc29f23646e28f63cce9e29390a41f8e97c32e8c6ee07",
      sizeBytes: 134_200_000,
      compressedBytes: 48_100_000,
    },
    checks: [
      {
        id: "non-root",
        status: "passed",
        summary: "runs as 1000:1000",
        details: [],
        durationMs: 420,
      },
      {
        id: "trivy",
        status: "failed",
        summary: "found 1 secret (1 HIGH)",
        details: [
          'secret HIGH private-key "Asymmetric Private Key" in /app/config/deploy-key.pem:2',
          `login used ${TOKEN}`,
        ],
        durationMs: 12_345,
      },
      {
        id: "compose-smoke",
        status: "skipped",
        summary: "skipped: an earlier gate | failed",
        details: ["the image did not pass the trivy gate"],
        durationMs: 0,
      },
    ],
    published: [],
    error: null,
  };
}
