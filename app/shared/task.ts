import { z } from "zod";

/** Longest accepted task title, in characters. */
export const TITLE_MAX_LENGTH = 200;
/** Longest accepted task description, in characters. */
export const DESCRIPTION_MAX_LENGTH = 5000;

export const Priority = z
  .enum(["low", "medium", "high"])
  .describe("How urgent the task is: low, medium or high.");
export type Priority = z.infer<typeof Priority>;

export const TaskStatus = z
  .enum(["pending", "completed"])
  .describe("pending until the task is marked completed.");
export type TaskStatus = z.infer<typeof TaskStatus>;

export const StatusFilter = z
  .enum(["all", "pending", "completed"])
  .describe("Which tasks to return: all (default), only pending, or only completed.");
export type StatusFilter = z.infer<typeof StatusFilter>;

// String schemas below validate with zod's own checks but publish only `format` in JSON
// Schema: the generated regexes are several hundred characters each, repeated in every tool
// the model reads, and add nothing a model can use.
const uuid = z.uuid();
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });
const matches = (schema: z.ZodType) => (value: string) => schema.safeParse(value).success;

export const TaskId = z.string().refine(matches(uuid), "must be a task id (a UUID)").meta({
  format: "uuid",
  description: "The task's id, a UUID returned when the task was created.",
});
export type TaskId = z.infer<typeof TaskId>;

export const Title = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(TITLE_MAX_LENGTH)
  .describe(`Short summary of the task, 1–${TITLE_MAX_LENGTH} characters.`);

export const Description = z
  .string()
  .max(DESCRIPTION_MAX_LENGTH)
  .describe(`Longer free-text notes, up to ${DESCRIPTION_MAX_LENGTH} characters.`);

export const DueDate = z
  .string()
  .refine(
    (value) => matches(isoDate)(value) || matches(isoDateTime)(value),
    "must be an ISO 8601 date (2025-03-31) or date-time with offset (2025-03-31T17:00:00Z)",
  )
  .describe(
    "When the task is due, in ISO 8601: a date (2025-03-31) or a date-time with offset (2025-03-31T17:00:00Z).",
  );

const Timestamp = z
  .string()
  .refine(matches(isoDateTime), "must be an ISO 8601 date-time")
  .meta({ format: "date-time" });

/** A task as stored by the backend and returned by every endpoint and tool. */
export const Task = z.object({
  id: TaskId,
  title: Title,
  description: Description.nullable(),
  priority: Priority,
  due_date: DueDate.nullable(),
  status: TaskStatus,
  created_at: Timestamp.describe("When the task was created (ISO 8601, UTC)."),
  updated_at: Timestamp.describe("When the task last changed (ISO 8601, UTC)."),
  completed_at: Timestamp.nullable().describe("When the task was completed, or null if pending."),
});
export type Task = z.infer<typeof Task>;

/** Body of `POST /tasks`; also the `create_task` tool's arguments. */
export const CreateTaskInput = z.strictObject({
  title: Title,
  description: Description.optional(),
  priority: Priority.default("medium"),
  due_date: DueDate.optional(),
});
export type CreateTaskInput = z.input<typeof CreateTaskInput>;
/** A validated create request, defaults applied. */
export type NewTask = z.output<typeof CreateTaskInput>;

const updateFields = {
  title: Title.optional(),
  description: Description.nullable()
    .optional()
    .describe("New description; null clears it. Omit to leave it unchanged."),
  priority: Priority.optional(),
  due_date: DueDate.nullable()
    .optional()
    .describe("New due date in ISO 8601; null clears it. Omit to leave it unchanged."),
};

const hasSomeField = (patch: Record<string, unknown>): boolean =>
  Object.values(patch).some((value) => value !== undefined);
const EMPTY_PATCH_MESSAGE = "give at least one of title, description, priority, due_date";

/** Body of `PATCH /tasks/:id`: only the fields to change. */
export const UpdateTaskInput = z
  .strictObject(updateFields)
  .refine(hasSomeField, { message: EMPTY_PATCH_MESSAGE });
export type UpdateTaskInput = z.infer<typeof UpdateTaskInput>;

/** Arguments of the `update_task` tool: the id plus the fields to change. */
export const UpdateTaskArgs = z
  .strictObject({ id: TaskId, ...updateFields })
  .refine(({ id: _id, ...patch }) => hasSomeField(patch), { message: EMPTY_PATCH_MESSAGE });

/** Tasks in a page when a list request does not say how many. */
export const PAGE_LIMIT_DEFAULT = 50;
/** Most tasks one page holds. */
export const PAGE_LIMIT_MAX = 200;

const PAGE_LIMIT_RANGE = `must be a whole number from 1 to ${PAGE_LIMIT_MAX}`;

/** How many tasks a page may hold. */
export const PageLimit = z
  .number({ error: PAGE_LIMIT_RANGE })
  .int(PAGE_LIMIT_RANGE)
  .min(1, PAGE_LIMIT_RANGE)
  .max(PAGE_LIMIT_MAX, PAGE_LIMIT_RANGE)
  .describe(
    `How many tasks to return at most, 1–${PAGE_LIMIT_MAX} (default ${PAGE_LIMIT_DEFAULT}).`,
  );

/** Where a page continues: the `next_cursor` of the page before it, passed back unchanged. */
export const PageCursor = z
  .string()
  .min(1, "must not be empty; omit cursor for the first page")
  .max(100, "is not a next_cursor this server returned")
  .describe(
    "Opaque position from the previous page's next_cursor, passed back unchanged. Omit it for the first page.",
  );

/** Query of `GET /tasks`: the status filter and the page to return. */
export const ListTasksQuery = z.strictObject({
  status: StatusFilter.default("all"),
  limit: z
    .string()
    .regex(/^[0-9]{1,6}$/, PAGE_LIMIT_RANGE)
    .transform(Number)
    .pipe(PageLimit)
    .default(PAGE_LIMIT_DEFAULT),
  cursor: PageCursor.optional(),
});

/** Body of `GET /tasks`: one page of tasks, oldest first. */
export const TaskList = z.object({
  tasks: z.array(Task),
  next_cursor: z
    .string()
    .nullable()
    .describe("Cursor of the next page, or null when this page is the last."),
});
export type TaskList = z.infer<typeof TaskList>;

/** What a list request asks for; omitted fields take the backend's defaults. */
export interface ListTasksRequest {
  status: StatusFilter;
  limit?: number;
  cursor?: string;
}

/** The JSON error body every backend failure answers with. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
