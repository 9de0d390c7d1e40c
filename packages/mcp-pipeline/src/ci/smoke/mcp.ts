import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Config } from "../config/schema.js";

export type McpSmoke = NonNullable<NonNullable<Config["compose"]["smoke"]>["mcp"]>;

/** The placeholder replaced by a fresh id per run, in call arguments and expectations. */
export const RUN_ID_PLACEHOLDER = "$" + "{RUN_ID}";

/** Replaces the run-id placeholder in every string inside `value`. */
function withRunId<T>(value: T, runId: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(RUN_ID_PLACEHOLDER, runId)) as T;
}

/**
 * A real MCP client over Streamable HTTP: initialize, `tools/list` must
 * include the expected tools, then each configured call in order; a call fails
 * when the tool reports an error or its result lacks the expected text.
 * Returns what happened, one line per step; throws at the first failure.
 */
export async function mcpSmoke(url: URL, smoke: McpSmoke, runId: string): Promise<string[]> {
  const client = new Client({ name: "pipeline-smoke", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  try {
    const notes: string[] = [];
    const server = client.getServerVersion();
    notes.push(`initialize: ${server?.name ?? "?"} ${server?.version ?? ""}`.trim());
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const missing = smoke.expectTools.filter((t) => !tools.includes(t));
    if (missing.length)
      throw new Error(`tools/list lacks ${missing.join(", ")} (has ${tools.join(", ")})`);
    notes.push(
      `tools/list: ${tools.length} tools${missing.length === 0 && smoke.expectTools.length ? ", every expected one" : ""}`,
    );
    for (const call of withRunId(smoke.calls, runId)) {
      const result = await client.callTool({ name: call.tool, arguments: call.arguments });
      const text = JSON.stringify(result.structuredContent ?? result.content);
      if (result.isError) throw new Error(`${call.tool} reported an error: ${text.slice(0, 400)}`);
      if (call.expect !== undefined && !text.includes(call.expect))
        throw new Error(
          `${call.tool} did not return ${JSON.stringify(call.expect)}: ${text.slice(0, 400)}`,
        );
      notes.push(
        `${call.tool}: ok${call.expect !== undefined ? `, returned ${JSON.stringify(call.expect)}` : ""}`,
      );
    }
    return notes;
  } finally {
    await client.close();
  }
}
