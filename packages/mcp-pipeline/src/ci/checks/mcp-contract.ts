import { resolve } from "node:path";
import { fileHash } from "../cache/results.js";
import type { Config } from "../config/schema.js";
import { evaluateContract, renderContractMarkdown } from "../mcp/contract.js";
import { readContractFile, writeContractFile } from "../mcp/contract-file.js";
import {
  compareRevisions,
  type RevisionComparison,
  renderRevisionMarkdown,
} from "../mcp/contract-revisions.js";
import { type ContractSnapshot, snapshotFromTools } from "../mcp/contract-snapshot.js";
import { inspectEveryRevision } from "../mcp/server-info.js";
import type { Check, CheckContext, CheckOutcome } from "./check.js";
import { NOT_MCP } from "./mcp-conformance.js";
import { sharedStack, stackInputs, withoutStack } from "./stack.js";

type Mcp = NonNullable<Config["mcp"]>;

interface LiveContract {
  /** The first claimed revision's tools: what the committed snapshot holds. */
  snapshot: ContractSnapshot;
  file: string;
  revisions: RevisionComparison;
  /** Claimed revisions the server does not speak, with why. */
  unspoken: string[];
}

/** The running server's tools under every claimed revision, or the outcome when it cannot run. */
async function liveContract(
  ctx: CheckContext,
): Promise<{ live: LiveContract } | { outcome: CheckOutcome }> {
  const mcp = ctx.config.mcp;
  if (!mcp) return { outcome: { ...NOT_MCP, details: [...NOT_MCP.details] } };
  const up = await sharedStack(ctx);
  if (up.state !== "up") return { outcome: withoutStack(up) };
  const probes = await inspectEveryRevision(new URL(mcp.path, up.base), mcp.revisions);
  const spoken = probes.flatMap((probe) =>
    probe.ok ? [{ revision: probe.revision, snapshot: snapshotFromTools(probe.info.tools) }] : [],
  );
  const unspoken = probes.flatMap((probe) => (probe.ok ? [] : [probe.error.message]));
  const [first] = spoken;
  if (first === undefined || first.revision !== mcp.revisions[0]) {
    return { outcome: unspokenOutcome(mcp, unspoken) };
  }
  return {
    live: {
      snapshot: first.snapshot,
      file: mcp.contract.file,
      revisions: compareRevisions(spoken, mcp.contract.revisionDifferences),
      unspoken,
    },
  };
}

function unspokenOutcome(mcp: Mcp, unspoken: string[]): CheckOutcome {
  return {
    status: "failed",
    summary: `the server does not speak ${mcp.revisions[0]}, the first revision mcp.revisions claims: its tools cannot be read`,
    details: unspoken,
  };
}

/**
 * `mcp-contract`: the running image's `tools/list` against the committed snapshot, under every
 * revision `mcp.revisions` claims. The snapshot holds the first claimed revision's tools; breaking
 * changes to them (a tool removed or renamed, an argument removed or made required, a type
 * narrowed, …) fail unless this run releases a new major version, compatible ones pass and are
 * listed. Tools that differ between revisions fail unless `mcp.contract.revisionDifferences`
 * declares them; a claimed revision the server does not speak fails, named.
 */
export const mcpContract: Check = {
  id: "mcp-contract",
  cacheKey: async (ctx) => ({
    stack: await stackInputs(ctx),
    mcp: ctx.config.mcp,
    snapshot: ctx.config.mcp ? fileHash(resolve(ctx.cwd, ctx.config.mcp.contract.file)) : undefined,
    release: ctx.release,
  }),
  async run(ctx) {
    const result = await liveContract(ctx);
    if ("outcome" in result) return result.outcome;
    const { live } = result;
    const path = resolve(ctx.cwd, live.file);
    const snapshot = await readContractFile(path);
    // The first run of a new adopter writes the snapshot, as snapshot tests do outside CI; in CI a
    // missing snapshot fails, so a deleted one cannot let breaking changes through.
    const outcome: CheckOutcome =
      snapshot === undefined && !ctx.ci
        ? await writeFirstSnapshot(path, live)
        : contractOutcome(
            evaluateContract({
              snapshot,
              current: live.snapshot,
              releaseVersion: ctx.release?.version,
              previousVersion: ctx.release?.previous,
              snapshotPath: live.file,
            }),
          );
    return withRevisions(outcome, live);
  },
};

async function writeFirstSnapshot(path: string, live: LiveContract): Promise<CheckOutcome> {
  await writeContractFile(path, live.snapshot);
  return {
    status: "passed",
    summary: `no snapshot yet: wrote ${live.file} (${live.snapshot.tools.length} tools); commit it`,
    details: [
      `From the next run on, ${live.file} is what the tools are compared with; outside CI a missing snapshot is written, in CI it fails the gate.`,
    ],
  };
}

function contractOutcome(result: ReturnType<typeof evaluateContract>): CheckOutcome {
  return {
    status: result.status,
    summary: result.summary,
    details: result.details,
    ...(result.changes.length ? { markdown: renderContractMarkdown(result.changes) } : {}),
  };
}

/** The snapshot's verdict with the revisions' own: unspoken ones and undeclared differences fail. */
function withRevisions(outcome: CheckOutcome, live: LiveContract): CheckOutcome {
  const { revisions, unspoken } = live;
  const problems = [
    unspoken.length > 0
      ? `the server does not speak every claimed revision (${unspoken.length} not spoken)`
      : "",
    revisions.undeclared.length > 0
      ? `tools differ between revisions: ${revisions.undeclared.join(", ")} (not declared in mcp.contract.revisionDifferences)`
      : "",
    revisions.stale.length > 0
      ? `mcp.contract.revisionDifferences declares ${revisions.stale.join(", ")}, which no longer differ`
      : "",
  ].filter(Boolean);
  const declared = revisions.differences.filter((d) => d.declared);
  const details = [
    ...outcome.details,
    ...unspoken,
    ...revisions.lines,
    ...(declared.length > 0 && problems.length === 0
      ? [`${declared.length} declared difference(s) between revisions, listed above.`]
      : []),
  ];
  const markdown = [
    outcome.markdown,
    revisions.lines.length > 0
      ? `Tools across revisions (compared with ${revisions.reference}):\n\n${renderRevisionMarkdown(revisions)}`
      : undefined,
  ]
    .filter(Boolean)
    .join("\n");
  return {
    status: problems.length > 0 ? "failed" : outcome.status,
    summary: problems.length > 0 ? `${problems.join("; ")}; ${outcome.summary}` : outcome.summary,
    details,
    ...(markdown ? { markdown } : {}),
  };
}

/**
 * `mcp-pipeline contract --update`: writes the running image's tool contract (under the first
 * claimed revision) as the snapshot.
 */
export const updateContract: Check = {
  id: "mcp-contract",
  async run(ctx) {
    const result = await liveContract(ctx);
    if ("outcome" in result) return result.outcome;
    const { live } = result;
    const before = await readContractFile(resolve(ctx.cwd, live.file));
    await writeContractFile(resolve(ctx.cwd, live.file), live.snapshot);
    const changes = before
      ? evaluateContract({ snapshot: before, current: live.snapshot }).changes
      : [];
    return {
      status: "passed",
      summary: `wrote ${live.file}: ${live.snapshot.tools.length} tools${before ? `, ${changes.length} change(s) from the previous snapshot` : ""}`,
      details: [`Commit ${live.file} so the next run compares against it.`],
      ...(changes.length ? { markdown: renderContractMarkdown(changes) } : {}),
    };
  },
};
