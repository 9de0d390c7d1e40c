import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gateFindings, parseTrivyReport } from "../../../src/ci/checks/trivy-report.js";
import { TrivyReportError } from "../../../src/ci/errors.js";

function fixture(name: string): unknown {
  const url = new URL(`../fixtures/trivy/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as unknown;
}

const GATE = ["HIGH", "CRITICAL"];

describe("parseTrivyReport", () => {
  it("reads a clean image scan, which has no Results at all, as no findings", () => {
    expect(parseTrivyReport(fixture("image-clean.json"))).toEqual({
      vulnerabilities: [],
      secrets: [],
      misconfigurations: [],
    });
  });

  it("reads the planted private key with its rule, file, line and layer", () => {
    const { secrets, vulnerabilities } = parseTrivyReport(fixture("image-secret.json"));
    expect(vulnerabilities).toEqual([]);
    expect(secrets).toEqual([
      {
        ruleId: "private-key",
        severity: "HIGH",
        title: "Asymmetric Private Key",
        target: "/app/config/deploy-key.pem",
        startLine: 2,
        layerCreatedBy: "COPY deploy-key.pem /app/config/deploy-key.pem # buildkit",
      },
    ]);
  });

  it("reads failed and passed Dockerfile checks", () => {
    const { misconfigurations } = parseTrivyReport(fixture("config-dockerfile-root.json"));
    expect(misconfigurations.length).toBeGreaterThan(20);
    expect(misconfigurations.filter((m) => m.status === "FAIL")).toEqual([
      {
        id: "DS-0002",
        severity: "HIGH",
        title: "Image user should not be 'root'",
        target: "Dockerfile",
        status: "FAIL",
        message: "Last USER command in Dockerfile should not be 'root'",
        startLine: 4,
      },
      expect.objectContaining({ id: "DS-0026", severity: "LOW", status: "FAIL" }),
    ]);
  });

  it("reads vulnerabilities from OS and language package results", () => {
    const { vulnerabilities } = parseTrivyReport(fixture("image-vulns.handmade.json"));
    expect(vulnerabilities).toHaveLength(5);
    expect(vulnerabilities[0]).toEqual({
      id: "CVE-2024-3094",
      pkg: "liblzma5",
      installed: "5.6.0-0.2",
      fixed: "5.6.1+really5.4.5-1",
      severity: "CRITICAL",
      title: "xz: malicious code in distributed source",
      target: "todo-mcp:dev (debian 12.15)",
    });
    expect(vulnerabilities.find((v) => v.id === "CVE-2023-4039")?.fixed).toBeUndefined();
    expect(vulnerabilities.find((v) => v.id === "CVE-2024-21538")?.target).toBe("Node.js");
  });

  it("tolerates null lists and results without findings", () => {
    const report = {
      SchemaVersion: 2,
      Results: [{ Target: "x", Vulnerabilities: null, Secrets: null }, { Target: "y" }],
    };
    expect(parseTrivyReport(report)).toEqual({
      vulnerabilities: [],
      secrets: [],
      misconfigurations: [],
    });
  });

  it.each([
    [null, /not a Trivy JSON report/],
    [{ SchemaVersion: 1, Results: [] }, /SchemaVersion: expected SchemaVersion 2/],
    [{ SchemaVersion: 2, Results: [{ Vulnerabilities: [] }] }, /Results\.0\.Target/],
  ])("rejects %j", (input, message) => {
    expect(() => parseTrivyReport(input)).toThrow(TrivyReportError);
    expect(() => parseTrivyReport(input)).toThrow(message);
  });
});

describe("gateFindings", () => {
  it("passes the clean image", () => {
    const result = gateFindings(parseTrivyReport(fixture("image-clean.json")), GATE);
    expect(result).toEqual({
      status: "passed",
      summary: "no vulnerabilities or misconfigurations at HIGH, CRITICAL, no secrets",
      details: [],
    });
  });

  it("fails on the planted key, naming the rule and the file", () => {
    const result = gateFindings(parseTrivyReport(fixture("image-secret.json")), GATE);
    expect(result.status).toBe("failed");
    expect(result.summary).toMatch(/^found 1 secret \(1 HIGH\)/);
    expect(result.details[0]).toBe(
      'secret HIGH private-key "Asymmetric Private Key" in /app/config/deploy-key.pem:2 (added by: COPY deploy-key.pem /app/config/deploy-key.pem # buildkit)',
    );
    expect(result.details.join("\n")).toContain("add its ID (e.g. private-key)");
    expect(result.details.join("\n")).toContain(".trivyignore");
    expect(result.details.join("\n")).toContain("rotate the secret");
    expect(result.details.join("\n")).not.toContain("upgrade the package");
  });

  it("fails on a secret even when its severity is not gated", () => {
    const result = gateFindings(parseTrivyReport(fixture("image-secret.json")), ["CRITICAL"]);
    expect(result.status).toBe("failed");
  });

  it("fails on a HIGH Dockerfile misconfiguration and ignores checks that passed", () => {
    const result = gateFindings(parseTrivyReport(fixture("config-dockerfile-root.json")), GATE);
    expect(result.status).toBe("failed");
    expect(result.summary).toBe(
      "found 1 failed misconfiguration (1 HIGH) (gate: HIGH, CRITICAL) (1 below the gate)",
    );
    expect(result.details[0]).toBe(
      "misconfiguration HIGH DS-0002 \"Image user should not be 'root'\" in Dockerfile:4: Last USER command in Dockerfile should not be 'root'",
    );
    expect(result.details.join("\n")).not.toContain("DS-0026");
  });

  it("passes the Dockerfile scan when only CRITICAL is gated, and mentions what is below", () => {
    const result = gateFindings(parseTrivyReport(fixture("config-dockerfile-root.json")), [
      "CRITICAL",
    ]);
    expect(result.status).toBe("passed");
    expect(result.details).toEqual([
      "misconfiguration below the gate: HIGH DS-0002 \"Image user should not be 'root'\" in Dockerfile",
      'misconfiguration below the gate: LOW DS-0026 "No HEALTHCHECK defined" in Dockerfile',
    ]);
  });

  it("fails on HIGH and CRITICAL vulnerabilities, worst first, with fix versions", () => {
    const result = gateFindings(parseTrivyReport(fixture("image-vulns.handmade.json")), GATE);
    expect(result.status).toBe("failed");
    expect(result.summary).toBe(
      "found 3 vulnerabilities (1 CRITICAL, 2 HIGH) (gate: HIGH, CRITICAL) (2 below the gate)",
    );
    expect(result.details.slice(0, 3)).toEqual([
      "vulnerability CRITICAL CVE-2024-3094 in liblzma5 5.6.0-0.2 (fixed in 5.6.1+really5.4.5-1): xz: malicious code in distributed source [todo-mcp:dev (debian 12.15)]",
      "vulnerability HIGH CVE-2023-44487 in libnghttp2-14 1.52.0-1 (fixed in 1.52.0-1+deb12u1): HTTP/2: Multiple HTTP/2 enabled web servers are vulnerable to a DDoS attack (Rapid Reset Attack) [todo-mcp:dev (debian 12.15)]",
      "vulnerability HIGH CVE-2024-21538 in cross-spawn 7.0.3 (fixed in 7.0.5, 6.0.6): cross-spawn: regular expression denial of service [Node.js]",
    ]);
  });

  it("gated on LOW only, fails on the LOW vulnerability alone", () => {
    const result = gateFindings(parseTrivyReport(fixture("image-vulns.handmade.json")), ["low"]);
    expect(result.status).toBe("failed");
    expect(result.summary).toMatch(/^found 1 vulnerability \(1 LOW\) \(gate: LOW\)/);
    expect(result.details[0]).toBe(
      "vulnerability LOW CVE-2022-0563 in util-linux 2.38.1-5+b1 (no fix yet): util-linux: partial disclosure of arbitrary files in chfn and chsh when compiled with libreadline [todo-mcp:dev (debian 12.15)]",
    );
  });

  it("passes an image with only LOW and MEDIUM vulnerabilities on the default gate", () => {
    const parsed = parseTrivyReport(fixture("image-vulns.handmade.json"));
    const lowOnly = {
      ...parsed,
      vulnerabilities: parsed.vulnerabilities.filter((v) => ["LOW", "MEDIUM"].includes(v.severity)),
    };
    const result = gateFindings(lowOnly, GATE);
    expect(result.status).toBe("passed");
    expect(result.summary).toBe(
      "no vulnerabilities or misconfigurations at HIGH, CRITICAL, no secrets (2 below the gate)",
    );
    expect(result.details).toEqual(["vulnerabilities below the gate: 1 LOW, 1 MEDIUM"]);
  });

  it("caps the listed findings and names the configured ignore file", () => {
    const parsed = parseTrivyReport(fixture("image-vulns.handmade.json"));
    const result = gateFindings(parsed, GATE, { maxDetails: 1, ignoreFile: "ci/.trivyignore" });
    expect(result.details[1]).toBe("… and 2 more; run trivy locally for the full list");
    expect(result.details.at(-1)).toContain("to ci/.trivyignore");
  });
});
