import { z } from "zod";
import { StatusFilter, Task } from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const ListTasksArgs = z.strictObject({ status: StatusFilter.default("all") });
export const ListTasksResult = z.object({
  status: StatusFilter,
  count: z.number().int().describe("How many tasks were returned."),
  tasks: z.array(Task).describe("The matching tasks, oldest first."),
});

export const listTasks = defineTool({
  name: "list_tasks",
  title: "List tasks",
  description:
    "List the user's todo tasks, oldest first. Pass status 'pending' or 'completed' to narrow " +
    "the list (default 'all'). Each task has its id, title, description, priority, due_date " +
    "and status. Call this first when you need a task's id for get_task, update_task, " +
    "mark_task_completed or delete_task.",
  inputSchema: ListTasksArgs,
  outputSchema: ListTasksResult,
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(backend, { status }) {
    const tasks = await backend.listTasks(status);
    const which = status === "all" ? "" : `${status} `;
    return {
      structured: { status, count: tasks.length, tasks },
      summary: `Found ${tasks.length} ${which}task${tasks.length === 1 ? "" : "s"}.`,
    };
  },
});
