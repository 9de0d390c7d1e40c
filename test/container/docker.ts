import { execa } from "execa";

export { freePort } from "../../ci/net.js";

import { repoRoot, env as toolchainEnvironment } from "../toolchain/helpers.js";

export { repoRoot };
export const env = toolchainEnvironment;

/** Runs docker with the toolchain environment; throws with the output on failure. */
export async function docker(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const res = await execa("docker", args, {
    cwd: repoRoot,
    env: { ...env, ...extraEnv },
    all: true,
    reject: false,
  });
  if (res.exitCode !== 0)
    throw new Error(`docker ${args.join(" ")} failed (${res.exitCode}):\n${res.all}`);
  return res.stdout;
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
