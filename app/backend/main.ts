import { EXIT_CONFIG } from "../shared/config.js";
import { ConfigError, StorageError } from "../shared/errors.js";
import { closeGracefully, listen } from "../shared/http.js";
import { createLogger } from "../shared/logger.js";
import { onShutdownSignal, SHUTDOWN_DEADLINE_MS } from "../shared/shutdown.js";
import { createBackendServer } from "./app.js";
import { loadConfig } from "./config.js";
import { TaskStore } from "./store.js";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({
    name: "todo-backend",
    level: config.logLevel,
    secrets: [config.serviceAuthToken],
  });
  // A stray rejection is logged, not fatal: one failed request must not take the server down.
  process.on("unhandledRejection", (reason) =>
    logger.error("unhandled rejection", { error: reason }),
  );
  const store = await TaskStore.open(config.dataDir);
  const server = createBackendServer({ store, serviceAuthToken: config.serviceAuthToken, logger });
  const port = await listen(server, config.port, config.host);
  const { info } = store;
  if (info.imported) {
    logger.info("imported the JSON store's tasks into the database", {
      tasks: info.imported.tasks,
      keptAs: info.imported.keptAs,
    });
  }
  logger.info("todo backend listening", {
    host: config.host,
    port,
    dataDir: config.dataDir,
    database: info.file,
    journalMode: info.journalMode,
    synchronous: info.synchronous,
    schemaVersion: info.schema.to,
    tasks: store.count(),
  });

  onShutdownSignal(logger, async () => {
    const clean = await closeGracefully(server, SHUTDOWN_DEADLINE_MS);
    if (!clean) logger.warn("cut connections still open at the shutdown deadline");
    await store.close();
  });
}

main().catch((error: unknown) => {
  // Only this entry point decides exit codes: 2 for configuration, 1 for anything else.
  if (error instanceof ConfigError) {
    process.stderr.write(`todo-backend: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const message =
    error instanceof StorageError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`todo-backend: failed to start: ${message}\n`);
  process.exit(1);
});
