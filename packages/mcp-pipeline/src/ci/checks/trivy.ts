import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import pLimit, { type LimitFunction } from "p-limit";
import { run } from "../../host/exec.js";
import { fileHash } from "../cache/results.js";
import type { Check, CheckContext } from "./check.js";
import { gateFindings, parseTrivyReport, type TrivyFindings } from "./trivy-report.js";

const OFFLINE_FLAGS = [
  "--skip-db-update",
  "--skip-java-db-update",
  "--skip-check-update",
  "--offline-scan",
];

/** A vulnerability DB Trivy can use without downloading: `<cacheDir>/db/trivy.db`. */
export function vulnerabilityDbPresent(cacheDir: string): boolean {
  return existsSync(join(cacheDir, "db", "trivy.db"));
}

/**
 * The directory Trivy keeps its databases and layer cache in: `trivy.dbDir`, else Trivy's own
 * default (`$XDG_CACHE_HOME/trivy`, else `~/.cache/trivy`).
 */
export function trivyCacheDir(
  ctx: Pick<CheckContext, "config" | "cwd">,
  env = process.env,
): string {
  const { dbDir } = ctx.config.trivy;
  if (dbDir) return resolve(ctx.cwd, dbDir);
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "trivy");
}

// Trivy holds an exclusive lock on its cache directory for a whole scan, and gives up on a
// lock it cannot take within seconds ("cache may be in use by another process"). Two platforms'
// scans of a big image on an empty cache (every fresh CI runner) therefore fail rather than
// wait; online, both would also download the databases into the same directory at once. Scans
// sharing a cache directory take turns.
const scanTurns = new Map<string, LimitFunction>();
function inTurn<T>(cacheDir: string, fn: () => Promise<T>): Promise<T> {
  let limit = scanTurns.get(cacheDir);
  if (!limit) {
    limit = pLimit(1);
    scanTurns.set(cacheDir, limit);
  }
  return limit(fn);
}

interface Scan {
  findings: TrivyFindings;
  /** Whether vulnerabilities were scanned at all (not offline without a database). */
  vulnerabilitiesScanned: boolean;
  files: { json: string; sarif: string; sbom: string };
}

/**
 * One Trivy scan of the exported image (vulnerabilities when a database is
 * available, secrets, misconfigurations, every package), converted into SARIF
 * for code scanning and a CycloneDX SBOM. Both Trivy checks share it.
 */
async function scan(ctx: CheckContext): Promise<Scan> {
  const config = ctx.config.trivy;
  const dir = ctx.config.reportDir;
  mkdirSync(dir, { recursive: true });
  // The native platform's reports keep the names code scanning and the attestation expect.
  const suffix = ctx.native ? "" : `-${ctx.platform.replaceAll("/", "-")}`;
  const files = {
    json: join(dir, `trivy${suffix}.json`),
    sarif: join(dir, `trivy${suffix}.sarif`),
    sbom: join(dir, `sbom${suffix}.cdx.json`),
  };
  const ignoreFile = resolve(ctx.cwd, config.ignoreFile);
  const cacheDir = trivyCacheDir(ctx);
  // Without trivy.dbDir, offline runs do not trust whatever database the default cache holds.
  const haveDb = config.dbDir !== undefined && vulnerabilityDbPresent(cacheDir);
  const vulnerabilitiesScanned = haveDb || !ctx.offline;
  const scanners = ["secret", "misconfig", ...(vulnerabilitiesScanned ? ["vuln"] : [])];
  await inTurn(cacheDir, () =>
    run(
      "trivy",
      [
        "image",
        "--input",
        ctx.tarball,
        "--scanners",
        scanners.join(","),
        "--image-config-scanners",
        "misconfig,secret",
        "--list-all-pkgs",
        ...(config.ignoreUnfixed ? ["--ignore-unfixed"] : []),
        "--cache-dir",
        cacheDir,
        ...(ctx.offline || haveDb ? OFFLINE_FLAGS : []),
        ...(existsSync(ignoreFile) ? ["--ignorefile", ignoreFile] : []),
        "--quiet",
        "--format",
        "json",
        "--output",
        files.json,
      ],
      { cwd: ctx.cwd },
    ),
  );
  for (const [format, output] of [
    ["sarif", files.sarif],
    ["cyclonedx", files.sbom],
  ] as const) {
    await run("trivy", ["convert", "--quiet", "--format", format, "--output", output, files.json], {
      cwd: ctx.cwd,
    });
  }
  const findings = parseTrivyReport(JSON.parse(await readFile(files.json, "utf8")));
  return { findings, vulnerabilitiesScanned, files };
}

const sharedScan = (ctx: CheckContext) => ctx.shared("trivy-scan", () => scan(ctx));

/**
 * What a Trivy verdict depends on besides the image: Trivy's version, the
 * vulnerability database it would use (its metadata changes with every
 * update), the ignore file and the gate's settings.
 */
function trivyInputs(ctx: CheckContext): Promise<unknown> {
  return ctx.shared("trivy-inputs", async () => {
    const config = ctx.config.trivy;
    const cacheDir = trivyCacheDir(ctx);
    return {
      version: (await run("trivy", ["--version"])).split("\n")[0],
      db: fileHash(join(cacheDir, "db", "metadata.json")),
      ignoreFile: fileHash(resolve(ctx.cwd, config.ignoreFile)),
      config,
      offline: ctx.offline,
    };
  });
}

/** `trivy`: no secret, and no misconfiguration at a gated severity; writes JSON, SARIF and the SBOM. */
export const trivy: Check = {
  id: "trivy",
  perPlatform: true,
  cacheKey: trivyInputs,
  async run(ctx) {
    const { findings, files } = await sharedScan(ctx);
    const outcome = gateFindings(
      { ...findings, vulnerabilities: [] },
      ctx.config.trivy.severities,
      {
        ignoreFile: ctx.config.trivy.ignoreFile,
      },
    );
    return {
      ...outcome,
      details: [
        ...outcome.details,
        `reports: ${basename(files.json)}, ${basename(files.sarif)}; SBOM: ${basename(files.sbom)}`,
      ],
      files: [files.json, files.sarif, files.sbom],
    };
  },
};

/**
 * `trivy-vulnerabilities`: no vulnerability at a gated severity; `skipped`,
 * with the reason, when air-gapped without a database.
 */
export const trivyVulnerabilities: Check = {
  id: "trivy-vulnerabilities",
  perPlatform: true,
  cacheKey: trivyInputs,
  async run(ctx) {
    const { findings, vulnerabilitiesScanned } = await sharedScan(ctx);
    if (!vulnerabilitiesScanned) {
      return {
        status: "skipped",
        summary: "no vulnerability database available offline",
        details: [
          "Air-gapped runs cannot download Trivy's database. Point trivy.dbDir (pipeline config) at a directory",
          "holding db/trivy.db (e.g. copied from `trivy image --download-db-only --cache-dir DIR` on a connected machine).",
        ],
      };
    }
    return gateFindings(
      { ...findings, secrets: [], misconfigurations: [] },
      ctx.config.trivy.severities,
      { ignoreFile: ctx.config.trivy.ignoreFile },
    );
  },
};
