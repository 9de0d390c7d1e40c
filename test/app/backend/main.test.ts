import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DATA_FILE } from "../../../app/backend/store.js";
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
    await writeFile(join(dir.path, DATA_FILE), "[]");
    const proc = start({ SERVICE_AUTH_TOKEN: TOKEN });
    expect(await proc.exited).toBe(1);
    expect(proc.stderrLines().join("\n")).toContain(`${DATA_FILE} is not a valid task file`);
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
