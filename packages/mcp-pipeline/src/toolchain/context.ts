import type { Mode, ToolchainPaths, ToolchainSettings } from "./settings.js";

/** What a run of setup needs beyond the tools themselves. */
export interface SetupNeeds {
  /** The htpasswd-protected registry: for `npm test`, and when the pipeline publishes locally. */
  authRegistry: boolean;
  /** The MCP Registry, mcp-publisher and PostgreSQL the tests publish server.json to (`npm test`). */
  mcpRegistry?: boolean;
}

/** What every set-up step receives. */
export interface StepContext {
  mode: Mode;
  paths: ToolchainPaths;
  settings: ToolchainSettings;
  needs: SetupNeeds;
  /** Environment for child processes: PATH already includes the toolchain's bin dir. */
  env: NodeJS.ProcessEnv;
  /** Where this step appends the output of the commands it runs. */
  logFile: string;
  /** A short progress note inside a long step (shown in the progress line). */
  note(text: string): void;
  /** A line the user must see (kept on screen, unlike a note). */
  warn(text: string): void;
}

/** One idempotent set-up step: `isDone` is a real, fast check; `run` makes it true. */
export interface Step {
  id: string;
  title: string;
  isDone(ctx: StepContext): Promise<boolean>;
  run(ctx: StepContext): Promise<void>;
}
