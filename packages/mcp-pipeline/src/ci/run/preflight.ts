import { composeTarget, STACK_CHECKS } from "../checks/stack.js";
import type { Stage } from "./run.js";

/**
 * Before anything is built: a check that will run but cannot be configured (a compose file
 * without the configured service, say) stops the run with exit 2 and costs no build.
 */
export const preflightStage: Stage = {
  name: () => "preflight",
  skip(run) {
    const { req } = run;
    if (STACK_CHECKS.some((id) => !req.skip.includes(id))) composeTarget(req.config, req.cwd);
    // Checked, and nothing to show for it in the stage table.
    return "";
  },
  run: async () => "done",
};
