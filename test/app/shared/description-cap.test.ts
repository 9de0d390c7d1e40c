import { describe, expect, it } from "vitest";
import {
  CreateTaskInput,
  DESCRIPTION_MAX_LENGTH,
  UpdateTaskInput,
} from "../../../app/shared/task.js";

// Its own file so it does not collide with the app's work in task.test.ts.
describe("the task description's length cap", () => {
  const atCap = "d".repeat(DESCRIPTION_MAX_LENGTH);
  const overCap = "d".repeat(DESCRIPTION_MAX_LENGTH + 1);

  it("accepts a description of exactly the cap when a task is created or updated", () => {
    expect(CreateTaskInput.safeParse({ title: "t", description: atCap }).success).toBe(true);
    expect(UpdateTaskInput.safeParse({ description: atCap }).success).toBe(true);
  });

  it("refuses a description one character over the cap when a task is created or updated", () => {
    const created = CreateTaskInput.safeParse({ title: "t", description: overCap });
    expect(created.success).toBe(false);
    expect(created.error?.issues[0]?.path).toEqual(["description"]);
    expect(UpdateTaskInput.safeParse({ description: overCap }).success).toBe(false);
  });
});
