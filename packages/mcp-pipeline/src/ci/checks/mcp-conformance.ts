import { resolve } from "node:path";
import { fileHash } from "../cache/results.js";
import {
  installedSuite,
  readRequirementSets,
  renderConformanceMarkdown,
  runConformance,
} from "../mcp/conformance.js";
import { planConformance, readExpectedFailures } from "../mcp/conformance-plan.js";
import { inspectEveryRevision } from "../mcp/server-info.js";
import type { Check } from "./check.js";
import { sharedStack, stackInputs, withoutStack } from "./stack.js";

/** What the MCP gates report for an image the configuration does not call an MCP server. */
export const NOT_MCP = {
  status: "skipped",
  summary: "no mcp section in the pipeline config: the image is not declared an MCP server",
  details: ["Add `mcp: { path: /mcp }` to pipeline.config.yaml to run the MCP gates."],
} as const;

/**
 * `mcp-conformance`: the official MCP conformance suite (pinned in the lockfile) against the
 * image's endpoint in the running compose stack — the same `up` as the smoke test — at every
 * revision `mcp.revisions` claims, each scenario at its revision's wire. A claimed revision the
 * server does not speak fails, named. Default scenarios: each revision's required ones that need
 * none of the suite's fixture tools (conformance-plan.ts); an expected-failures baseline, by
 * revision, documents a known gap instead of hiding it.
 */
export const mcpConformance: Check = {
  id: "mcp-conformance",
  cacheKey: async (ctx) => ({
    stack: await stackInputs(ctx),
    mcp: ctx.config.mcp,
    suite: ctx.config.mcp ? installedSuite().version : undefined,
    expectedFailures: ctx.config.mcp?.conformance.expectedFailures
      ? fileHash(resolve(ctx.cwd, ctx.config.mcp.conformance.expectedFailures))
      : undefined,
  }),
  async run(ctx) {
    const mcp = ctx.config.mcp;
    if (!mcp) return { ...NOT_MCP, details: [...NOT_MCP.details] };
    const up = await sharedStack(ctx);
    if (up.state !== "up") return withoutStack(up);
    const url = new URL(mcp.path, up.base);
    const suite = installedSuite();
    const probes = await inspectEveryRevision(url, mcp.revisions);
    const legs = planConformance({
      servers: probes.flatMap((probe) => (probe.ok ? [probe.info] : [])),
      claimed: mcp.revisions,
      configured: mcp.conformance.scenarios,
      requirements: await readRequirementSets(suite.root),
    });
    const baselineFile = mcp.conformance.expectedFailures;
    const result = await runConformance({
      url: url.href,
      legs,
      unspoken: probes.flatMap((probe) =>
        probe.ok ? [] : [{ revision: probe.revision, reason: probe.error.message }],
      ),
      baseline:
        baselineFile === undefined
          ? undefined
          : await readExpectedFailures(resolve(ctx.cwd, baselineFile)),
      baselineName: baselineFile,
      suiteCommand: suite.command,
      cwd: ctx.cwd,
    });
    return {
      status: result.status,
      summary: result.summary,
      details: [`suite ${suite.version}, revisions ${mcp.revisions.join(", ")}`, ...result.details],
      markdown: renderConformanceMarkdown(result.scenarios, result.unspoken),
    };
  },
};
