import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PayloadTooLargeError, ValidationError } from "./errors.js";
import type { Logger } from "./logger.js";

/**
 * Reads a request body up to `limitBytes`. A larger Content-Length is refused before any
 * byte is read, and a streamed body as soon as it passes the limit. On refusal the rest of
 * the body is left unread in the paused request, so `refuseBody` can answer and then drain it.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) {
    return Promise.reject(new PayloadTooLargeError(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        // Pause rather than destroy: destroying an unfinished request destroys the socket,
        // and the client would never read the 413.
        cleanup();
        req.pause();
        reject(new PayloadTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new Error(`Reading the request body failed: ${error.message}`, { cause: error }));
    };
    const onClose = () => {
      cleanup();
      reject(new Error("The client closed the connection before sending the whole body"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** Reads and parses a JSON body; an empty body parses as `undefined`. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const raw = await readBody(req, limitBytes);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new ValidationError("Invalid body: not valid JSON", "body", { cause: error });
  }
}

/** Writes a JSON response unless one was already started. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(payload);
}

/** How much of a refused request body is read and thrown away before the socket is cut. */
export interface DrainLimits {
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Bounds for draining a refused body, as mature servers bound their "lingering close":
 * enough for any client that sends a plausible oversized body at LAN speed, and a slow client
 * holds the socket for at most a few seconds.
 */
export const DEFAULT_DRAIN_LIMITS: DrainLimits = { maxBytes: 16 * 1024 * 1024, timeoutMs: 5000 };

export interface RefuseOptions {
  headers?: Record<string, string>;
  drain?: DrainLimits;
  /** Told when a client was cut off because it kept sending past a drain bound. */
  logger?: Logger;
}

/**
 * Answers a request whose body will not be used (too large, unauthorized, wrong route), then
 * reads and discards the rest of the body before closing the connection.
 *
 * Closing while the client is still sending makes the kernel reset the connection, and most
 * clients then report EPIPE/ECONNRESET instead of the answer. So the answer is written in
 * full but the response is only ended once the client has sent everything; a client that
 * sends more than `drain.maxBytes`, or is still sending after `drain.timeoutMs`, is cut off.
 */
export function refuseBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  options: RefuseOptions = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const limits = options.drain ?? DEFAULT_DRAIN_LIMITS;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "cache-control": "no-store",
    ...options.headers,
    connection: "close",
  });
  // Written now, ended later: ending the response is what makes Node close the socket.
  res.write(payload);
  if (req.readableEnded) {
    res.end();
    return;
  }
  let drained = 0;
  const cleanup = () => {
    clearTimeout(timer);
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("close", cleanup);
  };
  const cut = (reason: "bytes" | "time") => {
    cleanup();
    options.logger?.warn("cut off a client still sending a refused body", {
      status,
      reason,
      drainedBytes: drained,
      limitBytes: limits.maxBytes,
      limitMs: limits.timeoutMs,
    });
    req.socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limits.maxBytes) cut("bytes");
  };
  const onEnd = () => {
    cleanup();
    res.end();
  };
  const timer = setTimeout(() => cut("time"), limits.timeoutMs);
  req.on("data", onData);
  req.once("end", onEnd);
  req.once("close", cleanup);
  req.resume();
}

/** Starts listening and resolves with the bound port (useful with port 0). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections and waits for in-flight requests to finish. Idle keep-alive
 * connections are closed at once; whatever is still open at the deadline is cut.
 * Resolves `true` when everything finished in time.
 */
export function closeGracefully(server: Server, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve(true);
      return;
    }
    // A keep-alive connection turns idle when its in-flight response ends; close it then
    // rather than waiting for the client or the keep-alive timeout.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const timer = setTimeout(() => {
      clearInterval(sweep);
      server.closeAllConnections();
      resolve(false);
    }, deadlineMs);
    timer.unref();
    sweep.unref();
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve(true);
    });
    server.closeIdleConnections();
  });
}
