// A plain JSON HTTP service (no MCP): greetings on :8080, with a health endpoint.
import { createServer } from "node:http";

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  const send = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/health") return send(200, { status: "ok" });
  if (url.pathname === "/greet")
    return send(200, { greeting: `hello, ${url.searchParams.get("name") ?? "world"}` });
  send(404, { error: "not found" });
});
server.listen(8080, "0.0.0.0");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
