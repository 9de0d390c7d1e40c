// Docker HEALTHCHECK probe for images without curl or wget:
//   node healthcheck.js [port]   (port defaults to $PORT, then $MCP_SERVER_PORT, then 3000)
// Exits 0 when GET http://127.0.0.1:<port>/health answers 200 within the timeout, else 1.
import { request } from "node:http";

const TIMEOUT_MS = 3000;

/** Resolves true when `GET /health` on loopback answers 200 within `timeoutMs`. */
export function probeHealth(port: number, timeoutMs = TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/health", method: "GET", timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

const raw = process.argv[2] ?? process.env.PORT ?? process.env.MCP_SERVER_PORT ?? "3000";
const port = Number(raw);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`healthcheck: invalid port ${JSON.stringify(raw)}\n`);
  process.exit(1);
}
probeHealth(port).then((healthy) => process.exit(healthy ? 0 : 1));
