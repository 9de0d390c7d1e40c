import { connect } from "node:net";
import { createLogger, type Logger, type LogLevel } from "../../../app/shared/logger.js";

/**
 * POSTs `body` to `url` `times` times with fetch — one after another, or all at once — and
 * returns what each attempt saw: the status with the error code from the JSON answer
 * (`413 PAYLOAD_TOO_LARGE`), or the socket error that replaced the answer (`EPIPE`, …).
 */
export async function postRepeatedly(
  url: string,
  times: number,
  body: () => RequestInit["body"],
  headers: Record<string, string>,
  mode: "one by one" | "all at once" = "one by one",
): Promise<string[]> {
  const attempt = async (): Promise<string> => {
    try {
      const init: RequestInit & { duplex?: "half" } = { method: "POST", headers, body: body() };
      if (init.body instanceof ReadableStream) init.duplex = "half";
      const response = await fetch(url, init);
      const json = (await response.json()) as { error?: { code?: unknown } };
      return `${response.status} ${String(json.error?.code)}`;
    } catch (error) {
      return socketErrorCode(error);
    }
  };
  if (mode === "all at once") return Promise.all(Array.from({ length: times }, attempt));
  const outcomes: string[] = [];
  for (let i = 0; i < times; i += 1) outcomes.push(await attempt());
  return outcomes;
}

function socketErrorCode(error: unknown): string {
  // fetch reports the socket error as the cause (or the cause's cause) of "fetch failed".
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A body of `bytes` bytes streamed in 64 KiB chunks, so fetch sends it chunked. */
export function streamedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) {
        controller.close();
        return;
      }
      const size = Math.min(left, chunk.length);
      left -= size;
      controller.enqueue(chunk.subarray(0, size));
    },
  });
}

export interface SendOutcome {
  /** Everything the server sent before the connection closed. */
  response: string;
  /** Body bytes the client had written when the connection closed. */
  sentBytes: number;
}

/**
 * Sends `head` (request line and headers) on a raw connection and then keeps sending body
 * bytes until the server closes the connection: as fast as the socket takes them, or one
 * byte every `trickleMs` like a slow client. Resolves on the close, never on a timer.
 */
export function sendUntilClosed(
  port: number,
  head: string,
  pace: { trickleMs: number } | "fast",
): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let response = "";
    let sentBytes = 0;
    let trickle: NodeJS.Timeout | undefined;
    const pump = () => {
      while (!socket.destroyed && !socket.writableEnded) {
        sentBytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    socket.on("connect", () => {
      socket.write(head);
      if (pace === "fast") pump();
      else {
        trickle = setInterval(() => {
          sentBytes += 1;
          socket.write("x");
        }, pace.trickleMs);
      }
    });
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => {
      response += data;
    });
    // Once the server gives up on the client, writing fails with EPIPE/ECONNRESET: expected.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(trickle);
      resolve({ response, sentBytes });
    });
  });
}

/** A logger that keeps its records, for asserting what a server reported. */
export function recordingLogger(level: LogLevel = "debug"): {
  logger: Logger;
  records: () => Record<string, unknown>[];
} {
  const lines: string[] = [];
  const logger = createLogger({ name: "test", level, write: (line) => lines.push(line) });
  return { logger, records: () => lines.map((line) => JSON.parse(line)) };
}
