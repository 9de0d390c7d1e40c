import { z } from "zod";
import { Task, TaskId } from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const GetTaskArgs = z.strictObject({ id: TaskId });
export const GetTaskResult = z.object({ task: Task });

export const getTask = defineTool({
  name: "get_task",
  title: "Get task",
  description:
    "Fetch one task by its id, with all its fields. If you do not know the id, call " +
    "list_tasks first. An unknown id returns an error saying so.",
  inputSchema: GetTaskArgs,
  outputSchema: GetTaskResult,
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(backend, { id }) {
    const task = await backend.getTask(id);
    return { structured: { task }, summary: `Task "${task.title}" is ${task.status}.` };
  },
});
