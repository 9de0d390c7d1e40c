import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { closeGracefully, listen } from "../../../app/shared/http.js";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function slowServer(delayMs: number): Promise<string> {
  server = createServer((_req, res) => {
    setTimeout(() => res.end("done"), delayMs);
  });
  const port = await listen(server, 0, "127.0.0.1");
  return `http://127.0.0.1:${port}`;
}

describe("closeGracefully", () => {
  it("lets an in-flight request finish and then stops accepting", async () => {
    const url = await slowServer(300);
    const inFlight = fetch(url).then((response) => response.text());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = closeGracefully(server as Server, 5000);
    expect(await inFlight).toBe("done");
    expect(await closed).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
  });

  it("cuts a request that outlives the deadline and reports it", async () => {
    const url = await slowServer(10_000);
    const inFlight = fetch(url).then(
      () => "answered",
      () => "cut",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    expect(await closeGracefully(server as Server, 200)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await inFlight).toBe("cut");
  });
});
