/** One megabyte as budgets count it: 1,000,000 bytes (decimal, as registries and `docker image ls` show sizes). */
export const MB = 1_000_000;

/** One image layer, as read from the image config/history or manifest. */
export interface LayerSize {
  digest: string;
  sizeBytes: number;
  /** The instruction that made it (`COPY /rootfs/ / # buildkit`), when known. */
  createdBy?: string | undefined;
}

export interface SizeBudget {
  /** Budget for the uncompressed image, in MB of 1,000,000 bytes. */
  uncompressedMB: number;
  /** Budget for the compressed (pushed) image, in MB of 1,000,000 bytes; unchecked when unset. */
  compressedMB?: number | undefined;
}

export interface SizeInput {
  uncompressedBytes: number;
  /** Sum of the compressed layer blobs, when known (e.g. after export or push). */
  compressedBytes?: number | undefined;
  layers: readonly LayerSize[];
  budget: SizeBudget;
}

export interface SizeEvaluation {
  status: "passed" | "failed";
  summary: string;
  details: string[];
}

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB"] as const;
const TOP_LAYERS = 5;
const CREATED_BY_WIDTH = 80;
const ADVICE =
  "remove build tools and caches from the runtime stage, check .dockerignore, and start with the biggest layers below";

/**
 * Formats a byte count with decimal units and one decimal: `950 B`, `1.5 kB`, `134.2 MB`.
 * Throws RangeError for negative or non-finite input.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new RangeError(`formatBytes expects a non-negative byte count, got ${bytes}`);
  }
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let unit = 0;
  let value = bytes;
  // Compare after rounding, so 999,960 bytes reads `1.0 MB`, not `1000.0 kB`.
  while (unit < UNITS.length - 1 && Number(value.toFixed(1)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Checks an image's size against its budget. Bytes are compared with `MB × 1,000,000`.
 * The summary reads `134.2 MB of 150 MB budget (89%)`; over budget, it says by how much and what
 * to do. Details give the compressed size (and its budget) when known and the five biggest layers.
 */
export function evaluateSize(input: SizeInput): SizeEvaluation {
  const { uncompressedBytes, compressedBytes, budget } = input;
  assertBytes("uncompressedBytes", uncompressedBytes);
  if (compressedBytes !== undefined) assertBytes("compressedBytes", compressedBytes);
  assertBudget("uncompressedMB", budget.uncompressedMB);
  if (budget.compressedMB !== undefined) assertBudget("compressedMB", budget.compressedMB);

  const overUncompressed = uncompressedBytes - budget.uncompressedMB * MB;
  const overCompressed =
    compressedBytes !== undefined && budget.compressedMB !== undefined
      ? compressedBytes - budget.compressedMB * MB
      : undefined;
  const failed = overUncompressed > 0 || (overCompressed ?? 0) > 0;

  const details: string[] = [];
  if (compressedBytes !== undefined) {
    details.push(
      budget.compressedMB === undefined
        ? `compressed: ${formatBytes(compressedBytes)}`
        : `compressed: ${usage(compressedBytes, budget.compressedMB)}`,
    );
  } else if (budget.compressedMB !== undefined) {
    details.push(
      `compressed: unknown, so the ${budget.compressedMB} MB compressed budget was not checked`,
    );
  }
  details.push(...biggestLayers(input.layers));

  if (!failed) {
    return { status: "passed", summary: usage(uncompressedBytes, budget.uncompressedMB), details };
  }
  const problems: string[] = [];
  if (overUncompressed > 0) {
    problems.push(
      `${formatBytes(uncompressedBytes)} is ${formatBytes(overUncompressed)} over the ${budget.uncompressedMB} MB budget (${percent(uncompressedBytes, budget.uncompressedMB)})`,
    );
  }
  if (overCompressed !== undefined && overCompressed > 0 && compressedBytes !== undefined) {
    problems.push(
      `compressed ${formatBytes(compressedBytes)} is ${formatBytes(overCompressed)} over the ${budget.compressedMB} MB compressed budget (${percent(compressedBytes, budget.compressedMB ?? 0)})`,
    );
  }
  return { status: "failed", summary: `${problems.join("; ")}: ${ADVICE}`, details };
}

function usage(bytes: number, budgetMB: number): string {
  return `${formatBytes(bytes)} of ${budgetMB} MB budget (${percent(bytes, budgetMB)})`;
}

// Floored, so an image just under budget never reads 100%.
function percent(bytes: number, budgetMB: number): string {
  return `${Math.floor((bytes / (budgetMB * MB)) * 100)}%`;
}

function biggestLayers(layers: readonly LayerSize[]): string[] {
  const top = layers
    .filter((layer) => layer.sizeBytes > 0)
    .toSorted((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, TOP_LAYERS);
  if (top.length === 0) return [];
  const heading =
    layers.length > top.length
      ? `biggest ${top.length} of ${layers.length} layers:`
      : `layers (${top.length}):`;
  return [
    heading,
    ...top.map((layer) => {
      const what = layer.createdBy ? `  ${describeInstruction(layer.createdBy)}` : "";
      return `  ${formatBytes(layer.sizeBytes).padStart(9)}  ${shortDigest(layer.digest)}${what}`;
    }),
  ];
}

/** Collapses an instruction to one line of at most 80 characters. */
function describeInstruction(createdBy: string): string {
  const line = createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, "")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > CREATED_BY_WIDTH ? `${line.slice(0, CREATED_BY_WIDTH - 1)}…` : line;
}

function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(":") ? digest.split(":", 2) : ["", digest];
  const short = (hex ?? "").slice(0, 12);
  return algorithm ? `${algorithm}:${short}` : short;
}

function assertBytes(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of bytes, got ${value}`);
  }
}

function assertBudget(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`budget.${name} must be a positive number of MB, got ${value}`);
  }
}
