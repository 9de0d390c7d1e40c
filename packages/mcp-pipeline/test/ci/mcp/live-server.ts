import {
  Client,
  InMemoryTransport,
  type ServerCapabilities,
  type Tool,
} from "@modelcontextprotocol/client";
import { BackendClient } from "../../../../../app/mcp/backend-client.js";
import { createServer } from "../../../../../app/mcp/server.js";
import { silentLogger } from "../../../../../app/shared/logger.js";
import { listAllTools } from "../../../src/ci/mcp/server-info.js";

/**
 * Our MCP server in-process behind a linked in-memory transport pair, read through the SDK
 * client: its capabilities and its whole `tools/list`.
 */
export async function readLiveServer(): Promise<{
  tools: Tool[];
  capabilities: ServerCapabilities;
}> {
  // initialize and tools/list never reach the backend, so nothing needs to listen there.
  const backend = new BackendClient({
    baseUrl: "http://127.0.0.1:9",
    token: "unused",
    timeoutMs: 1000,
    maxRetries: 0,
    retryDelayMs: 10,
    logger: silentLogger,
  });
  const server = createServer({ backend, logger: silentLogger });
  const client = new Client({ name: "contract-test", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  try {
    return {
      tools: await listAllTools(client),
      capabilities: client.getServerCapabilities() ?? {},
    };
  } finally {
    await client.close();
    await server.close();
  }
}
