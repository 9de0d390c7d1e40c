import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { Document } from "yaml";

/** What the pipeline changes in the user's stack, without touching their files. */
export interface StackOverride {
  service: string;
  image: string;
  /** `127.0.0.1:<hostPort>` is published to the service's `containerPort`, replacing its own ports. */
  hostPort: number;
  containerPort: number;
  /**
   * Services whose health is probed at `probeInterval` for this run (their own test, start
   * period and retries stay), so `up --wait` returns when they are ready, not a whole
   * declared interval later.
   */
  probed: readonly string[];
  probeInterval: string;
  /** Images already built for the other services, run as they are. */
  images: Readonly<Record<string, string>>;
}

/**
 * A compose override file: the service runs the built image and publishes
 * exactly one port on loopback (`!override` replaces the service's own list,
 * Compose ≥ 2.24.4), and health probes come at `probeInterval`.
 */
export function overrideYaml(o: StackOverride): string {
  const services: Record<string, Record<string, unknown>> = {};
  for (const [name, image] of Object.entries(o.images)) services[name] = { image };
  for (const name of o.probed)
    services[name] = { ...services[name], healthcheck: { interval: o.probeInterval } };
  services[o.service] = { ...services[o.service], image: o.image, ports: [] };
  const doc = new Document({ services });
  const ports = doc.createNode([`127.0.0.1:${o.hostPort}:${o.containerPort}`]);
  ports.tag = "!override";
  doc.setIn(["services", o.service, "ports"], ports);
  return doc.toString();
}

export interface ComposeServices {
  names: string[];
  /** Services whose health check is disabled. */
  unprobed: string[];
  /** The image each service runs: its `image:`, else the name Compose gives a built one. */
  images: Record<string, string>;
  /** How each service with a `build:` section is built: its context (absolute) and Dockerfile. */
  builds: Record<string, { context: string; dockerfile: string }>;
  /**
   * sha256 of the resolved configuration — the file after interpolation, so the environment it
   * reads counts — with the values of `env` replaced by their names, so a fresh secret per run
   * does not change it.
   */
  fingerprint: string;
}

/**
 * The services of a compose file as `project`. Only names, health-check switches and image
 * names are read from the resolved configuration (which holds interpolated secrets).
 */
export async function composeServices(opts: {
  cwd: string;
  file: string;
  project: string;
  env: Readonly<Record<string, string>>;
}): Promise<ComposeServices> {
  const res = await execa(
    "docker",
    ["compose", "-f", opts.file, "-p", opts.project, "config", "--format", "json"],
    { cwd: opts.cwd, env: { ...opts.env }, reject: false },
  );
  if (res.exitCode !== 0)
    throw new Error(
      `docker compose config failed: ${String(res.stderr).trim().split("\n").slice(-5).join("\n")}`,
    );
  let resolved = String(res.stdout);
  for (const [name, value] of Object.entries(opts.env))
    if (value) resolved = resolved.replaceAll(value, `\${${name}}`);
  const config = JSON.parse(String(res.stdout)) as {
    services?: Record<
      string,
      {
        image?: string;
        healthcheck?: { disable?: boolean };
        build?: { context?: string; dockerfile?: string };
      }
    >;
  };
  const services = Object.entries(config.services ?? {});
  return {
    names: services.map(([name]) => name),
    unprobed: services.filter(([, s]) => s.healthcheck?.disable === true).map(([name]) => name),
    images: Object.fromEntries(
      services.map(([name, s]) => [name, s.image ?? `${opts.project}-${name}`]),
    ),
    builds: Object.fromEntries(
      services.flatMap(([name, s]) =>
        s.build
          ? [
              [
                name,
                {
                  context: resolve(opts.cwd, s.build.context ?? "."),
                  dockerfile: s.build.dockerfile ?? "Dockerfile",
                },
              ],
            ]
          : [],
      ),
    ),
    fingerprint: createHash("sha256").update(resolved).digest("hex"),
  };
}

export interface ComposeResult {
  exitCode: number;
  /** stdout and stderr, interleaved. */
  output: string;
}

export interface ComposeStack {
  project: string;
  /** `docker compose -f <file> -f <override> -p <project> ARGS…`; never throws. */
  compose(args: readonly string[]): Promise<ComposeResult>;
  /** `down -v --remove-orphans`, and the override file is deleted. */
  remove(): Promise<void>;
}

/**
 * A compose project over the user's file plus a generated override kept in a
 * temporary directory. `env` reaches Compose's interpolation (and so the
 * containers) through its environment, never its argv.
 */
export function composeStack(opts: {
  cwd: string;
  file: string;
  project: string;
  override: StackOverride;
  env: Readonly<Record<string, string>>;
}): ComposeStack {
  const dir = mkdtempSync(join(tmpdir(), "pipeline-compose-"));
  const overrideFile = join(dir, "override.yaml");
  writeFileSync(overrideFile, overrideYaml(opts.override));
  const compose = async (args: readonly string[]): Promise<ComposeResult> => {
    const res = await execa(
      "docker",
      ["compose", "-f", opts.file, "-f", overrideFile, "-p", opts.project, ...args],
      { cwd: opts.cwd, env: { ...opts.env }, reject: false, all: true },
    );
    return { exitCode: res.exitCode ?? 1, output: String(res.all ?? "") };
  };
  return {
    project: opts.project,
    compose,
    async remove() {
      try {
        await compose(["down", "-v", "--remove-orphans"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
