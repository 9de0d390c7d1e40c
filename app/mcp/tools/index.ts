import type { z } from "zod";
import { createTask } from "./create-task.js";
import { deleteTask } from "./delete-task.js";
import { getTask } from "./get-task.js";
import { listTasks } from "./list-tasks.js";
import { markTaskCompleted } from "./mark-task-completed.js";
import type { ToolDefinition } from "./tool.js";
import { updateTask } from "./update-task.js";

/** Every tool the server offers, in the order clients list them. */
export const tools: readonly ToolDefinition<z.ZodObject, z.ZodObject>[] = [
  listTasks,
  createTask,
  getTask,
  updateTask,
  markTaskCompleted,
  deleteTask,
];
