import { z } from "zod";
import {
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  PageCursor,
  PageLimit,
  StatusFilter,
  Task,
} from "../../shared/task.js";
import { defineTool } from "./tool.js";

export const ListTasksArgs = z.strictObject({
  status: StatusFilter.default("all"),
  limit: PageLimit.default(PAGE_LIMIT_DEFAULT),
  cursor: PageCursor.optional(),
});
export const ListTasksResult = z.object({
  status: StatusFilter,
  count: z.number().int().describe("How many tasks this page holds."),
  tasks: z.array(Task).describe("This page's tasks, oldest first."),
  next_cursor: z
    .string()
    .nullable()
    .describe(
      "null when this is the last page. Otherwise more tasks exist: call list_tasks again with the same status and this value as cursor.",
    ),
});

export const listTasks = defineTool({
  name: "list_tasks",
  title: "List tasks",
  description:
    "List the user's todo tasks, oldest first, one page at a time. Pass status 'pending' or " +
    "'completed' to narrow the list (default 'all'). A page holds up to limit tasks (default " +
    `${PAGE_LIMIT_DEFAULT}, max ${PAGE_LIMIT_MAX}). If the result's next_cursor is not null, ` +
    "more tasks exist: call list_tasks again with the same status and cursor set to that " +
    "next_cursor, and repeat until next_cursor is null; stop early once you have found what " +
    "you need. Each task has its id, title, description, priority, due_date and status. Call " +
    "this first when you need a task's id for get_task, update_task, mark_task_completed or " +
    "delete_task.",
  inputSchema: ListTasksArgs,
  outputSchema: ListTasksResult,
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(backend, { status, limit, cursor }) {
    const page = await backend.listTasks({ status, limit, ...(cursor ? { cursor } : {}) });
    const { tasks, next_cursor } = page;
    const which = status === "all" ? "" : `${status} `;
    const found = `Found ${tasks.length} ${which}task${tasks.length === 1 ? "" : "s"}`;
    return {
      structured: { status, count: tasks.length, tasks, next_cursor },
      summary:
        next_cursor === null
          ? `${found}.`
          : `${found} on this page; more remain: call list_tasks with status "${status}" and cursor "${next_cursor}" for the next page.`,
    };
  },
});
