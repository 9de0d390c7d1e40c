import { z } from "zod";
import { UpdateTaskArgs as SharedUpdateTaskArgs, Task } from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const UpdateTaskArgs = SharedUpdateTaskArgs;
export const UpdateTaskResult = z.object({ task: Task.describe("The task after the change.") });

export const updateTask = defineTool({
  name: "update_task",
  title: "Update task",
  description:
    "Change a task's title, description, priority or due_date. Pass the id and only the " +
    "fields to change; the others stay as they are. Pass null for description or due_date " +
    "to clear it. To mark a task done, use mark_task_completed instead. Returns the updated task.",
  inputSchema: UpdateTaskArgs,
  outputSchema: UpdateTaskResult,
  annotations: {
    readOnlyHint: false,
    // Overwrites the previous values of the fields it is given.
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(backend, { id, ...patch }) {
    const task = await backend.updateTask(id, patch);
    const changed = Object.keys(patch).join(", ");
    return { structured: { task }, summary: `Updated ${changed} of task "${task.title}".` };
  },
});
