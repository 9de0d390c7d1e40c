import { describe, expect, it } from "vitest";
import { validateSarif } from "./sarif.js";

// What `trivy convert --format sarif` writes, cut down to one rule and one result.
const trivyLike = {
  version: "2.1.0",
  $schema:
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
  runs: [
    {
      tool: {
        driver: {
          name: "Trivy",
          informationUri: "https://github.com/aquasecurity/trivy",
          version: "0.74.0",
          rules: [
            {
              id: "CVE-2026-0001",
              name: "OsPackageVulnerability",
              shortDescription: { text: "a vulnerability" },
              defaultConfiguration: { level: "error" },
              properties: { "security-severity": "9.8", tags: ["vulnerability", "CRITICAL"] },
            },
          ],
        },
      },
      results: [
        {
          ruleId: "CVE-2026-0001",
          ruleIndex: 0,
          level: "error",
          message: { text: "Package: libc6" },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: "todo-mcp", uriBaseId: "ROOTPATH" },
                region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
              },
            },
          ],
        },
      ],
      columnKind: "utf16CodeUnits",
      originalUriBaseIds: { ROOTPATH: { uri: "file:///" } },
    },
  ],
};

describe("the upload-sarif stand-in's validation", () => {
  it("accepts SARIF 2.1.0 as Trivy writes it", () => {
    expect(validateSarif(trivyLike)).toEqual([]);
  });

  it("rejects a file code scanning would reject: wrong version, a result without a message, a bad level", () => {
    expect(validateSarif({ ...trivyLike, version: "2.0.0" })).not.toEqual([]);
    const run = trivyLike.runs[0];
    const noMessage = { ...run, results: [{ ruleId: "CVE-2026-0001" }] };
    expect(validateSarif({ ...trivyLike, runs: [noMessage] })).toEqual([
      "/runs/0/results/0 must have required property 'message'",
    ]);
    const badLevel = { ...run, results: [{ message: { text: "x" }, level: "fatal" }] };
    expect(validateSarif({ ...trivyLike, runs: [badLevel] })[0]).toMatch(/level/);
  });
});
