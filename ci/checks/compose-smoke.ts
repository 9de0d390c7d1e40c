import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { execa } from "execa";
import type { Config } from "../config.js";
import { freePort } from "../net.js";
import type { CheckOutcome } from "../result.js";

/** The tools the todo MCP server must list. */
export const EXPECTED_TOOLS = [
  "list_tasks",
  "create_task",
  "get_task",
  "update_task",
  "mark_task_completed",
  "delete_task",
];

export interface SmokeRun {
  image: string;
  cwd: string;
  compose: Config["compose"];
  /** Environment for the stack (the service token, …); values never go on a command line. */
  runEnv: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

async function mcpRoundTrip(url: URL): Promise<string[]> {
  const client = new Client({ name: "pipeline-smoke", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  try {
    const notes: string[] = [];
    const server = client.getServerVersion();
    notes.push(`initialize: ${server?.name ?? "?"} ${server?.version ?? ""}`.trim());
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const missing = EXPECTED_TOOLS.filter((t) => !tools.includes(t));
    if (missing.length)
      throw new Error(`tools/list lacks ${missing.join(", ")} (has ${tools.join(", ")})`);
    notes.push(`tools/list: ${tools.length} tools`);
    const title = `pipeline smoke ${randomBytes(4).toString("hex")}`;
    const created = await client.callTool({ name: "create_task", arguments: { title } });
    if (created.isError)
      throw new Error(`create_task failed: ${JSON.stringify(created.content).slice(0, 400)}`);
    const listed = await client.callTool({ name: "list_tasks", arguments: { status: "all" } });
    if (listed.isError)
      throw new Error(`list_tasks failed: ${JSON.stringify(listed.content).slice(0, 400)}`);
    if (!JSON.stringify(listed.structuredContent).includes(title))
      throw new Error("list_tasks does not return the task create_task just made");
    notes.push("create_task → list_tasks: the task came back from the backend");
    return notes;
  } finally {
    await client.close();
  }
}

/**
 * `compose-smoke`: the built image as the compose service (`MCP_IMAGE`), the
 * rest of the stack built from the repo, `docker compose up --wait`, then a
 * real MCP client at the published port. `down -v` always runs; the logs of
 * failing services go into the details.
 */
export async function checkComposeSmoke(run: SmokeRun): Promise<CheckOutcome> {
  const project = `pipeline-smoke-${randomBytes(3).toString("hex")}`;
  const port = await freePort();
  const env = { ...run.env, ...run.runEnv, MCP_IMAGE: run.image, MCP_PORT: String(port) };
  const compose = (args: string[]) =>
    execa("docker", ["compose", "-f", run.compose.file, "-p", project, ...args], {
      cwd: run.cwd,
      env,
      reject: false,
      all: true,
    });
  const details: string[] = [`project ${project}, ${run.compose.service} → 127.0.0.1:${port}`];
  try {
    const services = (await compose(["config", "--services"])).stdout.split("\n").filter(Boolean);
    const others = services.filter((s) => s !== run.compose.service);
    if (others.length) {
      const built = await compose(["build", ...others]);
      if (built.exitCode !== 0)
        return {
          status: "failed",
          summary: `could not build ${others.join(", ")}`,
          details: [...details, ...String(built.all).split("\n").slice(-20)],
        };
    }
    const up = await compose([
      "up",
      "--no-build",
      "--wait",
      "--wait-timeout",
      String(run.compose.timeoutSeconds),
    ]);
    if (up.exitCode !== 0) {
      const ps = await compose(["ps", "-a", "--format", "{{.Service}}: {{.State}} {{.Health}}"]);
      const logs = await compose(["logs", "--no-color", "--tail", "30"]);
      return {
        status: "failed",
        summary: "docker compose up --wait did not bring the stack to healthy",
        details: [
          ...details,
          ...String(up.all).split("\n").slice(-10),
          "services:",
          ...ps.stdout.split("\n"),
          "logs:",
          ...String(logs.all).split("\n"),
        ],
      };
    }
    try {
      details.push(...(await mcpRoundTrip(new URL(`http://127.0.0.1:${port}/mcp`))));
    } catch (err) {
      const logs = await compose(["logs", "--no-color", "--tail", "30"]);
      return {
        status: "failed",
        summary: `MCP round trip failed: ${err instanceof Error ? err.message : String(err)}`,
        details: [
          ...details,
          "If the backend answers 401, the services do not share SERVICE_AUTH_TOKEN.",
          "logs:",
          ...String(logs.all).split("\n"),
        ],
      };
    }
    return {
      status: "passed",
      summary:
        "stack healthy; an MCP client created and listed a task through the server and the backend",
      details,
    };
  } finally {
    await compose(["down", "-v", "--remove-orphans"]);
  }
}
