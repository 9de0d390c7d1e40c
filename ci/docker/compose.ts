import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { Document } from "yaml";

/** What the pipeline changes in the user's stack, without touching their files. */
export interface StackOverride {
  service: string;
  image: string;
  /** `127.0.0.1:<hostPort>` is published to the service's `containerPort`, replacing its own ports. */
  hostPort: number;
  containerPort: number;
}

/**
 * A compose override file: the service runs the built image and publishes
 * exactly one port on loopback (`!override` replaces the service's own list,
 * Compose ≥ 2.24.4).
 */
export function overrideYaml(o: StackOverride): string {
  const doc = new Document({ services: { [o.service]: { image: o.image, ports: [] } } });
  const ports = doc.createNode([`127.0.0.1:${o.hostPort}:${o.containerPort}`]);
  ports.tag = "!override";
  doc.setIn(["services", o.service, "ports"], ports);
  return doc.toString();
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
