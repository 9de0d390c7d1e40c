import {
  Client,
  type Implementation,
  type ServerCapabilities,
  StreamableHTTPClientTransport,
  type Tool,
} from "@modelcontextprotocol/client";
import type { McpRevision } from "../config/schema.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/** What the MCP gates need to know about a running server, as one revision's client sees it. */
export interface McpServerInfo {
  revision: McpRevision;
  serverInfo: Implementation | undefined;
  capabilities: ServerCapabilities;
  tools: Tool[];
}

/** The first revision of the stateless era: no initialize handshake, `server/discover` instead. */
const FIRST_STATELESS_REVISION = "2026-07-28";

/**
 * A client of exactly one protocol revision: 2026-07-28 pinned (it must be offered by the
 * server's `server/discover`, and every request carries the revision in `_meta`), or the
 * initialize handshake offering that revision alone. Nothing falls back to another revision.
 */
export function revisionClient(name: string, revision: McpRevision): Client {
  const info = { name, version: "1.0.0" };
  return revision >= FIRST_STATELESS_REVISION
    ? new Client(info, { versionNegotiation: { mode: { pin: revision } } })
    : new Client(info, { supportedProtocolVersions: [revision] });
}

/**
 * Connects `client` (from `revisionClient`) to the Streamable HTTP endpoint `url` and proves the
 * connection speaks `revision`. Throws McpGateError (`REVISION_NOT_SPOKEN`), naming the revision,
 * when the server refuses it, answers with another one, or does not answer as an MCP server.
 */
export async function connectAtRevision(
  client: Client,
  url: URL,
  revision: McpRevision,
  options: { headers?: Record<string, string> } = {},
): Promise<void> {
  const notSpoken = (why: string, cause?: unknown) =>
    new McpGateError(
      McpGateErrorCode.REVISION_NOT_SPOKEN,
      `the server at ${url.href} does not speak MCP revision ${revision}, which mcp.revisions claims: ${why}. Fix the server, or remove ${revision} from mcp.revisions`,
      cause === undefined ? undefined : { cause },
    );
  try {
    await client.connect(
      new StreamableHTTPClientTransport(url, { requestInit: { headers: options.headers ?? {} } }),
    );
  } catch (error) {
    await client.close().catch(() => undefined);
    const how =
      revision >= FIRST_STATELESS_REVISION ? "server/discover" : "the initialize handshake";
    throw notSpoken(
      `${how} failed (${error instanceof Error ? error.message : String(error)})`,
      error,
    );
  }
  const negotiated = client.getNegotiatedProtocolVersion();
  if (negotiated !== revision) {
    await client.close().catch(() => undefined);
    throw notSpoken(`the connection negotiated ${negotiated ?? "no revision"}`);
  }
}

/** Every tool the connected server lists, following `nextCursor` across pages. */
export async function listAllTools(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

/**
 * Connects to the Streamable HTTP endpoint at `url` (the full `/mcp` URL) with a client of
 * `revision` and reads its capabilities and its whole `tools/list`. Throws McpGateError:
 * `REVISION_NOT_SPOKEN` when the server does not speak the revision, `SERVER_UNREACHABLE`
 * when `tools/list` fails after connecting.
 */
export async function inspectMcpServer(
  url: URL,
  revision: McpRevision,
  options: { headers?: Record<string, string> } = {},
): Promise<McpServerInfo> {
  const client = revisionClient("pipeline-mcp-gates", revision);
  await connectAtRevision(client, url, revision, options);
  try {
    const capabilities = client.getServerCapabilities() ?? {};
    const tools = capabilities.tools ? await listAllTools(client) : [];
    return { revision, serverInfo: client.getServerVersion(), capabilities, tools };
  } catch (error) {
    throw new McpGateError(
      McpGateErrorCode.SERVER_UNREACHABLE,
      `cannot read tools/list at MCP revision ${revision} from the server at ${url.href}`,
      { cause: error },
    );
  } finally {
    await client.close();
  }
}

/** One claimed revision as the server answered it: what it serves, or why it does not. */
export type RevisionProbe =
  | { revision: McpRevision; ok: true; info: McpServerInfo }
  | { revision: McpRevision; ok: false; error: McpGateError };

/**
 * `inspectMcpServer` at every claimed revision, one after the other. A revision the server does
 * not speak is an answer (`ok: false`, the error naming it), not a throw, so the gates can report
 * every claimed revision; any other error is thrown.
 */
export async function inspectEveryRevision(
  url: URL,
  revisions: readonly McpRevision[],
): Promise<RevisionProbe[]> {
  const probes: RevisionProbe[] = [];
  for (const revision of revisions) {
    try {
      probes.push({ revision, ok: true, info: await inspectMcpServer(url, revision) });
    } catch (error) {
      if (!(error instanceof McpGateError && error.code === McpGateErrorCode.REVISION_NOT_SPOKEN))
        throw error;
      probes.push({ revision, ok: false, error });
    }
  }
  return probes;
}
