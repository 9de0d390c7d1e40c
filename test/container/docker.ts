import { docker as runDocker } from "../../packages/mcp-pipeline/src/ci/docker/docker.js";

export { freePort } from "../../packages/mcp-pipeline/src/ci/docker/free-port.js";

import {
  repoRoot,
  env as toolchainEnvironment,
} from "../../packages/mcp-pipeline/test/toolchain/helpers.js";

export { repoRoot };
export const env = toolchainEnvironment;

/** The pipeline's own `docker` runner, with the toolchain environment, from the repo root. */
export function docker(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return runDocker(args, { env: { ...env, ...extraEnv }, cwd: repoRoot });
}

/** Builds a target of the project's Dockerfile, passing the CA bundle as a BuildKit secret when there is one. */
export async function buildImage(
  tag: string,
  target: "mcp-server" | "backend",
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<void> {
  const caFile = extraEnv.NPM_CA_FILE ?? env.NPM_CA_FILE;
  const secret = caFile ? ["--secret", `id=npm_ca,src=${caFile}`] : [];
  await docker(["build", "--target", target, ...secret, "-t", tag, "."], extraEnv);
}

/** Polls `docker inspect` until the container's health is `healthy` (or fails after `timeoutMs`). */
export async function waitHealthy(container: string, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const status = (
      await docker(["inspect", "--format", "{{.State.Health.Status}}", container])
    ).trim();
    if (status === "healthy") return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `${container} is ${status} after ${timeoutMs} ms:\n${await docker(["logs", container]).catch(() => "")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
