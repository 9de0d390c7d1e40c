import { z } from "zod";
import { Task, TaskId } from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const MarkTaskCompletedArgs = z.strictObject({ id: TaskId });
export const MarkTaskCompletedResult = z.object({
  task: Task.describe("The task, now with status completed and completed_at set."),
});

export const markTaskCompleted = defineTool({
  name: "mark_task_completed",
  title: "Mark task completed",
  description:
    "Mark a task as completed. Calling it again on a task that is already completed changes " +
    "nothing and returns the task as it is. Returns the task with status 'completed'.",
  inputSchema: MarkTaskCompletedArgs,
  outputSchema: MarkTaskCompletedResult,
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(backend, { id }) {
    const task = await backend.completeTask(id);
    return { structured: { task }, summary: `Task "${task.title}" is completed.` };
  },
});
