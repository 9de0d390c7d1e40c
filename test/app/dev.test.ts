import { describe, expect, it } from "vitest";
import { spawnTsx } from "./support/processes.js";
import { freePort, makeTempDir } from "./support/servers.js";

describe("dev runner", () => {
  it("starts both servers with a generated token and stops both on SIGINT", async () => {
    const dir = await makeTempDir("todo-dev-");
    const [backendPort, mcpPort] = [await freePort(), await freePort()];
    // Run from the temp dir so a developer's own .env in the repo does not leak in.
    const dev = spawnTsx(
      "app/dev.ts",
      [],
      {
        DATA_DIR: dir.path,
        BACKEND_BASE_URL: `http://127.0.0.1:${backendPort}`,
        MCP_SERVER_PORT: String(mcpPort),
      },
      dir.path,
    );
    try {
      await dev.waitForLog((line) => line.name === "todo-mcp" && line.port === mcpPort);
      await dev.waitForLog((line) => line.name === "todo-backend" && line.port === backendPort);
      const ready = await fetch(`http://127.0.0.1:${mcpPort}/ready`);
      expect(ready.status).toBe(200);
      expect(dev.stderrLines()[0]).toMatch(
        /^dev: SERVICE_AUTH_TOKEN not set; using dev-[0-9a-f]{24}/,
      );

      expect(await dev.stop("SIGINT")).toBe(0);
      const stopped = dev.stderrLines().filter((line) => line.includes('"msg":"stopped"'));
      expect(stopped).toHaveLength(2);
      await expect(fetch(`http://127.0.0.1:${mcpPort}/health`)).rejects.toThrow();
      await expect(fetch(`http://127.0.0.1:${backendPort}/health`)).rejects.toThrow();
    } finally {
      await dev.stop("SIGKILL");
      await dir.remove();
    }
  }, 30_000);
});
