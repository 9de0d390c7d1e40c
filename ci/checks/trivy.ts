import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execa } from "execa";
import type { Config } from "../config.js";
import type { CheckOutcome } from "../result.js";
import { gateFindings, parseTrivyReport } from "../trivy-report.js";

export interface TrivyRun {
  /** The image exported as a tarball. */
  tarball: string;
  reportDir: string;
  cwd: string;
  config: Config["trivy"];
  /** Air-gapped runs never try to download a vulnerability database. */
  offline: boolean;
  env: NodeJS.ProcessEnv;
}

export interface TrivyOutcome {
  scan: CheckOutcome;
  vulnerabilities: CheckOutcome;
  files: string[];
}

const OFFLINE_FLAGS = [
  "--skip-db-update",
  "--skip-java-db-update",
  "--skip-check-update",
  "--offline-scan",
];

/** A vulnerability DB Trivy can use without downloading: `<cacheDir>/db/trivy.db`. */
export function vulnerabilityDbPresent(cacheDir: string | undefined): boolean {
  return cacheDir !== undefined && existsSync(join(cacheDir, "db", "trivy.db"));
}

async function trivy(args: string[], run: TrivyRun): Promise<void> {
  const res = await execa("trivy", args, { cwd: run.cwd, env: run.env, reject: false, all: true });
  if (res.exitCode !== 0) {
    throw Object.assign(new Error(`trivy ${args[0]} exited with ${res.exitCode}`), {
      stderr: String(res.all ?? ""),
    });
  }
}

/**
 * `trivy` and `trivy-vulnerabilities`, driven through execa on the exported
 * image: a secret and misconfiguration scan (no database needed), a CycloneDX
 * SBOM, SARIF for code scanning, and a vulnerability scan gated on severity
 * when a database is available — `skipped`, with the reason, when it is not.
 */
export async function runTrivy(run: TrivyRun): Promise<TrivyOutcome> {
  mkdirSync(run.reportDir, { recursive: true });
  const jsonOut = join(run.reportDir, "trivy.json");
  const sarifOut = join(run.reportDir, "trivy.sarif");
  const sbomOut = join(run.reportDir, "sbom.cdx.json");
  const ignoreFile = resolve(run.cwd, run.config.ignoreFile);
  const cacheDir = run.config.dbDir ? resolve(run.cwd, run.config.dbDir) : undefined;
  const haveDb = vulnerabilityDbPresent(cacheDir);
  const scanVulns = haveDb || !run.offline;

  const common = [
    ...(cacheDir ? ["--cache-dir", cacheDir] : []),
    ...(run.offline || haveDb ? OFFLINE_FLAGS : []),
    ...(existsSync(ignoreFile) ? ["--ignorefile", ignoreFile] : []),
    "--quiet",
  ];
  const scanners = ["secret", "misconfig", ...(scanVulns ? ["vuln"] : [])];
  await trivy(
    [
      "image",
      "--input",
      run.tarball,
      "--scanners",
      scanners.join(","),
      "--image-config-scanners",
      "misconfig,secret",
      ...(run.config.ignoreUnfixed ? ["--ignore-unfixed"] : []),
      "--format",
      "json",
      "--output",
      jsonOut,
      ...common,
    ],
    run,
  );
  await trivy(["convert", "--format", "sarif", "--output", sarifOut, jsonOut], run);
  await trivy(
    ["image", "--input", run.tarball, "--format", "cyclonedx", "--output", sbomOut, ...common],
    run,
  );

  const findings = parseTrivyReport(JSON.parse(await readFile(jsonOut, "utf8")));
  const secretsAndConfig = gateFindings(
    { ...findings, vulnerabilities: [] },
    run.config.severities,
    { ignoreFile: run.config.ignoreFile },
  );
  const scan: CheckOutcome = {
    ...secretsAndConfig,
    details: [...secretsAndConfig.details, `reports: ${jsonOut}, ${sarifOut}; SBOM: ${sbomOut}`],
  };
  let vulnerabilities: CheckOutcome;
  if (!scanVulns) {
    vulnerabilities = {
      status: "skipped",
      summary: "no vulnerability database available offline",
      details: [
        "Air-gapped runs cannot download Trivy's database. Point trivy.dbDir (pipeline config) at a directory",
        "holding db/trivy.db (e.g. copied from `trivy image --download-db-only --cache-dir DIR` on a connected machine).",
      ],
    };
  } else {
    vulnerabilities = gateFindings(
      { ...findings, secrets: [], misconfigurations: [] },
      run.config.severities,
      {
        ignoreFile: run.config.ignoreFile,
      },
    );
  }
  return { scan, vulnerabilities, files: [jsonOut, sarifOut, sbomOut] };
}
