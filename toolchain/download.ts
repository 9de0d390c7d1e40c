import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pRetry from "p-retry";
import { ToolchainError, ToolchainErrorCode } from "./errors.js";

/** Downloads `url` to `dest`, retrying transient failures (online mode only). */
export async function download(url: string, dest: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  await pRetry(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
      if (!res.ok || !res.body) {
        throw new ToolchainError(
          ToolchainErrorCode.CommandFailed,
          `GET ${url} answered ${res.status}`,
        );
      }
      await pipeline(
        Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
        createWriteStream(dest),
      );
    },
    { retries: 3 },
  );
}
