import type { CheckResult } from "../checks/check.js";
import type { PredicateType } from "../sign/cosign-args.js";

/** Everything the pipeline found out, as written to `report.json`. */
export interface PipelineReport {
  ok: boolean;
  image: {
    ref: string;
    digest: string | null;
    sizeBytes: number | null;
    compressedBytes: number | null;
    /** Every platform's image: its size, and its digest in the published index. */
    platforms?: PlatformFacts[];
  };
  checks: CheckResult[];
  /** Fully qualified references that were pushed, e.g. `ghcr.io/o/r:1.2.3`. */
  published: string[];
  /**
   * The official MCP Registry's listing, when server.json names the server: the name to search
   * for, and this version's entry in the registry once a run has published one (null until then).
   */
  mcpRegistry?: { name: string; entry: string | null } | undefined;
  /** What stopped the run before its gates could decide, when something did. */
  error: ReportError | null;
  /** Signatures of the published digest (cosign), when it was signed. */
  signatures?: SignatureRecord[];
  /** Attestations on the published digest: the SBOM and the SLSA provenance. */
  attestations?: SignatureRecord[];
  /** The commands a user runs to verify the published image themselves. */
  verify?: string[];
  /**
   * Set when nothing the run depends on had changed since an earlier run that passed, whose
   * results this run reused whole instead of building and checking again (ci/replay/).
   */
  replayed?: { run: string; at: string } | undefined;
}

/** One platform's image in the report. */
export interface PlatformFacts {
  platform: string;
  sizeBytes: number;
  compressedBytes: number;
  /** Its manifest's digest in the published index; null before publishing. */
  digest: string | null;
}

/** Why a run ended early: the image did not build, publishing failed, or something unexpected. */
export interface ReportError {
  kind: "build" | "publish" | "configuration" | "internal";
  message: string;
}

/** How one pipeline stage went; `status` is free text such as `passed`, `failed`, `skipped`. */
export interface StageSummary {
  name: string;
  status: string;
  durationMs: number;
}

export interface ReportExtra {
  /** Wall time of the whole run. */
  durationMs?: number | undefined;
  stages?: readonly StageSummary[] | undefined;
}

/** What report.json says about a signature or an attestation. */
export interface SignatureRecord {
  ref: string;
  kind: "signature" | PredicateType;
  signer: string;
  /** Where cosign stored it in the registry. */
  stored: string;
  /** The transparency-log entry, or why there is none. */
  tlog: string;
}
