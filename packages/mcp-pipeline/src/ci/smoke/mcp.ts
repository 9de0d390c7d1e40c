import type { Config, McpRevision } from "../config/schema.js";
import { McpGateError, McpGateErrorCode } from "../mcp/errors.js";
import { connectAtRevision, listAllTools, revisionClient } from "../mcp/server-info.js";

export type McpSmoke = NonNullable<NonNullable<Config["compose"]["smoke"]>["mcp"]>;

/** The placeholder replaced by a fresh id per run, in call arguments and expectations. */
export const RUN_ID_PLACEHOLDER = "$" + "{RUN_ID}";

/** Replaces the run-id placeholder in every string inside `value`. */
function withRunId<T>(value: T, runId: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(RUN_ID_PLACEHOLDER, runId)) as T;
}

/**
 * A real MCP client over Streamable HTTP, once per claimed revision (a client of exactly that
 * revision): connect, `tools/list` must include the expected tools, then each configured call in
 * order; a call fails when the tool reports an error or its result lacks the expected text. Each
 * revision gets its own run id (`<runId>-<revision>`), so one leg cannot pass on the other's
 * data. Returns what happened, one line per step; throws at the first failure, naming the
 * revision.
 */
export async function mcpSmoke(
  url: URL,
  smoke: McpSmoke,
  runId: string,
  revisions: readonly McpRevision[],
): Promise<string[]> {
  const notes: string[] = [];
  for (const revision of revisions) {
    try {
      notes.push(...(await smokeAt(url, smoke, `${runId}-${revision}`, revision)));
    } catch (error) {
      // A revision the server does not speak is named by the error itself.
      if (error instanceof McpGateError && error.code === McpGateErrorCode.REVISION_NOT_SPOKEN)
        throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`at MCP revision ${revision}: ${message}`, { cause: error });
    }
  }
  return notes;
}

async function smokeAt(
  url: URL,
  smoke: McpSmoke,
  runId: string,
  revision: McpRevision,
): Promise<string[]> {
  const client = revisionClient("pipeline-smoke", revision);
  await connectAtRevision(client, url, revision);
  try {
    const notes: string[] = [];
    const server = client.getServerVersion();
    notes.push(`${revision}: connected to ${server?.name ?? "?"} ${server?.version ?? ""}`.trim());
    const tools = (await listAllTools(client)).map((t) => t.name);
    const missing = smoke.expectTools.filter((t) => !tools.includes(t));
    if (missing.length)
      throw new Error(`tools/list lacks ${missing.join(", ")} (has ${tools.join(", ")})`);
    notes.push(
      `${revision}: tools/list: ${tools.length} tools${smoke.expectTools.length ? ", every expected one" : ""}`,
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
        `${revision}: ${call.tool}: ok${call.expect !== undefined ? `, returned ${JSON.stringify(call.expect)}` : ""}`,
      );
    }
    return notes;
  } finally {
    await client.close();
  }
}
