import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { composeStack } from "../docker/compose.js";
import { inspectImage } from "../docker/docker.js";
import { freePort } from "../docker/free-port.js";
import { commandSmoke } from "../smoke/command.js";
import { mcpSmoke } from "../smoke/mcp.js";
import { type Check, type CheckContext, type CheckOutcome, describeError } from "./check.js";

/** The container port to reach: `compose.port`, else the image's only exposed TCP port. */
async function containerPort(ctx: CheckContext): Promise<number | undefined> {
  if (ctx.config.compose.port !== undefined) return ctx.config.compose.port;
  const exposed = Object.keys((await inspectImage(ctx.image)).Config.ExposedPorts ?? {})
    .filter((p) => p.endsWith("/tcp"))
    .map((p) => Number.parseInt(p, 10));
  return exposed.length === 1 ? exposed[0] : undefined;
}

/**
 * `compose-smoke`: the user's compose stack with the built image as
 * `compose.service` (a generated override, never written into their files),
 * the other services built from their own definitions, `docker compose up
 * --wait`, then the configured smoke — a real MCP client, or the project's
 * own command. `down -v` always runs; the logs of the stack go into the details
 * of a failure.
 */
export const composeSmoke: Check = {
  id: "compose-smoke",
  async run(ctx) {
    const cfg = ctx.config.compose;
    const file = resolve(ctx.cwd, cfg.file);
    if (!existsSync(file)) {
      return {
        status: "skipped",
        summary: `no compose file at ${cfg.file}`,
        details: ["Set compose.file to the stack the image runs in, or --skip compose-smoke."],
      };
    }
    // Checked before the build by the pipeline; repeated so the check stands alone.
    const service = cfg.service;
    if (!service) throw new Error("compose.service is not set");
    const port = await containerPort(ctx);
    if (port === undefined) {
      return {
        status: "failed",
        summary: "no port to reach: the image exposes no single TCP port",
        details: [`Set compose.port to the port ${service} listens on inside its container.`],
      };
    }
    const hostPort = await freePort();
    const stack = composeStack({
      cwd: ctx.cwd,
      file,
      project: `pipeline-smoke-${randomBytes(3).toString("hex")}`,
      override: { service, image: ctx.image, hostPort, containerPort: port },
      env: ctx.runEnv,
    });
    const details = [`project ${stack.project}: ${service} → 127.0.0.1:${hostPort}`];
    const failed = async (summary: string, extra: string[]): Promise<CheckOutcome> => {
      const logs = await stack.compose(["logs", "--no-color", "--tail", "30"]);
      return {
        status: "failed",
        summary,
        details: [...details, ...extra, "logs:", ...logs.output.split("\n")],
      };
    };
    try {
      const services = (await stack.compose(["config", "--services"])).output
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
      if (!services.includes(service)) {
        return {
          status: "failed",
          summary: `${cfg.file} has no service ${JSON.stringify(service)}`,
          details: [`Services: ${services.join(", ")}. Set compose.service to one of them.`],
        };
      }
      const others = services.filter((s) => s !== service);
      if (others.length) {
        const built = await stack.compose(["build", ...others]);
        if (built.exitCode !== 0)
          return failed(
            `could not build ${others.join(", ")}`,
            built.output.split("\n").slice(-20),
          );
      }
      const up = await stack.compose([
        "up",
        "--no-build",
        "--wait",
        "--wait-timeout",
        String(cfg.timeoutSeconds),
      ]);
      if (up.exitCode !== 0) {
        const ps = await stack.compose([
          "ps",
          "-a",
          "--format",
          "{{.Service}}: {{.State}} {{.Health}}",
        ]);
        return failed("docker compose up --wait did not bring the stack to healthy", [
          ...up.output.split("\n").slice(-10),
          "services:",
          ...ps.output.split("\n"),
        ]);
      }
      const base = new URL(`http://127.0.0.1:${hostPort}`);
      const runId = randomBytes(4).toString("hex");
      try {
        if (cfg.smoke?.mcp) {
          details.push(
            ...(await mcpSmoke(new URL(cfg.smoke.mcp.path, base), cfg.smoke.mcp, runId)),
          );
        }
        if (cfg.smoke?.command) {
          details.push(
            ...(await commandSmoke(cfg.smoke.command, {
              cwd: ctx.cwd,
              url: base,
              env: ctx.runEnv,
              timeoutSeconds: cfg.timeoutSeconds,
            })),
          );
        }
      } catch (err) {
        return failed(`smoke test failed: ${err instanceof Error ? err.message : String(err)}`, [
          ...describeError(err).slice(1),
        ]);
      }
      return {
        status: "passed",
        summary: cfg.smoke
          ? "stack healthy, and the smoke test passed against it"
          : "stack healthy (no compose.smoke configured)",
        details,
      };
    } finally {
      await stack.remove();
    }
  },
};
