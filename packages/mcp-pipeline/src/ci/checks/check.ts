import type { Config } from "../config/schema.js";
import type { ImageFacts } from "../docker/image-facts.js";

/** How a check ended. `skipped` means it did not run (disabled, or a prerequisite failed). */
export type CheckStatus = "passed" | "failed" | "skipped";

/** The outcome of one verification gate, as it appears in the report. */
export interface CheckResult {
  /** Stable identifier, kebab-case: `non-root`, `size-budget`, `trivy`. */
  id: string;
  status: CheckStatus;
  /** One line a person reads first. */
  summary: string;
  /** Supporting lines: what was found, where, and what to do about it. */
  details: string[];
  /** A Markdown section for report.md and the release notes (a table of results), when useful. */
  markdown?: string | undefined;
  durationMs: number;
  /** Set when the result was reused from an earlier run with the same inputs (see cache/results.ts). */
  cached?: { run: string; at: string } | undefined;
}

/** What a check function reports; `timed` adds the id and the duration. */
export type CheckOutcome = Omit<CheckResult, "id" | "durationMs" | "cached"> & {
  /** Files the check wrote (report artifacts), kept with a cached result and restored with it. */
  files?: string[] | undefined;
};

/** What every check is given: the built image and the run's settings. */
export interface CheckContext {
  /** The image's platform (`linux/amd64`); per-platform checks get one context per platform. */
  platform: string;
  /** The engine's own platform, whose containers run without emulation. */
  native: boolean;
  /** Whether this platform's containers can run here (natively, or under QEMU), and why not. */
  runnable: { ok: true } | { ok: false; reason: string };
  /** The built image in the local Docker engine (`<name>:pipeline`). */
  image: string;
  /** The same image as an OCI tarball. */
  tarball: string;
  /** Sizes and layers, measured once after the build. */
  facts: ImageFacts;
  config: Config;
  /** The working directory: relative paths in the configuration start here. */
  cwd: string;
  /** Environment of every container a check starts (generated secrets included). */
  runEnv: Readonly<Record<string, string>>;
  /** Air-gapped: no tool may try to download anything. */
  offline: boolean;
  /** A CI run (`CI` or `GITHUB_ACTIONS` is set): nothing may be written into the repository. */
  ci: boolean;
  /** The version this run releases, and the one released before it, when the ref is a release. */
  release: { version: string; previous: string | undefined } | undefined;
  /** Where this run publishes and under which tags, when it publishes (unset: it does not). */
  publishing?: { repository: string; tags: readonly string[] } | undefined;
  /**
   * Work several checks share, done once on first use (the Trivy scan, the compose stack);
   * `dispose` runs after the last check has finished.
   */
  /**
   * Work shared by every platform's run of the checks, computed once (the native platform's
   * health timing, which the emulated ones scale their allowance by).
   */
  sharedAcrossPlatforms<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** The local image of the platform whose containers run natively in this run, when one does. */
  nativeImage: string | undefined;
  shared<T>(
    key: string,
    compute: () => Promise<T>,
    dispose?: (value: T) => Promise<void>,
  ): Promise<T>;
}

/** One gate: a stable id and what it verifies. */
export interface Check {
  /** kebab-case; the `--skip` value and the report's key. */
  id: string;
  run(ctx: CheckContext): Promise<CheckOutcome>;
  /** Runs once for every platform's image (else on the native one only); a failure names the platform. */
  perPlatform?: boolean;
  /**
   * Everything the result depends on besides the image itself and the pipeline's own code (its
   * configuration, tool and database versions, the files it reads); a passed result is reused
   * while this stays the same. Checks without it always run.
   */
  cacheKey?(ctx: CheckContext): Promise<unknown>;
}

/** How many lines of a failed command's stderr are kept in a check's details. */
const STDERR_TAIL_LINES = 20;
/** Guards against cause cycles and absurdly deep chains. */
const MAX_CAUSE_DEPTH = 8;

/**
 * Runs a check and measures it. A thrown error becomes a `failed` result whose summary is the
 * error's message and whose details hold the message, every `cause` in the chain and, for
 * command failures that carry one (Dagger's `ExecError`, execa), the tail of stderr.
 */
export async function timed(id: string, fn: () => Promise<CheckOutcome>): Promise<CheckResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const outcome = await fn();
    return {
      id,
      status: outcome.status,
      summary: outcome.summary,
      details: outcome.details,
      ...(outcome.markdown ? { markdown: outcome.markdown } : {}),
      durationMs: elapsed(),
    };
  } catch (error) {
    const details = describeError(error);
    return {
      id,
      status: "failed",
      summary: `${id} could not run: ${firstLine(messageOf(error))}`,
      details,
      durationMs: elapsed(),
    };
  }
}

/**
 * Turns an error into report lines: its message, then `caused by: …` for each cause, then the
 * last lines of `stderr` when the error carries one.
 */
export function describeError(error: unknown): string[] {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  let depth = 0;
  while (current !== undefined && current !== null && !seen.has(current)) {
    if (depth >= MAX_CAUSE_DEPTH) {
      lines.push("caused by: … (cause chain truncated)");
      break;
    }
    seen.add(current);
    const prefix = depth === 0 ? "" : "caused by: ";
    lines.push(`${prefix}${describeOne(current)}`);
    current = current instanceof Error ? current.cause : undefined;
    depth += 1;
  }
  const stderr = stderrOf(error);
  if (stderr !== undefined) {
    const tail = stderr.trimEnd().split("\n").slice(-STDERR_TAIL_LINES);
    lines.push(`stderr (last ${tail.length} lines):`, ...tail.map((line) => `  ${line}`));
  }
  return lines;
}

function describeOne(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
    const tag = typeof code === "string" ? ` [${code}]` : "";
    return `${name}${error.message}${tag}`;
  }
  return messageOf(error);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

function stderrOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const stderr = (error as { stderr?: unknown }).stderr;
  return typeof stderr === "string" && stderr.trim() !== "" ? stderr : undefined;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line === "" ? "unknown error" : line;
}
