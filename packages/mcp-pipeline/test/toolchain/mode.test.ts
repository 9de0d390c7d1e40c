import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { detectMode } from "../../src/toolchain/mode.js";

// The probe goes to a server on loopback standing in for Docker Hub's registry API, so these
// tests need no network.
describe("detectMode", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    }
  });

  /** A server on 127.0.0.1 answering with `handler`; returns its /v2/ URL. */
  async function probeServer(handler: RequestListener): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`;
  }

  it("takes AIRGAP=1 as the air-gapped path without probing", async () => {
    expect(await detectMode({ AIRGAP: "1" }, 1)).toEqual({ mode: "airgap", reason: "AIRGAP=1" });
  });

  it("takes AIRGAP=0 as the online path without probing", async () => {
    expect(await detectMode({ AIRGAP: "0" }, 1)).toEqual({ mode: "online", reason: "AIRGAP=0" });
  });

  it("rejects any other AIRGAP value with a message naming the variable", async () => {
    await expect(detectMode({ AIRGAP: "maybe" })).rejects.toThrow(/AIRGAP must be 1 or 0/);
  });

  it("is online when the registry answers, even with 401", async () => {
    const url = await probeServer((_req, res) => {
      res.writeHead(401, { "Docker-Distribution-API-Version": "registry/2.0" }).end();
    });
    expect(await detectMode({}, 3000, url)).toEqual({
      mode: "online",
      reason: `${url} answered 401`,
    });
  });

  it("is air-gapped when something answers without the registry header, as a refusing proxy does", async () => {
    const url = await probeServer((_req, res) => res.writeHead(403).end("blocked by policy"));
    expect(await detectMode({}, 3000, url)).toEqual({
      mode: "airgap",
      reason: `${url} answered 403 without a registry header`,
    });
  });

  it("is air-gapped when nothing listens at the probe's address", async () => {
    const url = await probeServer(() => {});
    const server = servers.pop();
    server?.close();
    if (server) await once(server, "close");
    const { mode, reason } = await detectMode({}, 3000, url);
    expect(mode).toBe("airgap");
    expect(reason).toMatch(/unreachable \(.*ECONNREFUSED/);
  });

  it("gives up at its timeout when the probe's address never answers", async () => {
    // Accepts the request and never answers: only the timeout can end the probe.
    const url = await probeServer(() => {});
    const { mode, reason } = await detectMode({}, 200, url);
    expect(mode).toBe("airgap");
    expect(reason).toMatch(/unreachable \(.*(timeout|aborted)/i);
  });
});
