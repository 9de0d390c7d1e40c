import { resolve } from "node:path";
import { fileHash } from "../cache/results.js";
import {
  defaultScenarios,
  installedSuite,
  renderConformanceMarkdown,
  runConformance,
} from "../mcp/conformance.js";
import { inspectMcpServer } from "../mcp/server-info.js";
import type { Check } from "./check.js";
import { sharedStack, stackInputs, withoutStack } from "./stack.js";

/** What the MCP gates report for an image the configuration does not call an MCP server. */
export const NOT_MCP = {
  status: "skipped",
  summary: "no mcp section in the pipeline config: the image is not declared an MCP server",
  details: ["Add `mcp: { path: /mcp }` to pipeline.config.yaml to run the MCP gates."],
} as const;

/**
 * `mcp-conformance`: the official MCP conformance suite (pinned in the
 * lockfile) against the image's endpoint in the running compose stack — the
 * same `up` as the smoke test. Default scenarios: what every server must pass,
 * plus logging when the server declares it; an expected-failures baseline
 * documents a known gap instead of hiding it.
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
    const scenarios =
      mcp.conformance.scenarios ?? defaultScenarios((await inspectMcpServer(url)).capabilities);
    const suite = installedSuite();
    const result = await runConformance({
      url: url.href,
      scenarios,
      expectedFailuresFile: mcp.conformance.expectedFailures,
      suiteCommand: suite.command,
      cwd: ctx.cwd,
    });
    return {
      status: result.status,
      summary: result.summary,
      details: [`suite ${suite.version}`, ...result.details],
      markdown: renderConformanceMarkdown(result.scenarios),
    };
  },
};
