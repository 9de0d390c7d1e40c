import type { Mode } from "./mode.js";
import type { ToolchainPaths } from "./paths.js";

/** What every set-up step receives. */
export interface StepContext {
  mode: Mode;
  paths: ToolchainPaths;
  /** Environment for child processes: PATH already includes the toolchain's bin dir. */
  env: NodeJS.ProcessEnv;
  /** Where this step appends the output of the commands it runs. */
  logFile: string;
  /** A short progress note inside a long step (shown in the progress line). */
  note(text: string): void;
}

/** One idempotent set-up step: `isDone` is a real, fast check; `run` makes it true. */
export interface Step {
  id: string;
  title: string;
  isDone(ctx: StepContext): Promise<boolean>;
  run(ctx: StepContext): Promise<void>;
}
