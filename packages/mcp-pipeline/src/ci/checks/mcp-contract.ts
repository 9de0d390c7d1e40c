import { resolve } from "node:path";
import { fileHash } from "../cache/results.js";
import { evaluateContract, renderContractMarkdown } from "../mcp/contract.js";
import { readContractFile, writeContractFile } from "../mcp/contract-file.js";
import { snapshotFromTools } from "../mcp/contract-snapshot.js";
import { inspectMcpServer } from "../mcp/server-info.js";
import type { Check, CheckContext } from "./check.js";
import { NOT_MCP } from "./mcp-conformance.js";
import { sharedStack, stackInputs, withoutStack } from "./stack.js";

async function liveSnapshot(ctx: CheckContext) {
  const mcp = ctx.config.mcp;
  if (!mcp) return { outcome: { ...NOT_MCP, details: [...NOT_MCP.details] } };
  const up = await sharedStack(ctx);
  if (up.state !== "up") return { outcome: withoutStack(up) };
  const info = await inspectMcpServer(new URL(mcp.path, up.base));
  return { snapshot: snapshotFromTools(info.tools), file: mcp.contract.file };
}

/**
 * `mcp-contract`: the running image's `tools/list` against the committed
 * snapshot. Breaking changes (a tool removed or renamed, an argument removed or
 * made required, a type narrowed, …) fail the gate unless this run releases a
 * new major version; compatible ones pass and are listed.
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
    const live = await liveSnapshot(ctx);
    if (!live.snapshot) return live.outcome;
    const path = resolve(ctx.cwd, live.file);
    const snapshot = await readContractFile(path);
    // The first run of a new adopter writes the snapshot, as snapshot tests do outside CI; in CI a
    // missing snapshot fails, so a deleted one cannot let breaking changes through.
    if (snapshot === undefined && !ctx.ci) {
      await writeContractFile(path, live.snapshot);
      return {
        status: "passed",
        summary: `no snapshot yet: wrote ${live.file} (${live.snapshot.tools.length} tools); commit it`,
        details: [
          `From the next run on, ${live.file} is what the tools are compared with; outside CI a missing snapshot is written, in CI it fails the gate.`,
        ],
      };
    }
    const result = evaluateContract({
      snapshot,
      current: live.snapshot,
      releaseVersion: ctx.release?.version,
      previousVersion: ctx.release?.previous,
      snapshotPath: live.file,
    });
    return {
      status: result.status,
      summary: result.summary,
      details: result.details,
      ...(result.changes.length ? { markdown: renderContractMarkdown(result.changes) } : {}),
    };
  },
};

/** `mcp-pipeline contract --update`: writes the running image's tool contract as the snapshot. */
export const updateContract: Check = {
  id: "mcp-contract",
  async run(ctx) {
    const live = await liveSnapshot(ctx);
    if (!live.snapshot) return live.outcome;
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
