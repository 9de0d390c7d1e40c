import { createHash } from "node:crypto";
import { access, open, readFile, rename } from "node:fs/promises";
import { basename, join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { StorageError } from "../shared/errors.js";
import { Task } from "../shared/task.js";

/** The JSON store's data file, imported into the database on first start. */
export const LEGACY_DATA_FILE = "tasks.json";
/** What the imported file is renamed to; it is kept, never read again. */
export const IMPORTED_SUFFIX = ".imported";

const LegacyFile = z.object({ version: z.literal(1), tasks: z.array(Task) });
const Marker = z.object({ sha256: z.string(), tasks: z.number(), imported_at: z.string() });
const MARKER_KEY = "legacy_import";

/** What an import did. */
export interface LegacyImport {
  /** Tasks copied into the database (0 when an interrupted import only had its rename left). */
  tasks: number;
  /** Path the old file now has. */
  keptAs: string;
}

/**
 * Imports `<dir>/tasks.json` (format version 1, written by the JSON store) into an empty
 * database, then renames it to `tasks.json.imported` so it is kept but never read again.
 *
 * The tasks and a marker holding the file's SHA-256 are committed in one transaction. A crash
 * before the commit leaves the database empty and the file in place (the next start imports
 * it); a crash after it leaves a file whose hash matches the marker, which is then only
 * renamed. A tasks.json beside a database that already holds tasks is refused, never merged.
 */
export async function importLegacyFile(
  db: DatabaseSync,
  dir: string,
  databaseFile: string,
  insert: (task: Task) => void,
): Promise<LegacyImport | undefined> {
  const file = join(dir, LEGACY_DATA_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StorageError(`Cannot read ${file}: ${describe(error)}`, { cause: error });
  }
  const sha256 = createHash("sha256").update(text).digest("hex");
  const marker = readMarker(db);
  if (marker?.sha256 === sha256) {
    return { tasks: 0, keptAs: await keep(file) };
  }
  const { stored } = db.prepare("SELECT count(*) AS stored FROM tasks").get() as {
    stored: number;
  };
  if (marker || stored > 0) {
    throw new StorageError(
      `${file} is there, but ${basename(databaseFile)} already holds tasks: a tasks.json is ` +
        `imported only into a new database, once. Move ${LEGACY_DATA_FILE} out of ${dir} ` +
        "(the backend no longer reads it), then restart.",
    );
  }

  let tasks: Task[];
  try {
    tasks = LegacyFile.parse(JSON.parse(text)).tasks;
  } catch (error) {
    // Refuse to start rather than start empty beside data we could not read.
    throw new StorageError(
      `${file} is not a valid task file; fix or move it away, then restart: ${describe(error)}`,
      { cause: error },
    );
  }
  // Oldest first, as the JSON store listed them; sort is stable, so file order breaks ties.
  const ordered = [...tasks].sort((a, b) => a.created_at.localeCompare(b.created_at));
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const task of ordered) insert(task);
    db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").run(
      MARKER_KEY,
      JSON.stringify({ sha256, tasks: tasks.length, imported_at: new Date().toISOString() }),
    );
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw new StorageError(`Could not import ${file}: ${describe(error)}`, { cause: error });
  }
  return { tasks: tasks.length, keptAs: await keep(file) };
}

function readMarker(db: DatabaseSync): z.infer<typeof Marker> | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(MARKER_KEY) as
    | { value: string }
    | undefined;
  return row ? Marker.parse(JSON.parse(row.value)) : undefined;
}

/** Renames the imported file out of the way without replacing an earlier one. */
async function keep(file: string): Promise<string> {
  let target = `${file}${IMPORTED_SUFFIX}`;
  for (let n = 2; await exists(target); n += 1) target = `${file}${IMPORTED_SUFFIX}.${n}`;
  try {
    await rename(file, target);
    // A rename is only durable once the directory entry itself is flushed.
    const directory = await open(join(file, ".."), "r");
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch (error) {
    throw new StorageError(`Imported ${file} but could not rename it: ${describe(error)}`, {
      cause: error,
    });
  }
  return target;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
