import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { execa } from "execa";
import type { Config } from "../config/schema.js";
import {
  type ComposeServices,
  type ComposeStack,
  composeServices,
  composeStack,
} from "../docker/compose.js";
import { inspectImage } from "../docker/docker.js";
import { freePort } from "../docker/free-port.js";
import { ConfigError } from "../errors.js";
import type { CheckContext, CheckOutcome } from "./check.js";

/** How often health is probed in the stack the checks bring up. */
const PROBE_INTERVAL = "500ms";

/** The compose stack the stack checks share: up once, torn down after the last of them. */
export type StackUp =
  | {
      state: "up";
      stack: ComposeStack;
      /** `http://127.0.0.1:<port>`: the built image's service, published on loopback. */
      base: URL;
      details: string[];
    }
  | { state: "skipped" | "failed"; outcome: CheckOutcome };

/** The container port to reach: `compose.port`, else the image's only exposed TCP port. */
async function containerPort(ctx: CheckContext): Promise<number | undefined> {
  if (ctx.config.compose.port !== undefined) return ctx.config.compose.port;
  const exposed = Object.keys((await inspectImage(ctx.image)).Config.ExposedPorts ?? {})
    .filter((p) => p.endsWith("/tcp"))
    .map((p) => Number.parseInt(p, 10));
  return exposed.length === 1 ? exposed[0] : undefined;
}

/** The checks that need the compose stack; the stack's configuration is checked unless all are skipped. */
export const STACK_CHECKS = ["compose-smoke", "mcp-conformance", "mcp-contract"] as const;

/**
 * The compose file (absolute) and the service that runs the built image, or undefined when there
 * is no compose file (the stack checks are then skipped). Throws a ConfigError when there is a
 * file but no `compose.service`: the pipeline calls this before building, so that mistake costs
 * nothing.
 */
export function composeTarget(
  config: Config,
  cwd: string,
): { file: string; service: string } | undefined {
  const { compose } = config;
  const file = resolve(cwd, compose.file);
  if (!existsSync(file)) return undefined;
  if (compose.service === undefined) {
    throw new ConfigError(
      `compose.service: expected the service in ${compose.file} that runs the built image, got nothing; set it in pipeline.config.yaml, or --skip ${STACK_CHECKS.join(" --skip ")}`,
      { field: "compose.service" },
    );
  }
  return { file, service: compose.service };
}

/** The other services of the stack, built once per run under a name fixed for this checkout. */
export interface StackImages {
  file: string;
  service: string;
  services: ComposeServices;
  /** The built image's service's neighbours, by image id: what the stack's behaviour depends on. */
  ids: Record<string, string>;
  build: { exitCode: number; output: string };
}

/** The `ctx.shared` key of the stack's images: the run key (replay/key.ts) supplies its own. */
export const STACK_IMAGES = "stack-images";

/** The compose project the neighbours are built under: fixed for a checkout, so names stay. */
export function buildProject(cwd: string): string {
  return `pipeline-build-${createHash("sha256").update(cwd).digest("hex").slice(0, 8)}`;
}

/**
 * Builds the services other than `compose.service` from their own
 * definitions (cached by the builder) under a project name fixed for this
 * checkout, so their images keep their names from run to run, and reads their
 * image ids. Undefined without a compose file.
 */
export function stackImages(ctx: CheckContext): Promise<StackImages | undefined> {
  return ctx.shared(STACK_IMAGES, async () => {
    const target = composeTarget(ctx.config, ctx.cwd);
    if (!target) return undefined;
    const { file, service } = target;
    const project = buildProject(ctx.cwd);
    const services = await composeServices({ cwd: ctx.cwd, file, project, env: ctx.runEnv });
    const others = services.names.filter((s) => s !== service);
    let build = { exitCode: 0, output: "" };
    if (others.length && services.names.includes(service)) {
      const res = await execa(
        "docker",
        ["compose", "-f", file, "-p", project, "build", ...others],
        {
          cwd: ctx.cwd,
          env: { ...ctx.runEnv },
          reject: false,
          all: true,
        },
      );
      build = { exitCode: res.exitCode ?? 1, output: String(res.all ?? "") };
    }
    const ids: Record<string, string> = {};
    if (build.exitCode === 0) {
      for (const name of others) {
        const image = services.images[name] as string;
        ids[name] = (await inspectImage(image).catch(() => undefined))?.Id ?? `missing:${image}`;
      }
    }
    return { file, service, services, ids, build };
  });
}

/**
 * What the stack checks' results depend on besides the image: the compose
 * file, the neighbours' images, and what the pipeline changes in the stack.
 */
export async function stackInputs(ctx: CheckContext): Promise<unknown> {
  const images = await stackImages(ctx);
  if (!images) return { compose: "absent" };
  return {
    compose: images.services.fingerprint,
    service: images.service,
    port: ctx.config.compose.port,
    neighbours: images.ids,
    env: Object.keys(ctx.runEnv).sort(),
    probeInterval: PROBE_INTERVAL,
  };
}

/**
 * Brings the user's compose stack up with the built image as
 * `compose.service` (a generated override, never written into their files):
 * the other services as `stackImages` built them, health probed every 500 ms
 * for this run, `docker compose up --wait`. A stack that does not come
 * up is torn down at once, its logs kept in the outcome.
 */
async function bringUp(ctx: CheckContext): Promise<StackUp> {
  const cfg = ctx.config.compose;
  const images = await stackImages(ctx);
  if (!images) {
    return {
      state: "skipped",
      outcome: {
        status: "skipped",
        summary: `no compose file at ${cfg.file}`,
        details: ["Set compose.file to the stack the image runs in, or --skip the stack checks."],
      },
    };
  }
  const { file, service, services } = images;
  if (!services.names.includes(service)) {
    return {
      state: "failed",
      outcome: {
        status: "failed",
        summary: `${cfg.file} has no service ${JSON.stringify(service)}`,
        details: [`Services: ${services.names.join(", ")}. Set compose.service to one of them.`],
      },
    };
  }
  const others = services.names.filter((s) => s !== service);
  if (images.build.exitCode !== 0) {
    return {
      state: "failed",
      outcome: {
        status: "failed",
        summary: `could not build ${others.join(", ")}`,
        details: images.build.output.split("\n").slice(-20),
      },
    };
  }
  const port = await containerPort(ctx);
  if (port === undefined) {
    return {
      state: "failed",
      outcome: {
        status: "failed",
        summary: "no port to reach: the image exposes no single TCP port",
        details: [`Set compose.port to the port ${service} listens on inside its container.`],
      },
    };
  }
  const hostPort = await freePort();
  const stack = composeStack({
    cwd: ctx.cwd,
    file,
    project: `pipeline-smoke-${randomBytes(3).toString("hex")}`,
    override: {
      service,
      image: ctx.image,
      hostPort,
      containerPort: port,
      probed: services.names.filter((s) => !services.unprobed.includes(s)),
      probeInterval: PROBE_INTERVAL,
      images: Object.fromEntries(others.map((s) => [s, services.images[s] as string])),
    },
    env: ctx.runEnv,
  });
  const details = [`project ${stack.project}: ${service} → 127.0.0.1:${hostPort}`];
  const failed = async (summary: string, extra: string[]): Promise<StackUp> => {
    const logs = await stack.compose(["logs", "--no-color", "--tail", "30"]);
    await stack.remove();
    return {
      state: "failed",
      outcome: {
        status: "failed",
        summary,
        details: [...details, ...extra, "logs:", ...logs.output.split("\n")],
      },
    };
  };
  try {
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
  } catch (err) {
    await stack.remove();
    throw err;
  }
  return { state: "up", stack, base: new URL(`http://127.0.0.1:${hostPort}`), details };
}

/** The shared stack: brought up by the first check that needs it, removed after the last one. */
export function sharedStack(ctx: CheckContext): Promise<StackUp> {
  return ctx.shared(
    "compose-stack",
    () => bringUp(ctx),
    (up) => (up.state === "up" ? up.stack.remove() : Promise.resolve()),
  );
}

/** What a check that needs the stack reports when it is not up. */
export function withoutStack(up: Exclude<StackUp, { state: "up" }>): CheckOutcome {
  return up.state === "skipped"
    ? up.outcome
    : {
        status: "failed",
        summary: `the compose stack did not come up: ${up.outcome.summary}`,
        details: ["See compose-smoke for the stack's logs."],
      };
}
