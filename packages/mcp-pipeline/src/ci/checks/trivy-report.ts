import { z } from "zod";
import { SEVERITIES } from "../config/schema.js";
import { TrivyReportError } from "../errors.js";

export interface Vulnerability {
  id: string;
  pkg: string;
  installed: string;
  fixed?: string | undefined;
  severity: string;
  title?: string | undefined;
  /** The scan target it was found in: `image.tar (debian 12.15)`, `Node.js`. */
  target: string;
}

export interface SecretFinding {
  ruleId: string;
  severity: string;
  title: string;
  /** The file path inside the image. */
  target: string;
  startLine?: number | undefined;
  /** The instruction whose layer added the file, when Trivy reports it. */
  layerCreatedBy?: string | undefined;
}

export interface Misconfiguration {
  id: string;
  severity: string;
  title: string;
  /** The file checked, e.g. `Dockerfile`. */
  target: string;
  /** `FAIL`, `PASS` or `EXCEPTION`. */
  status: string;
  message?: string | undefined;
  startLine?: number | undefined;
}

export interface TrivyFindings {
  vulnerabilities: Vulnerability[];
  secrets: SecretFinding[];
  misconfigurations: Misconfiguration[];
}

export interface GateResult {
  status: "passed" | "failed";
  summary: string;
  details: string[];
}

export interface GateOptions {
  /** The ignore file named in the suppression hint. Default `.trivyignore`. */
  ignoreFile?: string | undefined;
  /** At most this many findings are listed in the details. Default 50. */
  maxDetails?: number | undefined;
}

// Trivy omits empty lists, and older writers emit null; both mean "none".
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((value) => value ?? []);
const severity = z
  .string()
  .nullish()
  .transform((value) => (value ?? "UNKNOWN").toUpperCase());

const TrivyVulnerability = z.object({
  VulnerabilityID: z.string(),
  PkgName: z.string(),
  InstalledVersion: z.string().nullish(),
  FixedVersion: z.string().nullish(),
  Severity: severity,
  Title: z.string().nullish(),
});
const TrivySecret = z.object({
  RuleID: z.string(),
  Severity: severity,
  Title: z.string().nullish(),
  StartLine: z.number().nullish(),
  Layer: z.object({ CreatedBy: z.string().nullish() }).nullish(),
});
const TrivyMisconfiguration = z.object({
  ID: z.string(),
  Severity: severity,
  Title: z.string().nullish(),
  Status: z.string().nullish(),
  Message: z.string().nullish(),
  CauseMetadata: z.object({ StartLine: z.number().nullish() }).nullish(),
});
const TrivyResult = z.object({
  Target: z.string(),
  Vulnerabilities: list(TrivyVulnerability),
  Secrets: list(TrivySecret),
  Misconfigurations: list(TrivyMisconfiguration),
});
/** The parts of Trivy's JSON output (`--format json`, schema version 2) the gate reads. */
export const TrivyReport = z.object({
  SchemaVersion: z.literal(2, { error: "expected SchemaVersion 2 (Trivy 0.20 or later)" }),
  ArtifactName: z.string().nullish(),
  Results: list(TrivyResult),
});

/**
 * Parses `trivy image|config|fs --format json` output (schema version 2) into flat lists of
 * vulnerabilities, secrets and misconfigurations. Missing or null lists, and a missing `Results`,
 * mean "nothing found". Throws TrivyReportError when the input is not a schema-2 report.
 */
export function parseTrivyReport(json: unknown): TrivyFindings {
  const parsed = TrivyReport.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new TrivyReportError(
      `not a Trivy JSON report: ${where}${issue?.message ?? "invalid"}; run trivy with --format json`,
      { cause: parsed.error },
    );
  }
  const findings: TrivyFindings = { vulnerabilities: [], secrets: [], misconfigurations: [] };
  for (const result of parsed.data.Results) {
    for (const v of result.Vulnerabilities) {
      findings.vulnerabilities.push({
        id: v.VulnerabilityID,
        pkg: v.PkgName,
        installed: v.InstalledVersion ?? "",
        fixed: v.FixedVersion || undefined,
        severity: v.Severity,
        title: v.Title ?? undefined,
        target: result.Target,
      });
    }
    for (const s of result.Secrets) {
      findings.secrets.push({
        ruleId: s.RuleID,
        severity: s.Severity,
        title: s.Title ?? s.RuleID,
        target: result.Target,
        startLine: s.StartLine ?? undefined,
        layerCreatedBy: s.Layer?.CreatedBy ?? undefined,
      });
    }
    for (const m of result.Misconfigurations) {
      findings.misconfigurations.push({
        id: m.ID,
        severity: m.Severity,
        title: m.Title ?? m.ID,
        target: result.Target,
        status: (m.Status ?? "FAIL").toUpperCase(),
        message: m.Message ?? undefined,
        startLine: m.CauseMetadata?.StartLine ?? undefined,
      });
    }
  }
  return findings;
}

/**
 * Decides the Trivy gate. It fails on any vulnerability at a gated severity, on any secret
 * whatever its severity (a leaked key is never acceptable), and on any failed misconfiguration
 * at a gated severity. Details list the blocking findings, worst first, with where they are, then
 * how to fix them or suppress a false positive.
 */
export function gateFindings(
  parsed: TrivyFindings,
  severities: readonly string[],
  options: GateOptions = {},
): GateResult {
  const gated = new Set(severities.map((s) => s.toUpperCase()));
  const ignoreFile = options.ignoreFile ?? ".trivyignore";
  const maxDetails = options.maxDetails ?? 50;
  const gateName = orderSeverities([...gated]).join(", ") || "no severities";

  const vulnerabilities = parsed.vulnerabilities
    .filter((v) => gated.has(v.severity))
    .toSorted(bySeverity);
  const secrets = parsed.secrets.toSorted(bySeverity);
  const misconfigurations = parsed.misconfigurations
    .filter((m) => m.status === "FAIL" && gated.has(m.severity))
    .toSorted(bySeverity);
  const below =
    parsed.vulnerabilities.length -
    vulnerabilities.length +
    parsed.misconfigurations.filter((m) => m.status === "FAIL").length -
    misconfigurations.length;
  const belowNote = below > 0 ? ` (${below} below the gate)` : "";

  const blocking = vulnerabilities.length + secrets.length + misconfigurations.length;
  if (blocking === 0) {
    return {
      status: "passed",
      summary: `no vulnerabilities or misconfigurations at ${gateName}, no secrets${belowNote}`,
      details: belowGateDetails(parsed, gated),
    };
  }

  const lines = [
    ...secrets.map(
      (s) =>
        `secret ${s.severity} ${s.ruleId} "${s.title}" in ${s.target}${s.startLine === undefined ? "" : `:${s.startLine}`}${s.layerCreatedBy ? ` (added by: ${s.layerCreatedBy})` : ""}`,
    ),
    ...vulnerabilities.map(
      (v) =>
        `vulnerability ${v.severity} ${v.id} in ${v.pkg} ${v.installed}${v.fixed ? ` (fixed in ${v.fixed})` : " (no fix yet)"}${v.title ? `: ${v.title}` : ""} [${v.target}]`,
    ),
    ...misconfigurations.map(
      (m) =>
        `misconfiguration ${m.severity} ${m.id} "${m.title}" in ${m.target}${m.startLine === undefined ? "" : `:${m.startLine}`}${m.message ? `: ${m.message}` : ""}`,
    ),
  ];
  const shown = lines.slice(0, maxDetails);
  if (lines.length > shown.length) {
    shown.push(`… and ${lines.length - shown.length} more; run trivy locally for the full list`);
  }

  const counts = [
    countOf(vulnerabilities, "vulnerability", "vulnerabilities"),
    countOf(secrets, "secret", "secrets"),
    countOf(misconfigurations, "failed misconfiguration", "failed misconfigurations"),
  ].filter((part) => part !== "");
  const exampleId = secrets[0]?.ruleId ?? vulnerabilities[0]?.id ?? misconfigurations[0]?.id;
  const fixes = [
    secrets.length > 0
      ? "remove the file from the image and the build context (check .dockerignore) and rotate the secret if it is real"
      : "",
    vulnerabilities.length > 0 ? "upgrade the package or rebuild on a patched base image" : "",
    misconfigurations.length > 0 ? "change the Dockerfile as each check says" : "",
  ].filter((fix) => fix !== "");
  return {
    status: "failed",
    summary: `found ${joinAnd(counts)} (gate: ${gateName})${belowNote}`,
    details: [
      ...shown,
      `To fix: ${fixes.join("; ")}.`,
      `To accept a false positive: add its ID (e.g. ${exampleId}) on its own line, with a comment saying why, to ${ignoreFile}.`,
    ],
  };
}

function belowGateDetails(parsed: TrivyFindings, gated: ReadonlySet<string>): string[] {
  const counts = new Map<string, number>();
  for (const v of parsed.vulnerabilities) {
    if (!gated.has(v.severity)) counts.set(v.severity, (counts.get(v.severity) ?? 0) + 1);
  }
  const misconfigs = parsed.misconfigurations.filter(
    (m) => m.status === "FAIL" && !gated.has(m.severity),
  );
  const lines: string[] = [];
  if (counts.size > 0) {
    const bySeverityText = orderSeverities([...counts.keys()])
      .map((s) => `${counts.get(s)} ${s}`)
      .join(", ");
    lines.push(`vulnerabilities below the gate: ${bySeverityText}`);
  }
  for (const m of misconfigs) {
    lines.push(
      `misconfiguration below the gate: ${m.severity} ${m.id} "${m.title}" in ${m.target}`,
    );
  }
  return lines;
}

function rank(severity: string): number {
  const index = SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
  return index === -1 ? -1 : index;
}

function bySeverity(a: { severity: string }, b: { severity: string }): number {
  return rank(b.severity) - rank(a.severity);
}

function orderSeverities(severities: string[]): string[] {
  return severities.toSorted((a, b) => rank(a) - rank(b));
}

function countOf(items: readonly { severity: string }[], one: string, many: string): string {
  if (items.length === 0) return "";
  const perSeverity = new Map<string, number>();
  for (const item of items)
    perSeverity.set(item.severity, (perSeverity.get(item.severity) ?? 0) + 1);
  const breakdown = orderSeverities([...perSeverity.keys()])
    .reverse()
    .map((s) => `${perSeverity.get(s)} ${s}`)
    .join(", ");
  return `${items.length} ${items.length === 1 ? one : many} (${breakdown})`;
}

function joinAnd(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}
