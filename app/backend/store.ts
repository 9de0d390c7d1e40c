import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { NotFoundError, StorageError } from "../shared/errors.js";
import {
  type NewTask,
  type StatusFilter,
  Task,
  type TaskId,
  type UpdateTaskInput,
} from "../shared/task.js";

/** Name of the data file inside DATA_DIR. */
export const DATA_FILE = "tasks.json";

const DataFile = z.object({ version: z.literal(1), tasks: z.array(Task) });
const TEMP_SUFFIX = ".tmp";

/**
 * Durable task storage: the whole collection lives in memory and in one JSON file.
 *
 * Every mutation runs through a single in-process queue, so writes never interleave and
 * none is lost. Each write goes to a temp file, is fsynced, atomically renamed over the
 * data file, and the directory is fsynced, so a crash leaves either the old or the new
 * file, never a torn one. Readers only ever see state that is already on disk.
 */
export class TaskStore {
  readonly #dir: string;
  readonly #file: string;
  #tasks: Map<TaskId, Task>;
  #queue: Promise<unknown> = Promise.resolve();
  #writes = 0;

  private constructor(dir: string, tasks: Map<TaskId, Task>) {
    this.#dir = dir;
    this.#file = join(dir, DATA_FILE);
    this.#tasks = tasks;
  }

  /** Opens (creating if needed) the store in `dir`, loading and validating existing data. */
  static async open(dir: string): Promise<TaskStore> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw new StorageError(`Cannot create data directory ${dir}: ${describe(error)}`, {
        cause: error,
      });
    }
    await removeStaleTempFiles(dir);
    const file = join(dir, DATA_FILE);
    let text: string | undefined;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new StorageError(`Cannot read ${file}: ${describe(error)}`, { cause: error });
      }
    }
    const tasks = new Map<TaskId, Task>();
    if (text !== undefined) {
      let parsed: z.infer<typeof DataFile>;
      try {
        parsed = DataFile.parse(JSON.parse(text));
      } catch (error) {
        // Refuse to start rather than overwrite data we cannot read.
        throw new StorageError(
          `${file} is not a valid task file; fix or move it away, then restart: ${describe(error)}`,
          { cause: error },
        );
      }
      for (const task of parsed.tasks) tasks.set(task.id, task);
    }
    return new TaskStore(dir, tasks);
  }

  /** Tasks in creation order, optionally only those with the given status. */
  list(filter: StatusFilter = "all"): Task[] {
    const all = [...this.#tasks.values()];
    return filter === "all" ? all : all.filter((task) => task.status === filter);
  }

  /** The task with this id; throws NotFoundError if there is none. */
  get(id: TaskId): Task {
    const task = this.#tasks.get(id);
    if (!task) throw notFound(id);
    return task;
  }

  /** Creates a pending task and resolves once it is durably stored. */
  create(fields: NewTask): Promise<Task> {
    return this.#mutate(() => {
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
      return { id: task.id, next: task, result: task };
    });
  }

  /** Applies the given fields (null clears description / due_date). */
  update(id: TaskId, patch: UpdateTaskInput): Promise<Task> {
    return this.#mutate((current) => {
      const task = current.get(id);
      if (!task) throw notFound(id);
      const next: Task = { ...task, updated_at: new Date().toISOString() };
      if (patch.title !== undefined) next.title = patch.title;
      if (patch.description !== undefined) next.description = patch.description;
      if (patch.priority !== undefined) next.priority = patch.priority;
      if (patch.due_date !== undefined) next.due_date = patch.due_date;
      return { id, next, result: next };
    });
  }

  /** Marks a task completed. Completing it again changes nothing, so retries are safe. */
  complete(id: TaskId): Promise<Task> {
    return this.#mutate((current) => {
      const task = current.get(id);
      if (!task) throw notFound(id);
      if (task.status === "completed") return { id, next: task, result: task, unchanged: true };
      const now = new Date().toISOString();
      const next: Task = { ...task, status: "completed", completed_at: now, updated_at: now };
      return { id, next, result: next };
    });
  }

  /** Deletes a task; throws NotFoundError if it does not exist. */
  delete(id: TaskId): Promise<Task> {
    return this.#mutate((current) => {
      const task = current.get(id);
      if (!task) throw notFound(id);
      return { id, next: undefined, result: task };
    });
  }

  /** Resolves once every queued write has reached the disk. */
  async flush(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  /** Number of completed file writes; lets tests see that writes really happen. */
  get writeCount(): number {
    return this.#writes;
  }

  #mutate<T>(
    change: (current: ReadonlyMap<TaskId, Task>) => {
      id: TaskId;
      next: Task | undefined;
      result: T;
      unchanged?: boolean;
    },
  ): Promise<T> {
    const run = async (): Promise<T> => {
      const { id, next, result, unchanged } = change(this.#tasks);
      if (unchanged) return result;
      const updated = new Map(this.#tasks);
      if (next) updated.set(id, next);
      else updated.delete(id);
      await this.#write(updated);
      this.#tasks = updated;
      return result;
    };
    const queued = this.#queue.then(run, run);
    this.#queue = queued.catch(() => undefined);
    return queued;
  }

  async #write(tasks: ReadonlyMap<TaskId, Task>): Promise<void> {
    const body = JSON.stringify({ version: 1, tasks: [...tasks.values()] });
    const temp = `${this.#file}.${process.pid}.${this.#writes}${TEMP_SUFFIX}`;
    try {
      const handle = await open(temp, "w", 0o600);
      try {
        await handle.writeFile(body, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.#file);
      await syncDirectory(this.#dir);
      this.#writes += 1;
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new StorageError(`Could not save tasks to ${this.#file}: ${describe(error)}`, {
        cause: error,
      });
    }
  }
}

function notFound(id: TaskId): NotFoundError {
  return new NotFoundError(`No task with id ${id}`);
}

// A rename is only durable once the directory entry itself is flushed.
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeStaleTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${DATA_FILE}.`) && name.endsWith(TEMP_SUFFIX))
      .map((name) => unlink(join(dir, name)).catch(() => undefined)),
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
