import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen } from "../../../app/shared/http.js";
import {
  bufferingFetch,
  HttpTimeoutError,
  keepAliveAgents,
  send,
} from "../../../app/shared/http-request.js";
import { freePort } from "../support/servers.js";

let server: Server;
let base: string;
const agents = keepAliveAgents();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      if (req.url === "/slow") return; // never answers
      if (req.url === "/empty") return void res.writeHead(204).end();
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization }));
    });
  });
  base = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
});
afterAll(async () => {
  agents.http.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("send", () => {
  it("sends the method, headers and body, and reads the whole answer", async () => {
    const answer = await send(
      new URL(`${base}/echo`),
      { method: "POST", headers: { authorization: "Bearer t" }, body: "hi", timeoutMs: 5000 },
      agents,
    );
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body.toString())).toEqual({
      method: "POST",
      body: "hi",
      auth: "Bearer t",
    });
  });

  it("rejects with HttpTimeoutError when the answer does not come in time", async () => {
    await expect(
      send(new URL(`${base}/slow`), { method: "GET", timeoutMs: 100 }, agents),
    ).rejects.toBeInstanceOf(HttpTimeoutError);
  });

  it("rejects with the socket's error code when nothing listens", async () => {
    const port = await freePort();
    await expect(
      send(new URL(`http://127.0.0.1:${port}/`), { method: "GET", timeoutMs: 1000 }, agents),
    ).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("rejects with the signal's reason when the exchange is abandoned", async () => {
    const controller = new AbortController();
    const sent = send(
      new URL(`${base}/slow`),
      { method: "GET", timeoutMs: 5000, signal: controller.signal },
      agents,
    );
    controller.abort(new Error("gave up"));
    await expect(sent).rejects.toThrow("gave up");
  });
});

describe("bufferingFetch", () => {
  const fetchLike = bufferingFetch(agents);

  it("answers with a web Response carrying the status, every header and the body", async () => {
    const response = await fetchLike(`${base}/echo`, {
      method: "POST",
      headers: new Headers({ authorization: "Bearer t" }),
      body: "x",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await response.json()).toEqual({ method: "POST", body: "x", auth: "Bearer t" });
  });

  it("gives a 204 answer a null body, as fetch does", async () => {
    const response = await fetchLike(`${base}/empty`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it("refuses a body that is not a string rather than sending it wrong", async () => {
    await expect(
      fetchLike(`${base}/echo`, { method: "POST", body: new Uint8Array([1]) }),
    ).rejects.toThrow("string bodies only");
  });
});
