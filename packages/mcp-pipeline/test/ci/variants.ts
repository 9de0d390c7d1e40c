import { contextVariant } from "./pipeline-harness.js";

// Image variants more than one test file builds: the project's Dockerfile or app with one defect,
// in a temporary build context (see contextVariant). Each returns the pipeline arguments.

/** `text` with `from` replaced by `to`; throws when `from` is not there, so a variant cannot rot. */
function replaced(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

const MCP_HTTP = "app/mcp/http.ts";

/**
 * The MCP server answers every request on its 2025-era leg, as a server built before 2026-07-28
 * does: it speaks 2025-11-25 only, and `server/discover` is a method it does not know.
 */
export function speaks2025Only(): string[] {
  return contextVariant("speaks-2025-only", (t) => t, {
    [MCP_HTTP]: (text) =>
      replaced(
        text,
        "      : modern.fetch(request, { parsedBody: body });",
        "      : legacy(request, body);",
        MCP_HTTP,
      ),
  });
}

/** `server/discover` answers with a JSON-RPC error; every other request works as before. */
export function brokenDiscover(): string[] {
  return contextVariant("broken-discover", (t) => t, {
    [MCP_HTTP]: (text) =>
      replaced(
        text,
        "  return async (request, body) =>\n    (await isLegacyMcpRequest(request, body))",
        `  return async (request, body) =>
    (body as { method?: unknown }).method === "server/discover"
      ? Response.json({
          jsonrpc: "2.0",
          id: (body as { id?: unknown }).id ?? null,
          error: { code: -32603, message: "server/discover is broken" },
        })
      : (await isLegacyMcpRequest(request, body))`,
        MCP_HTTP,
      ),
  });
}

/** `USER` names a user the image's /etc/passwd does not have. */
export function noSuchUser(): string[] {
  return contextVariant("no-such-user", (t) => t.replace("USER 1000:1000", "USER nosuchuser"));
}

/** `false` is the entrypoint: the container starts, and exits 1 at once. */
export function exitsAtOnce(): string[] {
  return contextVariant("exits-at-once", (t) =>
    t
      .replace(
        "cp /usr/local/bin/node /rootfs/usr/local/bin/node",
        "cp /usr/local/bin/node /rootfs/usr/local/bin/node && cp /bin/false /rootfs/usr/local/bin/false",
      )
      .replace('ENTRYPOINT ["/usr/local/bin/node"]', 'ENTRYPOINT ["/usr/local/bin/false"]'),
  );
}

/** A freshly generated EC private key at /app/deploy-key.pem. */
export function plantedKey(): string[] {
  return contextVariant("planted-key", (t) =>
    t.replace(
      " && chmod 1777 /rootfs/tmp",
      ` && node -e "require('fs').writeFileSync('/rootfs/app/deploy-key.pem', require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))" \\\n && chmod 1777 /rootfs/tmp`,
    ),
  );
}

/**
 * The 2025-era leg lists one tool more than the 2026-07-28 leg (`legacy_only`): the tools differ
 * between the revisions the server speaks.
 */
export function toolOnlyUnder2025(): string[] {
  return contextVariant("tool-only-under-2025", (t) => t, {
    [MCP_HTTP]: (text) =>
      replaced(
        text,
        "    const server = options.makeServer();\n    const transport",
        `    const server = options.makeServer();
    server.registerTool("legacy_only", { description: "Only for 2025-era clients." }, async () => ({
      content: [{ type: "text", text: "old" }],
    }));
    const transport`,
        MCP_HTTP,
      ),
  });
}
