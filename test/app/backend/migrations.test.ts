import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS, migrate, schemaVersion } from "../../../app/backend/migrations.js";
import { StorageError } from "../../../app/shared/errors.js";

let db: DatabaseSync;
beforeEach(() => {
  db = new DatabaseSync(":memory:");
});
afterEach(() => {
  db.close();
});

const tables = () =>
  (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((row) => row.name);

describe("schema migrations", () => {
  it("numbers the migrations 1, 2, 3 … with no gap, so user_version names exactly one schema", () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(
      MIGRATIONS.map((_, i) => i + 1),
    );
  });

  it("brings a new database to the last version and then has nothing left to do", () => {
    const latest = MIGRATIONS.length;
    expect(migrate(db, "test.db")).toEqual({ from: 0, to: latest });
    expect(schemaVersion(db)).toBe(latest);
    expect(tables()).toEqual(expect.arrayContaining(["meta", "tasks"]));
    expect(migrate(db, "test.db")).toEqual({ from: latest, to: latest });
  });

  it("runs only the migrations a database has not had yet", () => {
    migrate(db, "test.db");
    const next = {
      version: MIGRATIONS.length + 1,
      description: "a column for tags",
      sql: "ALTER TABLE tasks ADD COLUMN tags TEXT",
    };
    expect(migrate(db, "test.db", [...MIGRATIONS, next])).toEqual({
      from: MIGRATIONS.length,
      to: next.version,
    });
    const columns = db.prepare("SELECT name FROM pragma_table_info('tasks')").all();
    expect(columns).toContainEqual({ name: "tags" });
  });

  it("rolls a failing migration back completely and names it", () => {
    migrate(db, "test.db");
    const broken = {
      version: MIGRATIONS.length + 1,
      description: "half a change",
      sql: "CREATE TABLE half (a TEXT); SELECT no_such_column FROM tasks;",
    };
    let error: unknown;
    try {
      migrate(db, "test.db", [...MIGRATIONS, broken]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `Could not migrate test\\.db to schema version ${broken.version} \\(half a change\\): .*no such column.*unchanged at version ${MIGRATIONS.length}`,
      ),
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(tables()).not.toContain("half");
  });

  it("refuses a database from a newer build without changing it", () => {
    db.exec("PRAGMA user_version = 42");
    expect(() => migrate(db, "test.db")).toThrow(
      /test\.db has schema version 42, but this build knows versions up to \d+/,
    );
    expect(schemaVersion(db)).toBe(42);
    expect(tables()).toEqual([]);
  });
});
