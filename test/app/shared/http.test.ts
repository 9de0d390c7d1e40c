import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { closeGracefully, listen } from "../../../app/shared/http.js";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** A server that holds every response until the test answers it. */
async function holdingServer(): Promise<{ url: string; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  server = createServer((_req, res) => {
    held.push(res);
  });
  const port = await listen(server, 0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}`, held };
}

describe("closeGracefully", () => {
  it("lets an in-flight request finish and then stops accepting", async () => {
    const { url, held } = await holdingServer();
    const inFlight = fetch(url).then((response) => response.text());
    await once(server as Server, "request");
    const closed = closeGracefully(server as Server, 5000);
    expect((server as Server).listening).toBe(false);
    held[0]?.end("done");
    expect(await inFlight).toBe("done");
    expect(await closed).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
  });

  it("cuts a request that outlives the deadline and reports it", async () => {
    const { url } = await holdingServer();
    const inFlight = fetch(url).then(
      () => "answered",
      () => "cut",
    );
    await once(server as Server, "request");
    expect(await closeGracefully(server as Server, 200)).toBe(false);
    expect(await inFlight).toBe("cut");
  });
});
