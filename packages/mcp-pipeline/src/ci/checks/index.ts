import type { Check } from "./check.js";
import { composeSmoke } from "./compose-smoke.js";
import { healthcheck } from "./healthcheck.js";
import { mcpConformance } from "./mcp-conformance.js";
import { mcpContract } from "./mcp-contract.js";
import { mcpRegistry } from "./mcp-registry.js";
import { nonRoot } from "./non-root.js";
import { sizeBudget } from "./size-budget.js";
import { trivy, trivyVulnerabilities } from "./trivy.js";

/** Every gate, in report order. Adding one is one file and one line here. */
export const CHECKS: readonly Check[] = [
  nonRoot,
  sizeBudget,
  healthcheck,
  trivy,
  trivyVulnerabilities,
  composeSmoke,
  mcpConformance,
  mcpContract,
  mcpRegistry,
];

/**
 * The gate that runs on the published digest rather than the built image, so after publish: the
 * sign stage signs and attests, then cosign verifies both as a user would (run/sign.ts). Skipping
 * it publishes unsigned.
 */
export const SIGNATURE_CHECK_ID = "signature";

/** Every gate's id, in report order: the image's checks, then the signature. What `--skip` accepts. */
export const CHECK_IDS: readonly string[] = [...CHECKS.map((c) => c.id), SIGNATURE_CHECK_ID];
