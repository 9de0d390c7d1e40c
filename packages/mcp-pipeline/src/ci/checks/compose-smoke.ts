import { randomBytes } from "node:crypto";
import { MCP_REVISIONS } from "../config/schema.js";
import { commandSmoke } from "../smoke/command.js";
import { mcpSmoke } from "../smoke/mcp.js";
import { type Check, describeError } from "./check.js";
import { sharedStack, stackInputs } from "./stack.js";

/**
 * `compose-smoke`: the compose stack comes up healthy with the built image in
 * it (see stack.ts), then the configured smoke test passes against it — a real
 * MCP client at `mcp.path`, or the project's own command. Failures carry the
 * stack's logs. The MCP smoke test runs under every revision `mcp.revisions` claims.
 */
export const composeSmoke: Check = {
  id: "compose-smoke",
  cacheKey: async (ctx) => ({
    stack: await stackInputs(ctx),
    smoke: ctx.config.compose.smoke,
    path: ctx.config.mcp?.path,
    revisions: ctx.config.mcp?.revisions,
  }),
  async run(ctx) {
    const up = await sharedStack(ctx);
    if (up.state !== "up") return up.outcome;
    const smoke = ctx.config.compose.smoke;
    const details = [...up.details];
    const runId = randomBytes(4).toString("hex");
    try {
      if (smoke?.mcp) {
        const url = new URL(ctx.config.mcp?.path ?? "/mcp", up.base);
        const revisions = ctx.config.mcp?.revisions ?? MCP_REVISIONS;
        details.push(...(await mcpSmoke(url, smoke.mcp, runId, revisions)));
      }
      if (smoke?.command) {
        details.push(
          ...(await commandSmoke(smoke.command, {
            cwd: ctx.cwd,
            url: up.base,
            env: ctx.runEnv,
            timeoutSeconds: ctx.config.compose.timeoutSeconds,
          })),
        );
      }
    } catch (err) {
      const logs = await up.stack.compose(["logs", "--no-color", "--tail", "30"]);
      return {
        status: "failed",
        summary: `smoke test failed: ${err instanceof Error ? err.message : String(err)}`,
        details: [...details, ...describeError(err).slice(1), "logs:", ...logs.output.split("\n")],
      };
    }
    return {
      status: "passed",
      summary: smoke
        ? "stack healthy, and the smoke test passed against it"
        : "stack healthy (no compose.smoke configured)",
      details,
    };
  },
};
