/**
 * The `mcp-contract` gate: the tools a running server lists, against the committed snapshot.
 * Compatible changes pass and are listed; breaking ones (contract-diff.ts says which) fail,
 * unless the run releases a new major version.
 */
import semver from "semver";
import type { CheckOutcome } from "../checks/check.js";
import { diffContracts } from "./contract-diff.js";
import {
  type ContractChange,
  type ContractSnapshot,
  DEFAULT_CONTRACT_FILE,
  UPDATE_CONTRACT_COMMAND,
} from "./contract-snapshot.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/** What the `mcp-contract` gate reports: the outcome plus the classified changes. */
export interface ContractCheck extends CheckOutcome {
  changes: ContractChange[];
  breaking: number;
  compatible: number;
  /** True when breaking changes passed because the release is a new major version. */
  acceptedAsMajor: boolean;
}

export interface EvaluateContractInput {
  /** The committed snapshot, or undefined when there is none. */
  snapshot: ContractSnapshot | undefined;
  /** The snapshot of the server under test (`snapshotFromTools` of its `tools/list`). */
  current: ContractSnapshot;
  /** The version being released (from the git tag or package.json), if this run releases one. */
  releaseVersion?: string | undefined;
  /** The version released before it; breaking changes pass only when the major goes up. */
  previousVersion?: string | undefined;
  /** Shown in messages; defaults to `mcp-contract.json`. */
  snapshotPath?: string | undefined;
}

/**
 * The `mcp-contract` gate. No snapshot fails with the command that writes one. Breaking changes
 * fail unless `releaseVersion` is a new major relative to `previousVersion` (semver), in which
 * case they pass and are listed; compatible changes pass and are listed. Throws McpGateError
 * (`VERSION_INVALID`) when a given version is not semver.
 */
export function evaluateContract(input: EvaluateContractInput): ContractCheck {
  const file = input.snapshotPath ?? DEFAULT_CONTRACT_FILE;
  const toolCount = `${input.current.tools.length} tool${input.current.tools.length === 1 ? "" : "s"}`;
  if (input.snapshot === undefined) {
    return {
      status: "failed",
      summary: `no tool-contract snapshot: ${file} does not exist`,
      details: [
        `The server lists ${toolCount}; there is nothing to compare them with.`,
        `Write the snapshot from the running server with \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`,
      ],
      changes: [],
      breaking: 0,
      compatible: 0,
      acceptedAsMajor: false,
    };
  }
  const changes = diffContracts(input.snapshot, input.current);
  const breaking = changes.filter((change) => change.kind === "breaking");
  const compatible = changes.length - breaking.length;
  const major = newMajor(input.releaseVersion, input.previousVersion);
  const lines = renderContractLines(changes);
  const counts = `${breaking.length} breaking, ${compatible} compatible`;

  if (changes.length === 0) {
    return {
      status: "passed",
      summary: `tool contract unchanged: ${toolCount} match ${file}`,
      details: [],
      changes,
      breaking: 0,
      compatible: 0,
      acceptedAsMajor: false,
    };
  }
  if (breaking.length === 0) {
    return {
      status: "passed",
      summary: `tool contract: ${counts} change${changes.length === 1 ? "" : "s"} against ${file}`,
      details: [...lines, `Record them with \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`],
      changes,
      breaking: 0,
      compatible,
      acceptedAsMajor: false,
    };
  }
  if (major.isNew) {
    return {
      status: "passed",
      summary: `tool contract: ${counts} changes, accepted for major release ${major.text}`,
      details: [
        ...lines,
        `Breaking changes are allowed because ${major.text} is a new major version; list them in the release notes.`,
        `Record them with \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`,
      ],
      changes,
      breaking: breaking.length,
      compatible,
      acceptedAsMajor: true,
    };
  }
  return {
    status: "failed",
    summary: `tool contract: ${counts} changes against ${file}; breaking changes need a new major version`,
    details: [
      ...lines,
      `${major.text}. Clients that depend on these tools break silently.`,
      `Restore the contract, or release a new major version (mcp-pipeline release major). If the change is deliberate and reviewed, run \`${UPDATE_CONTRACT_COMMAND}\` and commit ${file}.`,
    ],
    changes,
    breaking: breaking.length,
    compatible,
    acceptedAsMajor: false,
  };
}

/** Renders changes as a Markdown table for `report.md` and release notes. */
export function renderContractMarkdown(changes: readonly ContractChange[]): string {
  if (changes.length === 0) return "No changes to the tool contract.\n";
  const rows = changes.map(
    (change) =>
      `| ${change.kind} | \`${cell(change.path)}\` | \`${change.change}\` | ${cell(change.message)} |`,
  );
  return ["| kind | where | change | what |", "| --- | --- | --- | --- |", ...rows, ""].join("\n");
}

/** Renders changes as terminal lines: `✗ breaking   create_task.arguments.x  code: message`. */
export function renderContractLines(changes: readonly ContractChange[]): string[] {
  return changes.map(
    (change) =>
      `${change.kind === "breaking" ? "✗ breaking  " : "✓ compatible"} ${change.path}  ${change.change}: ${change.message}`,
  );
}

function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function newMajor(
  release: string | undefined,
  previous: string | undefined,
): { isNew: boolean; text: string } {
  if (release === undefined) return { isNew: false, text: "This run releases no version" };
  const to = parseVersion(release, "releaseVersion");
  if (previous === undefined) {
    return { isNew: false, text: `Release ${to} has no previous version to compare with` };
  }
  const from = parseVersion(previous, "previousVersion");
  if (semver.major(to) > semver.major(from)) return { isNew: true, text: `${to} (from ${from})` };
  return { isNew: false, text: `Release ${to} is not a new major version after ${from}` };
}

function parseVersion(value: string, field: string): string {
  const version = semver.valid(semver.clean(value) ?? value);
  if (version === null) {
    throw new McpGateError(
      McpGateErrorCode.VERSION_INVALID,
      `${field} ${JSON.stringify(value)} is not a semver version (X.Y.Z)`,
    );
  }
  return version;
}
