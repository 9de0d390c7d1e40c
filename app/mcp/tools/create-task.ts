import { z } from "zod";
import { CreateTaskInput, Task } from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const CreateTaskArgs = CreateTaskInput;
export const CreateTaskResult = z.object({
  task: Task.describe("The task as stored, with its new id."),
});

export const createTask = defineTool({
  name: "create_task",
  title: "Create task",
  description:
    "Create a new todo task and return it with its id. Only title is required. priority is " +
    "low, medium or high (default medium). due_date is ISO 8601: a date like 2025-03-31 or a " +
    "date-time with offset like 2025-03-31T17:00:00Z; convert relative dates ('tomorrow') " +
    "yourself. Each call creates another task, so do not repeat a call that succeeded.",
  inputSchema: CreateTaskArgs,
  outputSchema: CreateTaskResult,
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: false,
  },
  async run(backend, args) {
    const task = await backend.createTask(args);
    return { structured: { task }, summary: `Created task "${task.title}" (id ${task.id}).` };
  },
});
