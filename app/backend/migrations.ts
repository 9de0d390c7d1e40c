import type { DatabaseSync } from "node:sqlite";
import { StorageError } from "../shared/errors.js";

/** One step of the database schema; `version` is what `PRAGMA user_version` holds after it. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Every schema change, in order. Append only: a released migration never changes, because
 * databases that already ran it will not run it again.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "tasks in creation order, and a key/value table for the store's own records",
    // `seq` orders tasks by creation and backs the page cursor. AUTOINCREMENT keeps a deleted
    // task's seq from being reused, so a cursor never skips a task created after it.
    sql: `
      CREATE TABLE tasks (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           TEXT NOT NULL UNIQUE,
        title        TEXT NOT NULL,
        description  TEXT,
        priority     TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
        due_date     TEXT,
        status       TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        completed_at TEXT
      ) STRICT;
      CREATE INDEX tasks_by_status ON tasks (status, seq);
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
];

/** What `migrate` did: the schema version found and the one the database has now. */
export interface MigrationResult {
  from: number;
  to: number;
}

/**
 * Brings the database's schema up to the last migration. Each migration runs in its own
 * transaction together with the `user_version` bump, so a crash leaves the database at the
 * previous version, never half migrated. A database from a newer build is refused.
 */
export function migrate(
  db: DatabaseSync,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationResult {
  const latest = migrations.at(-1)?.version ?? 0;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new StorageError(
      `${file} has schema version ${from}, but this build knows versions up to ${latest}. ` +
        "It was written by a newer version of the backend: run that version, or restore a backup.",
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw new StorageError(
        `Could not migrate ${file} to schema version ${migration.version} ` +
          `(${migration.description}): ${error instanceof Error ? error.message : String(error)}. ` +
          `The database is unchanged at version ${schemaVersion(db)}.`,
        { cause: error },
      );
    }
  }
  return { from, to: Math.max(from, latest) };
}

/** The database's schema version (`PRAGMA user_version`); 0 for a new database. */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}
