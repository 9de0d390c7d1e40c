import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DATA_FILE, TaskStore } from "../../../app/backend/store.js";
import { NotFoundError, StorageError } from "../../../app/shared/errors.js";
import { makeTempDir } from "../support/servers.js";

let dir: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  dir = await makeTempDir("todo-store-");
});
afterEach(async () => {
  await dir.remove();
});

describe("TaskStore", () => {
  it("creates tasks that are pending and carry timestamps", async () => {
    const store = await TaskStore.open(dir.path);
    const task = await store.create({ title: "Write tests", priority: "high" });
    expect(task).toMatchObject({
      title: "Write tests",
      priority: "high",
      status: "pending",
      description: null,
      due_date: null,
      completed_at: null,
    });
    expect(task.created_at).toBe(task.updated_at);
    expect(store.get(task.id)).toEqual(task);
  });

  it("keeps every task across a reopen of the same directory", async () => {
    const first = await TaskStore.open(dir.path);
    const a = await first.create({ title: "a", priority: "low" });
    const b = await first.create({ title: "b", priority: "medium", due_date: "2025-01-02" });
    await first.complete(a.id);
    await first.update(b.id, { description: "more" });

    const reopened = await TaskStore.open(dir.path);
    expect(reopened.list()).toEqual(first.list());
    expect(reopened.list("completed").map((task) => task.id)).toEqual([a.id]);
    expect(reopened.list("pending").map((task) => task.id)).toEqual([b.id]);
  });

  it("loses no write when 50 creates run at once", async () => {
    const store = await TaskStore.open(dir.path);
    const created = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.create({ title: `task ${i}`, priority: "low" })),
    );
    expect(new Set(created.map((task) => task.id)).size).toBe(50);
    const reopened = await TaskStore.open(dir.path);
    expect(reopened.list()).toHaveLength(50);
  });

  it("leaves an already completed task untouched when completed again", async () => {
    const store = await TaskStore.open(dir.path);
    const task = await store.create({ title: "once", priority: "low" });
    const done = await store.complete(task.id);
    const writes = store.writeCount;
    expect(await store.complete(task.id)).toEqual(done);
    expect(store.writeCount).toBe(writes);
  });

  it("clears description and due date when updated with null", async () => {
    const store = await TaskStore.open(dir.path);
    const task = await store.create({
      title: "t",
      priority: "low",
      description: "d",
      due_date: "2025-01-01",
    });
    const updated = await store.update(task.id, { description: null, due_date: null });
    expect(updated).toMatchObject({ description: null, due_date: null, title: "t" });
  });

  it("throws NotFoundError for unknown ids on every operation", async () => {
    const store = await TaskStore.open(dir.path);
    const id = "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f";
    expect(() => store.get(id)).toThrow(NotFoundError);
    await expect(store.update(id, { title: "x" })).rejects.toThrow(NotFoundError);
    await expect(store.complete(id)).rejects.toThrow(NotFoundError);
    await expect(store.delete(id)).rejects.toThrow(NotFoundError);
  });

  it("refuses to open a corrupt data file instead of overwriting it", async () => {
    await writeFile(join(dir.path, DATA_FILE), "{not json");
    await expect(TaskStore.open(dir.path)).rejects.toThrow(StorageError);
    await expect(TaskStore.open(dir.path)).rejects.toThrow(/not a valid task file/);
    expect(await readFile(join(dir.path, DATA_FILE), "utf8")).toBe("{not json");
  });

  it("removes temp files left by a crash mid-write", async () => {
    await writeFile(join(dir.path, `${DATA_FILE}.123.0.tmp`), "partial");
    await TaskStore.open(dir.path);
    expect(await readdir(dir.path)).toEqual([]);
  });

  it("reports a failed write and keeps serving the state that is on disk", async () => {
    const store = await TaskStore.open(dir.path);
    const kept = await store.create({ title: "kept", priority: "low" });
    // A directory where the data file should be makes the atomic rename fail.
    await rm(join(dir.path, DATA_FILE));
    await mkdir(join(dir.path, DATA_FILE));
    await expect(store.create({ title: "lost", priority: "low" })).rejects.toThrow(StorageError);
    expect(store.list()).toEqual([kept]);
    expect((await readdir(dir.path)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
