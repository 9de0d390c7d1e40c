import { z } from "zod";
import { TaskId } from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const DeleteTaskArgs = z.strictObject({ id: TaskId });
export const DeleteTaskResult = z.object({
  id: TaskId.describe("The id of the task that was deleted."),
  deleted: z.literal(true),
});

export const deleteTask = defineTool({
  name: "delete_task",
  title: "Delete task",
  description:
    "Permanently delete a task by id. This cannot be undone: unless the user clearly asked " +
    "for the deletion, confirm with them first. To finish a task rather than remove it, use " +
    "mark_task_completed. Deleting an id that does not exist returns an error.",
  inputSchema: DeleteTaskArgs,
  outputSchema: DeleteTaskResult,
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(backend, { id }) {
    await backend.deleteTask(id);
    return { structured: { id, deleted: true as const }, summary: `Deleted task ${id}.` };
  },
});
