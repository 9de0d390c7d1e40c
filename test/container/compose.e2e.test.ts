import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env, freePort, repoRoot } from "./docker.js";

const project = `todo-mcp-test-${randomBytes(3).toString("hex")}`;
let port = 0;
let composeEnv: NodeJS.ProcessEnv = {};

function compose(args: string[]) {
  return execa("docker", ["compose", "-p", project, ...args], {
    cwd: repoRoot,
    env: composeEnv,
    all: true,
    reject: false,
  });
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: "compose-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

describe("docker compose stack", () => {
  beforeAll(async () => {
    port = await freePort();
    composeEnv = {
      ...env,
      SERVICE_AUTH_TOKEN: `compose-${randomBytes(8).toString("hex")}`,
      MCP_PORT: String(port),
      MCP_IMAGE: `todo-mcp:${project}`,
      BACKEND_IMAGE: `todo-backend:${project}`,
    };
    const up = await compose(["up", "--build", "--wait", "--wait-timeout", "180"]);
    if (up.exitCode !== 0) {
      const logs = await compose(["logs", "--no-color"]);
      throw new Error(`compose up failed:\n${up.all}\n${logs.all}`);
    }
  });

  afterAll(async () => {
    // Always, even when a test failed.
    await compose(["down", "-v", "--rmi", "local"]);
    await execa("docker", ["rmi", "-f", `todo-mcp:${project}`, `todo-backend:${project}`], {
      env,
      reject: false,
    });
  });

  it("brings both services to healthy", async () => {
    const ps = await compose(["ps", "--format", "json"]);
    const services = ps.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { Service: string; Health: string });
    expect(services.map((s) => [s.Service, s.Health]).sort()).toEqual([
      ["backend", "healthy"],
      ["mcp-server", "healthy"],
    ]);
  });

  it("lets a real MCP client create a task through the server and list it back from the backend", async () => {
    const title = `compose task ${randomBytes(4).toString("hex")}`;
    await withClient(async (client) => {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain("create_task");
      const created = await client.callTool({
        name: "create_task",
        arguments: { title, priority: "high" },
      });
      expect(created.isError).toBeFalsy();
      const listed = await client.callTool({ name: "list_tasks", arguments: { status: "all" } });
      expect(JSON.stringify(listed.structuredContent)).toContain(title);
    });
  });

  it("keeps the tasks when the backend restarts", async () => {
    const title = `durable ${randomBytes(4).toString("hex")}`;
    await withClient((client) => client.callTool({ name: "create_task", arguments: { title } }));
    const restart = await compose(["restart", "backend"]);
    expect(restart.exitCode, restart.all).toBe(0);
    const deadline = Date.now() + 60_000;
    let listed = "";
    while (Date.now() < deadline) {
      const result = await withClient((client) =>
        client.callTool({ name: "list_tasks", arguments: { status: "all" } }),
      ).catch(() => undefined);
      if (result && !result.isError) {
        listed = JSON.stringify(result.structuredContent);
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(listed).toContain(title);
  });

  it("publishes the MCP port on loopback only", async () => {
    const out = await compose(["port", "mcp-server", "3000"]);
    expect(out.stdout.trim()).toBe(`127.0.0.1:${port}`);
  });
});
