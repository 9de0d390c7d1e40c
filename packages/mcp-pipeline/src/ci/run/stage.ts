import type { ProgressLine } from "../../host/progress.js";
import type { Run } from "./run.js";

/**
 * One stage of the pipeline: build, verify, publish, sign. The pipeline runs them in order;
 * each decides from the run whether it has work (`skip`), does it, and says how it ended.
 */
export interface Stage {
  /** Runs even after an earlier stage failed (the report). */
  always?: boolean;
  /** The name in the summary's stage table; it may depend on the run (verify or contract). */
  name(run: Run): string;
  /**
   * Why the stage does not run this time, or false when it does. A reason other than "" is
   * printed; "" skips silently (nothing was asked of it).
   */
  skip(run: Run): string | false;
  /** Does the stage's work on `run`; resolves to its status in the summary. */
  run(run: Run, progress: ProgressLine): Promise<string>;
}
