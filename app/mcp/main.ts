import { Command, CommanderError } from "commander";
import { EXIT_CONFIG } from "../shared/config.js";
import { ConfigError } from "../shared/errors.js";
import { closeGracefully, listen } from "../shared/http.js";
import { InFlight } from "../shared/in-flight.js";
import { createLogger } from "../shared/logger.js";
import { onShutdownSignal, SHUTDOWN_DEADLINE_MS } from "../shared/shutdown.js";
import { VERSION } from "../shared/version.js";
import { BackendClient } from "./backend-client.js";
import { loadConfig } from "./config.js";
import { createMcpHttpServer, MCP_PATH } from "./http.js";
import { createServer } from "./server.js";
import { serveStdio } from "./stdio.js";
import { tools } from "./tools/index.js";

async function main(argv: readonly string[]): Promise<void> {
  const options = new Command("todo-mcp")
    .description("MCP server for the todo backend (Streamable HTTP by default)")
    .version(VERSION)
    .option("--stdio", "serve MCP over stdin/stdout instead of HTTP")
    // Help and errors go to stderr: in stdio mode stdout carries protocol messages only.
    .configureOutput({ writeOut: (text) => process.stderr.write(text) })
    .exitOverride()
    .parse(argv)
    .opts<{ stdio?: boolean }>();

  const config = loadConfig(process.env);
  const logger = createLogger({
    name: "todo-mcp",
    level: config.logLevel,
    secrets: [config.backend.token, config.http.authToken],
  });
  // A stray rejection is logged, not fatal: one failed request must not take the server down.
  process.on("unhandledRejection", (reason) =>
    logger.error("unhandled rejection", { error: reason }),
  );
  const backend = new BackendClient({ ...config.backend, logger });
  const inFlight = new InFlight();
  const context = { backend, logger, inFlight };

  // Building one server up front proves every tool registers before we accept traffic.
  const first = createServer(context);
  for (const tool of tools) logger.info(`Registered tool: ${tool.name}`);

  if (options.stdio) {
    await first.close();
    const stop = serveStdio(() => createServer(context), inFlight, logger);
    logger.info("serving MCP over stdio", { backend: config.backend.baseUrl });
    const shutdown = async () => {
      const clean = await stop(SHUTDOWN_DEADLINE_MS);
      if (!clean) logger.warn("tool calls still running at the shutdown deadline");
    };
    onShutdownSignal(logger, shutdown);
    // The client closing our stdin is the normal way a stdio session ends.
    process.stdin.once("end", () => {
      shutdown().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    return;
  }

  await first.close();
  const server = createMcpHttpServer({
    makeServer: () => createServer(context),
    checkBackend: () => backend.health(),
    allowedHosts: config.http.allowedHosts,
    authToken: config.http.authToken,
    logger,
  });
  const port = await listen(server, config.http.port, config.http.host);
  logger.info("serving MCP over Streamable HTTP", {
    host: config.http.host,
    port,
    path: MCP_PATH,
    backend: config.backend.baseUrl,
    allowedHosts: config.http.allowedHosts,
    auth: config.http.authToken ? "bearer" : "none",
  });
  onShutdownSignal(logger, async () => {
    const clean = await closeGracefully(server, SHUTDOWN_DEADLINE_MS);
    backend.close();
    if (!clean) logger.warn("cut connections still open at the shutdown deadline");
  });
}

main(process.argv).catch((error: unknown) => {
  // Only this entry point decides exit codes: 2 for configuration or usage, 1 otherwise.
  if (error instanceof ConfigError) {
    process.stderr.write(`todo-mcp: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : EXIT_CONFIG);
  }
  process.stderr.write(
    `todo-mcp: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
