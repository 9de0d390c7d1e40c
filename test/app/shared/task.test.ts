import { describe, expect, it } from "vitest";
import {
  CreateTaskInput,
  ListTasksQuery,
  Task,
  TITLE_MAX_LENGTH,
  UpdateTaskArgs,
  UpdateTaskInput,
} from "../../../app/shared/task.js";

const task = {
  id: "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f",
  title: "Water the plants",
  description: null,
  priority: "medium",
  due_date: "2025-03-31",
  status: "pending",
  created_at: "2025-03-01T10:00:00.000Z",
  updated_at: "2025-03-01T10:00:00.000Z",
  completed_at: null,
};

describe("Task", () => {
  it("accepts a well-formed pending task", () => {
    expect(Task.parse(task)).toEqual(task);
  });

  it("accepts a due date with time and offset", () => {
    expect(Task.parse({ ...task, due_date: "2025-03-31T17:00:00+02:00" }).due_date).toBe(
      "2025-03-31T17:00:00+02:00",
    );
  });

  it("rejects a priority outside low, medium and high", () => {
    expect(Task.safeParse({ ...task, priority: "urgent" }).success).toBe(false);
  });

  it("rejects an id that is not a UUID", () => {
    expect(Task.safeParse({ ...task, id: "task-1" }).success).toBe(false);
  });
});

describe("CreateTaskInput", () => {
  it("defaults priority to medium and trims the title", () => {
    expect(CreateTaskInput.parse({ title: "  Buy milk " })).toEqual({
      title: "Buy milk",
      priority: "medium",
    });
  });

  it("rejects a blank title", () => {
    const result = CreateTaskInput.safeParse({ title: "   " });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["title"]);
  });

  it("rejects a title longer than the limit", () => {
    expect(CreateTaskInput.safeParse({ title: "x".repeat(TITLE_MAX_LENGTH + 1) }).success).toBe(
      false,
    );
  });

  it("rejects a due date that is not ISO 8601", () => {
    const result = CreateTaskInput.safeParse({ title: "t", due_date: "next friday" });
    expect(result.error?.issues[0]?.path).toEqual(["due_date"]);
  });

  it("rejects fields it does not know", () => {
    const result = CreateTaskInput.safeParse({ title: "t", owner: "me" });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain("owner");
  });
});

describe("UpdateTaskInput", () => {
  it("accepts null to clear the description and due date", () => {
    expect(UpdateTaskInput.parse({ description: null, due_date: null })).toEqual({
      description: null,
      due_date: null,
    });
  });

  it("rejects an empty patch", () => {
    const result = UpdateTaskInput.safeParse({});
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/at least one of title/);
  });

  it("rejects an update_task call with only an id", () => {
    expect(UpdateTaskArgs.safeParse({ id: task.id }).success).toBe(false);
    expect(UpdateTaskArgs.safeParse({ id: task.id, priority: "high" }).success).toBe(true);
  });
});

describe("ListTasksQuery", () => {
  it("defaults to all tasks, 50 per page, from the first page", () => {
    expect(ListTasksQuery.parse({})).toEqual({ status: "all", limit: 50 });
  });

  it("reads limit from its query-string form, 1 to 200 only", () => {
    expect(ListTasksQuery.parse({ limit: "1" }).limit).toBe(1);
    expect(ListTasksQuery.parse({ limit: "200" }).limit).toBe(200);
    for (const limit of ["0", "201", "-1", "1.5", "1e2", " 5", "", "0x10"]) {
      expect(ListTasksQuery.safeParse({ limit }).success, limit).toBe(false);
    }
  });

  it("passes a cursor through unchanged and refuses an empty one", () => {
    expect(ListTasksQuery.parse({ cursor: "dDEuNQ" }).cursor).toBe("dDEuNQ");
    expect(ListTasksQuery.safeParse({ cursor: "" }).success).toBe(false);
  });

  it("rejects an unknown status filter", () => {
    expect(ListTasksQuery.safeParse({ status: "done" }).success).toBe(false);
  });
});
