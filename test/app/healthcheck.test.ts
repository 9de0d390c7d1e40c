import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "../../app/shared/http.js";
import { spawnTsx } from "./support/processes.js";
import { freePort } from "./support/servers.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Serves `/health` with `status`, or never answers it when `status` is "hang". */
async function serveHealth(status: number | "hang"): Promise<number> {
  server = createServer((req, res) => {
    if (status !== "hang") res.writeHead(req.url === "/health" ? status : 404).end();
  });
  return listen(server, 0, "127.0.0.1");
}

async function probe(args: string[], env: Record<string, string> = {}): Promise<number | string> {
  return spawnTsx("app/healthcheck.ts", args, env).exited;
}

describe("healthcheck script", () => {
  it("exits 0 when /health answers 200 on the port given as an argument", async () => {
    expect(await probe([String(await serveHealth(200))])).toBe(0);
  });

  it("takes the port from PORT when no argument is given", async () => {
    expect(await probe([], { PORT: String(await serveHealth(200)) })).toBe(0);
  });

  it("exits 1 when /health answers something other than 200", async () => {
    expect(await probe([String(await serveHealth(503))])).toBe(1);
  });

  it("exits 1 when nothing listens on the port", async () => {
    expect(await probe([String(await freePort())])).toBe(1);
  });

  it("gives up with exit 1 when /health never answers", async () => {
    expect(await probe([String(await serveHealth("hang"))])).toBe(1);
  });

  it("exits 1 on a port that is not a number", async () => {
    expect(await probe(["http"])).toBe(1);
  });
});
