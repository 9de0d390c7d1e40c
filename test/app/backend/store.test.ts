import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeCursor } from "../../../app/backend/cursor.js";
import { IMPORTED_SUFFIX, LEGACY_DATA_FILE } from "../../../app/backend/legacy-import.js";
import { MIGRATIONS } from "../../../app/backend/migrations.js";
import { DATABASE_FILE, TaskStore } from "../../../app/backend/store.js";
import { NotFoundError, StorageError } from "../../../app/shared/errors.js";
import type { Task } from "../../../app/shared/task.js";
import { makeTempDir } from "../support/servers.js";

let dir: { path: string; remove: () => Promise<void> };
const opened: TaskStore[] = [];

beforeEach(async () => {
  dir = await makeTempDir("todo-store-");
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await dir.remove();
});

async function open(): Promise<TaskStore> {
  const store = await TaskStore.open(dir.path);
  opened.push(store);
  return store;
}

/** A second, independent connection to the store's database file. */
function inspect<T>(query: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dir.path, DATABASE_FILE));
  try {
    return query(db);
  } finally {
    db.close();
  }
}

const UNKNOWN_ID = "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f";

describe("TaskStore", () => {
  it("creates tasks that are pending and carry timestamps", async () => {
    const store = await open();
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

  it("keeps every task across a close and reopen of the same directory", async () => {
    const first = await open();
    const a = await first.create({ title: "a", priority: "low" });
    const b = await first.create({ title: "b", priority: "medium", due_date: "2025-01-02" });
    await first.complete(a.id);
    await first.update(b.id, { description: "more" });
    const before = first.list();
    await first.close();

    const reopened = await open();
    expect(reopened.list()).toEqual(before);
    expect(reopened.list("completed").map((task) => task.id)).toEqual([a.id]);
    expect(reopened.list("pending").map((task) => task.id)).toEqual([b.id]);
    expect(reopened.count()).toBe(2);
    expect(reopened.count("pending")).toBe(1);
  });

  it("stores all of 50 creates made at once, sharing commits between them", async () => {
    const store = await open();
    const created = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.create({ title: `task ${i}`, priority: "low" })),
    );
    expect(new Set(created.map((task) => task.id)).size).toBe(50);
    // Group commit: writes queued together become one transaction, one fsync.
    expect(store.writeCount).toBeLessThan(50);
    expect(store.writeCount).toBeGreaterThan(0);
    await store.close();
    expect((await open()).list().map((task) => task.title)).toEqual(
      created.map((task) => task.title),
    );
  });

  it("fails only the write that fails when others share its commit", async () => {
    const store = await open();
    const results = await Promise.allSettled([
      store.create({ title: "before", priority: "low" }),
      store.update(UNKNOWN_ID, { title: "nobody" }),
      store.create({ title: "after", priority: "low" }),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
    expect(store.list().map((task) => task.title)).toEqual(["before", "after"]);
  });

  it("leaves an already completed task untouched when completed again", async () => {
    const store = await open();
    const task = await store.create({ title: "once", priority: "low" });
    const done = await store.complete(task.id);
    const writes = store.writeCount;
    expect(await store.complete(task.id)).toEqual(done);
    expect(store.writeCount).toBe(writes);
  });

  it("clears description and due date when updated with null", async () => {
    const store = await open();
    const task = await store.create({
      title: "t",
      priority: "low",
      description: "d",
      due_date: "2025-01-01",
    });
    const updated = await store.update(task.id, { description: null, due_date: null });
    expect(updated).toMatchObject({ description: null, due_date: null, title: "t" });
    expect(store.get(task.id)).toEqual(updated);
  });

  it("deletes a task for good", async () => {
    const store = await open();
    const task = await store.create({ title: "gone", priority: "low" });
    expect(await store.delete(task.id)).toEqual(task);
    expect(() => store.get(task.id)).toThrow(NotFoundError);
    expect(store.count()).toBe(0);
  });

  it("throws NotFoundError for unknown ids on every operation", async () => {
    const store = await open();
    expect(() => store.get(UNKNOWN_ID)).toThrow(NotFoundError);
    await expect(store.update(UNKNOWN_ID, { title: "x" })).rejects.toThrow(NotFoundError);
    await expect(store.complete(UNKNOWN_ID)).rejects.toThrow(NotFoundError);
    await expect(store.delete(UNKNOWN_ID)).rejects.toThrow(NotFoundError);
  });

  it("reports a write the database refuses as a StorageError and keeps what was stored", async () => {
    const store = await open();
    const kept = await store.create({ title: "kept", priority: "low" });
    inspect((db) =>
      db.exec(
        "CREATE TRIGGER refuse BEFORE INSERT ON tasks BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
      ),
    );
    const error = await store.create({ title: "lost", priority: "low" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/Could not save tasks to .*tasks\.db: disk says no/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(store.list()).toEqual([kept]);

    inspect((db) => db.exec("DROP TRIGGER refuse"));
    await store.create({ title: "works again", priority: "low" });
    expect(store.count()).toBe(2);
  });

  it("runs the database in WAL mode with synchronous=FULL", async () => {
    const store = await open();
    expect(store.info).toMatchObject({ journalMode: "wal", synchronous: "FULL" });
    await store.create({ title: "in the log", priority: "low" });
    expect(await readdir(dir.path)).toContain(`${DATABASE_FILE}-wal`);
    // WAL is a property of the file, so every later connection gets it too.
    expect(inspect((db) => db.prepare("PRAGMA journal_mode").get())).toEqual({
      journal_mode: "wal",
    });
  });

  it("creates the database at the latest schema version and migrates nothing on reopen", async () => {
    const latest = MIGRATIONS.at(-1)?.version;
    const first = await open();
    expect(first.info.schema).toEqual({ from: 0, to: latest });
    await first.close();
    expect((await open()).info.schema).toEqual({ from: latest, to: latest });
    expect(inspect((db) => db.prepare("PRAGMA user_version").get())).toEqual({
      user_version: latest,
    });
  });

  it("refuses a database written by a newer schema and leaves it as it is", async () => {
    await (await open()).close();
    inspect((db) => db.exec("PRAGMA user_version = 99"));
    await expect(TaskStore.open(dir.path)).rejects.toThrow(StorageError);
    await expect(TaskStore.open(dir.path)).rejects.toThrow(
      /schema version 99, but this build knows versions up to \d+.*newer version/,
    );
    expect(inspect((db) => db.prepare("PRAGMA user_version").get())).toEqual({
      user_version: 99,
    });
  });

  it("refuses a file that is not a SQLite database instead of overwriting it", async () => {
    const junk = "this is not a database ".repeat(200);
    await writeFile(join(dir.path, DATABASE_FILE), junk);
    await expect(TaskStore.open(dir.path)).rejects.toThrow(
      /tasks\.db is not a usable task database .*move it away or restore a backup/,
    );
    expect(await readFile(join(dir.path, DATABASE_FILE), "utf8")).toBe(junk);
  });
});

describe("TaskStore pages", () => {
  async function createMany(store: TaskStore, titles: string[]): Promise<Task[]> {
    const created: Task[] = [];
    for (const title of titles) created.push(await store.create({ title, priority: "low" }));
    return created;
  }

  function pageThrough(store: TaskStore, status: "all" | "pending" | "completed", limit: number) {
    const pages: string[][] = [];
    let after: number | undefined;
    for (;;) {
      const page = store.page({ status, limit, after });
      pages.push(page.tasks.map((task) => task.title));
      if (page.nextCursor === null) return pages;
      after = decodeCursor(page.nextCursor);
      expect(after).toBeDefined();
    }
  }

  it("pages through every task in creation order, the last page saying there is no more", async () => {
    const store = await open();
    await createMany(store, ["a", "b", "c", "d", "e", "f", "g"]);
    expect(pageThrough(store, "all", 3)).toEqual([["a", "b", "c"], ["d", "e", "f"], ["g"]]);
    expect(pageThrough(store, "all", 7)).toEqual([["a", "b", "c", "d", "e", "f", "g"]]);
    expect(store.page({ status: "all", limit: 6 }).nextCursor).not.toBeNull();
  });

  it("answers an empty store with one empty last page", async () => {
    const store = await open();
    expect(store.page({ status: "all", limit: 50 })).toEqual({ tasks: [], nextCursor: null });
  });

  it("pages through one status only", async () => {
    const store = await open();
    const tasks = await createMany(store, ["a", "b", "c", "d", "e"]);
    for (const task of [tasks[0], tasks[2], tasks[4]]) await store.complete((task as Task).id);
    expect(pageThrough(store, "completed", 2)).toEqual([["a", "c"], ["e"]]);
    expect(pageThrough(store, "pending", 1)).toEqual([["b"], ["d"]]);
  });

  it("neither skips nor repeats a task when tasks are created and deleted while paging", async () => {
    const store = await open();
    const tasks = await createMany(store, ["a", "b", "c", "d"]);
    const first = store.page({ status: "all", limit: 2 });
    expect(first.tasks.map((task) => task.title)).toEqual(["a", "b"]);
    // The task the cursor points after disappears, and new ones arrive in the same moment.
    await store.delete((tasks[1] as Task).id);
    await Promise.all(["e", "f", "g"].map((title) => store.create({ title, priority: "low" })));
    const seen = [...first.tasks.map((task) => task.title)];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = store.page({ status: "all", limit: 2, after: decodeCursor(cursor) });
      seen.push(...page.tasks.map((task) => task.title));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
  });

  it("shows a task created after the tasks at and after a cursor were deleted", async () => {
    const store = await open();
    const tasks = await createMany(store, ["a", "b", "c"]);
    const first = store.page({ status: "all", limit: 2 });
    expect(first.tasks.map((task) => task.title)).toEqual(["a", "b"]);
    // With b and c gone, a reused position for d would sit at the cursor and be skipped.
    await store.delete((tasks[1] as Task).id);
    await store.delete((tasks[2] as Task).id);
    await store.create({ title: "d", priority: "low" });
    const next = store.page({
      status: "all",
      limit: 2,
      after: decodeCursor(first.nextCursor as string),
    });
    expect(next.tasks.map((task) => task.title)).toEqual(["d"]);
  });
});

describe("TaskStore import of a JSON store's tasks.json", () => {
  const legacy = () => join(dir.path, LEGACY_DATA_FILE);
  const imported = () => `${legacy()}${IMPORTED_SUFFIX}`;

  function legacyTask(i: number, extra: Partial<Task> = {}): Task {
    const at = new Date(Date.UTC(2025, 0, 1, 12, 0, i)).toISOString();
    return {
      id: `3f6c1d2e-8a4b-4c1d-9e2f-${String(i).padStart(12, "0")}`,
      title: `legacy ${i}`,
      description: i % 2 ? `notes ${i}` : null,
      priority: i % 2 ? "high" : "low",
      due_date: i % 3 ? null : "2025-03-31",
      status: "pending",
      created_at: at,
      updated_at: at,
      completed_at: null,
      ...extra,
    };
  }

  async function writeLegacy(tasks: Task[]): Promise<string> {
    const text = JSON.stringify({ version: 1, tasks });
    await writeFile(legacy(), text);
    return text;
  }

  it("imports every task with every field on first start and keeps the file as tasks.json.imported", async () => {
    const done = legacyTask(2, {
      status: "completed",
      completed_at: "2025-01-02T00:00:00.000Z",
      updated_at: "2025-01-02T00:00:00.000Z",
    });
    const tasks = [legacyTask(1), done, legacyTask(3)];
    const text = await writeLegacy(tasks);

    const store = await open();
    expect(store.list()).toEqual(tasks);
    expect(store.info.imported).toEqual({ tasks: 3, keptAs: imported() });
    expect(await readFile(imported(), "utf8")).toBe(text);
    expect(await readdir(dir.path)).not.toContain(LEGACY_DATA_FILE);

    // New tasks come after the imported ones.
    await store.create({ title: "new", priority: "low" });
    expect(store.list().map((task) => task.title)).toEqual([
      "legacy 1",
      "legacy 2",
      "legacy 3",
      "new",
    ]);
  });

  it("imports tasks oldest first even when the file lists them in another order", async () => {
    await writeLegacy([legacyTask(3), legacyTask(1), legacyTask(2)]);
    const store = await open();
    expect(store.list().map((task) => task.title)).toEqual(["legacy 1", "legacy 2", "legacy 3"]);
  });

  it("only renames, never imports twice, a file that was imported before its rename was interrupted", async () => {
    const text = await writeLegacy([legacyTask(1), legacyTask(2)]);
    await (await open()).close();
    // As if the process died after the commit but before the rename.
    await writeFile(legacy(), text);

    const store = await open();
    expect(store.count()).toBe(2);
    expect(store.info.imported).toEqual({ tasks: 0, keptAs: `${imported()}.2` });
    expect(await readFile(`${imported()}.2`, "utf8")).toBe(text);
  });

  it("refuses a different tasks.json beside a database that already holds tasks, touching neither", async () => {
    const store = await open();
    await store.create({ title: "already here", priority: "low" });
    await store.close();
    const text = await writeLegacy([legacyTask(1)]);

    await expect(TaskStore.open(dir.path)).rejects.toThrow(
      /tasks\.json is there, but tasks\.db already holds tasks.*Move tasks\.json out of/,
    );
    expect(await readFile(legacy(), "utf8")).toBe(text);
    expect(inspect((db) => db.prepare("SELECT title FROM tasks").all())).toEqual([
      { title: "already here" },
    ]);
  });

  it("refuses an unreadable tasks.json, leaves it in place, and imports it once it is fixed", async () => {
    await writeFile(legacy(), "{not json");
    await expect(TaskStore.open(dir.path)).rejects.toThrow(
      /tasks\.json is not a valid task file; fix or move it away/,
    );
    expect(await readFile(legacy(), "utf8")).toBe("{not json");

    await writeLegacy([legacyTask(1)]);
    expect((await open()).list().map((task) => task.title)).toEqual(["legacy 1"]);
  });

  it("imports nothing when a task cannot be stored, so a fixed file imports in full", async () => {
    await writeLegacy([legacyTask(1), legacyTask(2), legacyTask(1)]);
    await expect(TaskStore.open(dir.path)).rejects.toThrow(/Could not import .*tasks\.json/);
    expect(inspect((db) => db.prepare("SELECT count(*) AS n FROM tasks").get())).toEqual({ n: 0 });

    await writeLegacy([legacyTask(1), legacyTask(2)]);
    expect((await open()).count()).toBe(2);
  });
});
