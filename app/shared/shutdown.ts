import type { Logger } from "./logger.js";

/** How long in-flight work may take after SIGTERM; Docker's default grace period is 10 s. */
export const SHUTDOWN_DEADLINE_MS = 8000;

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 if `stop` failed).
 * A second signal while stopping exits at once with code 1.
 */
export function onShutdownSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn("second signal while stopping; exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info("shutting down", { signal });
    stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
