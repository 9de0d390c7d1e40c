/**
 * The tool contract across protocol revisions: a server that claims several revisions should
 * list the same tools under each, since a client does not choose which revision it gets. Every
 * difference is a finding; one the configuration does not declare fails the `mcp-contract` gate.
 */
import type { McpRevision } from "../config/schema.js";
import { diffContracts } from "./contract-diff.js";
import type { ContractChange, ContractSnapshot } from "./contract-snapshot.js";

/** One difference between the first claimed revision's tools and another revision's. */
export interface RevisionDifference extends ContractChange {
  /** The revision compared with the first one; the change reads from the first to it. */
  revision: McpRevision;
  /** Whether `mcp.contract.revisionDifferences` declares the tool. */
  declared: boolean;
}

export interface RevisionComparison {
  /** The revision every other one is compared with (the first the server speaks). */
  reference: McpRevision | undefined;
  differences: RevisionDifference[];
  /** Tools that differ and are not declared: each fails the gate. */
  undeclared: string[];
  /** Declared tools that no longer differ: each fails the gate, so the declaration stays true. */
  stale: string[];
  /** Report lines, one per difference and per stale declaration. */
  lines: string[];
}

/**
 * Compares the tools of every revision with those of the first one. A tool whose definition
 * differs in any way (diffContracts's changes, compatible or not), or that exists under one
 * revision only, differs. `declared` lists the tools allowed to differ.
 */
export function compareRevisions(
  snapshots: readonly { revision: McpRevision; snapshot: ContractSnapshot }[],
  declared: readonly string[],
): RevisionComparison {
  const [first, ...others] = snapshots;
  const allowed = new Set(declared);
  const differences: RevisionDifference[] = first
    ? others.flatMap(({ revision, snapshot }) =>
        diffContracts(first.snapshot, snapshot).map((change) => ({
          ...change,
          revision,
          declared: allowed.has(change.tool),
        })),
      )
    : [];
  const differing = new Set(differences.map((difference) => difference.tool));
  const undeclared = [...differing].filter((tool) => !allowed.has(tool)).sort();
  const stale = [...allowed].filter((tool) => !differing.has(tool)).sort();
  const lines = differences.map(
    (d) =>
      `${d.declared ? "~ declared  " : "✗ undeclared"} ${d.path} (${first?.revision} → ${d.revision})  ${d.change}: ${d.message}`,
  );
  for (const tool of stale) {
    lines.push(
      `✗ ${tool} is declared in mcp.contract.revisionDifferences but is the same under every revision (${snapshots.map((s) => s.revision).join(", ")}): remove it from there`,
    );
  }
  return { reference: first?.revision, differences, undeclared, stale, lines };
}

/** Renders the differences as a Markdown table for `report.md`. */
export function renderRevisionMarkdown(comparison: RevisionComparison): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const rows = comparison.differences.map(
    (d) =>
      `| \`${cell(d.path)}\` | ${comparison.reference} → ${d.revision} | \`${d.change}\` | ${cell(d.message)} | ${d.declared ? "yes" : "**no**"} |`,
  );
  for (const tool of comparison.stale) {
    rows.push(`| \`${cell(tool)}\` | — | \`declared-but-same\` | no longer differs | yes |`);
  }
  return [
    "| tool | revisions | change | what | declared |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
