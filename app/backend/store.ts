import { randomUUID } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { AppError, NotFoundError, StorageError } from "../shared/errors.js";
import type {
  NewTask,
  Priority,
  StatusFilter,
  Task,
  TaskId,
  TaskStatus,
  UpdateTaskInput,
} from "../shared/task.js";
import { encodeCursor } from "./cursor.js";
import { importLegacyFile, type LegacyImport } from "./legacy-import.js";
import { type MigrationResult, migrate } from "./migrations.js";

/** Name of the SQLite database inside DATA_DIR (plus its `-wal` and `-shm` files). */
export const DATABASE_FILE = "tasks.db";

/** One page of tasks and the cursor of the next page (null on the last one). */
export interface TaskPage {
  tasks: Task[];
  nextCursor: string | null;
}

/** What to page through: a status filter, a page size, and where the previous page ended. */
export interface PageQuery {
  status: StatusFilter;
  limit: number;
  /** The `seq` after which the page starts (from a decoded cursor); omit for the first page. */
  after?: number;
}

/** How the database was opened, for the start-up log and for tests. */
export interface StoreInfo {
  file: string;
  journalMode: string;
  synchronous: string;
  schema: MigrationResult;
  imported: LegacyImport | undefined;
}

interface Row {
  seq: number;
  id: string;
  title: string;
  description: string | null;
  priority: string;
  due_date: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

/** A queued write: runs inside the batch's transaction and says whether it changed anything. */
interface Write {
  run: () => { value: unknown; changed: boolean };
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const COLUMNS =
  "seq, id, title, description, priority, due_date, status, created_at, updated_at, completed_at";
const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"] as const;

/**
 * Durable task storage in SQLite (`node:sqlite`), in DATA_DIR/tasks.db.
 *
 * The database runs in WAL mode with `synchronous=FULL`: a write is acknowledged only after
 * its transaction is fsynced to the WAL, so it survives a SIGKILL of the process and a power
 * loss. Writes queue up and commit in batches: every write that arrives while a commit is
 * being synced joins the next transaction, so many concurrent creates share one fsync
 * (group commit) instead of each waiting for its own. Each write runs under its own
 * savepoint, so one failing (an unknown id) does not undo the others in its batch.
 *
 * `node:sqlite` is synchronous and every transaction runs within one turn of the event loop,
 * so reads only ever see committed data.
 */
export class TaskStore {
  readonly #db: DatabaseSync;
  readonly #info: StoreInfo;
  readonly #statements: {
    get: StatementSync;
    insert: StatementSync;
    update: StatementSync;
    remove: StatementSync;
    pageAll: StatementSync;
    pageByStatus: StatementSync;
    countAll: StatementSync;
    countByStatus: StatementSync;
  };
  #queue: Write[] = [];
  #batch: Promise<void> | undefined;
  #commits = 0;
  #closed = false;

  private constructor(db: DatabaseSync, info: StoreInfo) {
    this.#db = db;
    this.#info = info;
    this.#statements = prepareStatements(db);
  }

  /**
   * Opens (creating if needed) the store in `dir`: applies pending schema migrations, and on
   * the first start beside a JSON store's tasks.json imports it once (see importLegacyFile).
   */
  static async open(dir: string): Promise<TaskStore> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw new StorageError(`Cannot create data directory ${dir}: ${describe(error)}`, {
        cause: error,
      });
    }
    const file = join(dir, DATABASE_FILE);
    // SQLite gives its -wal and -shm files the database file's mode: create it owner-only.
    await open(file, "a", 0o600).then(
      (handle) => handle.close(),
      () => undefined,
    );
    const { DatabaseSync } = await loadSqlite();
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file);
    } catch (error) {
      throw new StorageError(`Cannot open ${file}: ${describe(error)}`, { cause: error });
    }
    try {
      const journalMode = configure(db, file);
      const schema = migrate(db, file);
      const store = new TaskStore(db, {
        file,
        journalMode,
        synchronous: synchronousMode(db),
        schema,
        imported: undefined,
      });
      store.#info.imported = await importLegacyFile(db, dir, file, (task) => store.#insert(task));
      return store;
    } catch (error) {
      db.close();
      if (error instanceof StorageError) throw error;
      const corrupt = /not a database|malformed/i.test(describe(error));
      throw new StorageError(
        corrupt
          ? `${file} is not a usable task database (${describe(error)}); move it away or restore a backup, then restart.`
          : `Cannot use ${file}: ${describe(error)}`,
        { cause: error },
      );
    }
  }

  /** How the database was opened: file, journal mode, sync level, migrations, import. */
  get info(): Readonly<StoreInfo> {
    return this.#info;
  }

  /** One page of tasks in creation order, and the cursor of the page after it. */
  page({ status, limit, after = 0 }: PageQuery): TaskPage {
    // One row more than asked for tells whether another page follows.
    const rows = this.#rows(status, after, limit + 1);
    const more = rows.length > limit;
    const tasks = (more ? rows.slice(0, limit) : rows).map(toTask);
    const last = more ? rows[limit - 1] : undefined;
    return { tasks, nextCursor: last ? encodeCursor(last.seq) : null };
  }

  /** Every task in creation order, optionally only those with the given status. */
  list(filter: StatusFilter = "all"): Task[] {
    // LIMIT -1 is SQLite for "no limit".
    return this.#rows(filter, 0, -1).map(toTask);
  }

  /** How many tasks there are, optionally only with the given status. */
  count(filter: StatusFilter = "all"): number {
    const row = this.#read(() =>
      filter === "all"
        ? this.#statements.countAll.get()
        : this.#statements.countByStatus.get(filter),
    ) as { n: number };
    return row.n;
  }

  /** The task with this id; throws NotFoundError if there is none. */
  get(id: TaskId): Task {
    const row = this.#read(() => this.#statements.get.get(id)) as Row | undefined;
    if (!row) throw notFound(id);
    return toTask(row);
  }

  /** Creates a pending task and resolves once it is durably stored. */
  create(fields: NewTask): Promise<Task> {
    return this.#write(() => {
      const now = new Date().toISOString();
      const task: Task = {
        id: randomUUID(),
        title: fields.title,
        description: fields.description ?? null,
        priority: fields.priority,
        due_date: fields.due_date ?? null,
        status: "pending",
        created_at: now,
        updated_at: now,
        completed_at: null,
      };
      this.#insert(task);
      return { value: task, changed: true };
    });
  }

  /** Applies the given fields (null clears description / due_date). */
  update(id: TaskId, patch: UpdateTaskInput): Promise<Task> {
    return this.#write(() => {
      const next: Task = { ...this.get(id), updated_at: new Date().toISOString() };
      if (patch.title !== undefined) next.title = patch.title;
      if (patch.description !== undefined) next.description = patch.description;
      if (patch.priority !== undefined) next.priority = patch.priority;
      if (patch.due_date !== undefined) next.due_date = patch.due_date;
      this.#replace(next);
      return { value: next, changed: true };
    });
  }

  /** Marks a task completed. Completing it again changes nothing, so retries are safe. */
  complete(id: TaskId): Promise<Task> {
    return this.#write(() => {
      const task = this.get(id);
      if (task.status === "completed") return { value: task, changed: false };
      const now = new Date().toISOString();
      const next: Task = { ...task, status: "completed", completed_at: now, updated_at: now };
      this.#replace(next);
      return { value: next, changed: true };
    });
  }

  /** Deletes a task; throws NotFoundError if it does not exist. */
  delete(id: TaskId): Promise<Task> {
    return this.#write(() => {
      const task = this.get(id);
      this.#statements.remove.run(id);
      return { value: task, changed: true };
    });
  }

  /** Resolves once every queued write has been committed (or has failed). */
  async flush(): Promise<void> {
    while (this.#batch) await this.#batch;
  }

  /** Waits for queued writes, then closes the database (checkpointing the WAL into it). */
  async close(): Promise<void> {
    await this.flush();
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** Number of committed transactions that changed something; lets tests see batching. */
  get writeCount(): number {
    return this.#commits;
  }

  #insert(task: Task): void {
    this.#statements.insert.run(
      task.id,
      task.title,
      task.description,
      task.priority,
      task.due_date,
      task.status,
      task.created_at,
      task.updated_at,
      task.completed_at,
    );
  }

  #replace(task: Task): void {
    this.#statements.update.run(
      task.title,
      task.description,
      task.priority,
      task.due_date,
      task.status,
      task.updated_at,
      task.completed_at,
      task.id,
    );
  }

  #rows(status: StatusFilter, after: number, limit: number): Row[] {
    return this.#read(() =>
      status === "all"
        ? this.#statements.pageAll.all(after, limit)
        : this.#statements.pageByStatus.all(status, after, limit),
    ) as unknown as Row[];
  }

  #read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw new StorageError(`Could not read tasks from ${this.#info.file}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  #write<T>(run: () => { value: T; changed: boolean }): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new StorageError(`${this.#info.file} is closed; restart the backend`));
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      // Writes arriving in this turn of the event loop, and while the batch commits, share it.
      this.#batch ??= new Promise<void>((done) => {
        setImmediate(() => {
          try {
            this.#commitQueued();
          } finally {
            this.#batch = undefined;
            done();
          }
        });
      });
    });
  }

  #commitQueued(): void {
    const batch = this.#queue.splice(0);
    const outcomes: { write: Write; value?: unknown; error?: unknown }[] = [];
    let changed = false;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      for (const write of batch) {
        this.#db.exec("SAVEPOINT write");
        try {
          const result = write.run();
          this.#db.exec("RELEASE write");
          changed ||= result.changed;
          outcomes.push({ write, value: result.value });
        } catch (error) {
          this.#db.exec("ROLLBACK TO write");
          this.#db.exec("RELEASE write");
          outcomes.push({ write, error });
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch {
        // SQLite already rolled back (it does after some I/O errors); the failure below says why.
      }
      const failure = new StorageError(
        `Could not save tasks to ${this.#info.file}: ${describe(error)}`,
        { cause: error },
      );
      for (const write of batch) write.reject(failure);
      return;
    }
    if (changed) this.#commits += 1;
    for (const { write, value, error } of outcomes) {
      if (error === undefined) write.resolve(value);
      else write.reject(error instanceof AppError ? error : storageFailure(this.#info.file, error));
    }
  }
}

async function loadSqlite(): Promise<typeof import("node:sqlite")> {
  try {
    return await import("node:sqlite");
  } catch (error) {
    throw new StorageError(
      `The backend stores tasks with node:sqlite, which this Node.js (${process.version}) ` +
        "does not have: run it on Node.js 24 (22.13 at the least).",
      { cause: error },
    );
  }
}

/** WAL with a full fsync on every commit; returns the journal mode SQLite agreed to. */
function configure(db: DatabaseSync, file: string): string {
  // Wait for a lock held by another process instead of failing at once.
  db.exec("PRAGMA busy_timeout = 5000");
  const { journal_mode: journalMode } = db.prepare("PRAGMA journal_mode = WAL").get() as {
    journal_mode: string;
  };
  if (journalMode !== "wal") {
    throw new StorageError(
      `${file} could not switch to WAL mode (got ${journalMode}); put DATA_DIR on a local filesystem.`,
    );
  }
  db.exec("PRAGMA synchronous = FULL");
  return journalMode;
}

function synchronousMode(db: DatabaseSync): string {
  const { synchronous } = db.prepare("PRAGMA synchronous").get() as { synchronous: number };
  return SYNCHRONOUS[synchronous] ?? String(synchronous);
}

function prepareStatements(db: DatabaseSync) {
  return {
    get: db.prepare(`SELECT ${COLUMNS} FROM tasks WHERE id = ?`),
    insert: db.prepare(
      "INSERT INTO tasks (id, title, description, priority, due_date, status, created_at, " +
        "updated_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    update: db.prepare(
      "UPDATE tasks SET title = ?, description = ?, priority = ?, due_date = ?, status = ?, " +
        "updated_at = ?, completed_at = ? WHERE id = ?",
    ),
    remove: db.prepare("DELETE FROM tasks WHERE id = ?"),
    pageAll: db.prepare(`SELECT ${COLUMNS} FROM tasks WHERE seq > ? ORDER BY seq LIMIT ?`),
    pageByStatus: db.prepare(
      `SELECT ${COLUMNS} FROM tasks WHERE status = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    countAll: db.prepare("SELECT count(*) AS n FROM tasks"),
    countByStatus: db.prepare("SELECT count(*) AS n FROM tasks WHERE status = ?"),
  };
}

function toTask(row: Row): Task {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    // The table's CHECK constraints admit only the enum values.
    priority: row.priority as Priority,
    due_date: row.due_date,
    status: row.status as TaskStatus,
    created_at: row.created_at,
    updated_at: row.updated_at,
    completed_at: row.completed_at,
  };
}

function notFound(id: TaskId): NotFoundError {
  return new NotFoundError(`No task with id ${id}`);
}

function storageFailure(file: string, error: unknown): StorageError {
  return new StorageError(`Could not save tasks to ${file}: ${describe(error)}`, { cause: error });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
