import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LEGACY_DATA_FILE } from "../../../app/backend/legacy-import.js";
import { listeningPort, type Spawned, spawnTsx } from "../support/processes.js";
import { makeTempDir, TOKEN } from "../support/servers.js";

const MAIN = "app/backend/main.ts";
let dir: { path: string; remove: () => Promise<void> };
const running: Spawned[] = [];

beforeEach(async () => {
  dir = await makeTempDir("todo-backend-main-");
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((proc) => proc.stop("SIGKILL")));
  await dir.remove();
});

function start(env: Record<string, string>): Spawned {
  const proc = spawnTsx(MAIN, [], { HOST: "127.0.0.1", PORT: "0", DATA_DIR: dir.path, ...env });
  running.push(proc);
  return proc;
}

describe("backend entry point", () => {
  it("exits 2 with one clear line when SERVICE_AUTH_TOKEN is missing", async () => {
    const proc = start({});
    expect(await proc.exited).toBe(2);
    expect(proc.stderrLines()).toEqual([
      "todo-backend: invalid configuration: SERVICE_AUTH_TOKEN: is required: set it to the bearer token clients must send",
    ]);
  });

  it("exits 1 naming the file when the data file is corrupt", async () => {
    await writeFile(join(dir.path, LEGACY_DATA_FILE), "[]");
    const proc = start({ SERVICE_AUTH_TOKEN: TOKEN });
    expect(await proc.exited).toBe(1);
    expect(proc.stderrLines().join("\n")).toContain(`${LEGACY_DATA_FILE} is not a valid task file`);
  });

  it("keeps every acknowledged create when the process is SIGKILLed", async () => {
    const first = start({ SERVICE_AUTH_TOKEN: TOKEN });
    const port = await listeningPort(first);
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const acknowledged = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const response = await fetch(`http://127.0.0.1:${port}/tasks`, {
          method: "POST",
          headers,
          body: JSON.stringify({ title: `acknowledged ${i}` }),
        });
        expect(response.status).toBe(201);
        return ((await response.json()) as { id: string }).id;
      }),
    );
    expect(await first.stop("SIGKILL")).toBe("SIGKILL");

    const second = start({ SERVICE_AUTH_TOKEN: TOKEN });
    const again = await listeningPort(second);
    const list = await fetch(`http://127.0.0.1:${again}/tasks?limit=200`, { headers });
    const body = (await list.json()) as { tasks: { id: string }[] };
    expect(new Set(body.tasks.map((task) => task.id))).toEqual(new Set(acknowledged));
  });

  it("imports a JSON store's tasks.json on first start and says so", async () => {
    const at = "2025-01-01T00:00:00.000Z";
    const task = {
      id: "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f",
      title: "from the JSON store",
      description: null,
      priority: "high",
      due_date: null,
      status: "pending",
      created_at: at,
      updated_at: at,
      completed_at: null,
    };
    await writeFile(
      join(dir.path, LEGACY_DATA_FILE),
      JSON.stringify({ version: 1, tasks: [task] }),
    );
    const proc = start({ SERVICE_AUTH_TOKEN: TOKEN });
    const port = await listeningPort(proc);
    const logged = await proc.waitForLog((line) => line.msg === "todo backend listening");
    expect(logged).toMatchObject({ journalMode: "wal", synchronous: "FULL", tasks: 1 });
    expect(proc.stderrLines().join("\n")).toContain(
      `"keptAs":"${join(dir.path, `${LEGACY_DATA_FILE}.imported`)}"`,
    );
    const response = await fetch(`http://127.0.0.1:${port}/tasks/${task.id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await response.json()).toEqual(task);
  });

  it("serves, stops with exit 0 on SIGTERM, and finds its tasks after a restart", async () => {
    const first = start({ SERVICE_AUTH_TOKEN: TOKEN });
    const port = await listeningPort(first);
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const created = await fetch(`http://127.0.0.1:${port}/tasks`, {
      method: "POST",
      headers,
      body: JSON.stringify({ title: "outlives the process" }),
    });
    expect(created.status).toBe(201);
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(first.stderrLines().join("\n")).not.toContain(TOKEN);

    const second = start({ SERVICE_AUTH_TOKEN: TOKEN });
    const again = await listeningPort(second);
    const list = await fetch(`http://127.0.0.1:${again}/tasks`, { headers });
    const body = (await list.json()) as { tasks: { title: string }[] };
    expect(body.tasks.map((task) => task.title)).toEqual(["outlives the process"]);
    expect(await second.stop("SIGINT")).toBe(0);
  });
});
