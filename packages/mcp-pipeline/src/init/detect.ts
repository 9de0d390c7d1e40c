import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse as parseYaml } from "yaml";

/** What `init` reads off a repository before writing its configuration. */
export interface RepositoryFacts {
  /** A local image name: the directory's name, made valid. */
  name: string;
  /** The Dockerfile, relative to the repository; undefined when there is none. */
  dockerfile: string | undefined;
  /** The final stage of the Dockerfile: what a build without `--target` produces. */
  image: DockerfileFacts | undefined;
  compose: ComposeFacts | undefined;
  mcp: McpFacts;
}

export interface DockerfileFacts {
  /** Every named stage, in order. */
  stages: string[];
  /** Ports the final stage EXPOSEs (numbers only; `${PORT}` cannot be read). */
  expose: number[];
  /** The final stage's USER, when set. */
  user: string | undefined;
  /** Whether the final stage declares a HEALTHCHECK (not `NONE`). */
  healthcheck: boolean;
}

export interface ComposeFacts {
  file: string;
  services: string[];
  /** The service built from this repository's Dockerfile, when one is. */
  service: string | undefined;
  /** That service's container port, from `ports`/`expose`, when it says. */
  port: number | undefined;
}

export interface McpFacts {
  /** Why the repository is taken for an MCP server, or undefined when nothing says so. */
  evidence: string | undefined;
}

const DOCKERFILES = ["Dockerfile", "dockerfile", "Containerfile"];
const COMPOSE_FILES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const out: { op: string; args: string }[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = `${pending}${line}`.trim();
    pending = "";
    const match = /^(\w+)\s*(.*)$/.exec(whole);
    if (match?.[1]) out.push({ op: match[1].toUpperCase(), args: match[2] ?? "" });
  }
  return out;
}

/** Reads the facts of the final stage of a Dockerfile. */
export function readDockerfile(text: string): DockerfileFacts {
  const facts: DockerfileFacts = { stages: [], expose: [], user: undefined, healthcheck: false };
  for (const { op, args } of instructions(text)) {
    if (op === "FROM") {
      const stage = /\s+as\s+(\S+)\s*$/i.exec(args)?.[1];
      if (stage) facts.stages.push(stage);
      // A new stage starts from nothing of the previous one.
      Object.assign(facts, { expose: [], user: undefined, healthcheck: false });
    } else if (op === "EXPOSE") {
      for (const port of args.split(/\s+/)) {
        const number = Number(port.replace(/\/(tcp|udp)$/i, ""));
        if (Number.isInteger(number) && number > 0) facts.expose.push(number);
      }
    } else if (op === "USER") {
      facts.user = args.trim();
    } else if (op === "HEALTHCHECK") {
      facts.healthcheck = !/^NONE\b/i.test(args.trim());
    }
  }
  return facts;
}

/** The container side of a compose port entry: `8080:3000`, `3000`, `127.0.0.1:8080:3000/tcp`, `{target: 3000}`. */
function containerPort(entry: unknown): number | undefined {
  if (typeof entry === "object" && entry !== null) {
    const target = Number((entry as { target?: unknown }).target);
    return Number.isInteger(target) ? target : undefined;
  }
  const last = String(entry)
    .split(":")
    .pop()
    ?.replace(/\/(tcp|udp)$/i, "");
  const port = Number(last);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Reads a compose file's services and the one built from `dockerfile` in the repository root. */
export function readCompose(
  file: string,
  text: string,
  dockerfile: string | undefined,
): ComposeFacts {
  const doc = (parseYaml(text) ?? {}) as { services?: Record<string, Record<string, unknown>> };
  const services = doc.services ?? {};
  const builtHere = Object.entries(services).find(([, service]) => {
    const build = service.build;
    const context =
      typeof build === "string" ? build : (build as { context?: string } | undefined)?.context;
    const file =
      typeof build === "object" && build !== null
        ? (build as { dockerfile?: string }).dockerfile
        : undefined;
    return (
      context !== undefined &&
      ["", ".", "./"].includes(context) &&
      (file === undefined || file === dockerfile)
    );
  });
  const service = builtHere?.[0];
  const ports = (builtHere?.[1].ports ?? builtHere?.[1].expose ?? []) as unknown[];
  return {
    file,
    services: Object.keys(services),
    service,
    port: ports.map(containerPort).find((port) => port !== undefined),
  };
}

/** Why a repository looks like an MCP server: its dependencies name an MCP SDK. */
export function detectMcp(dir: string): McpFacts {
  const read = (file: string) =>
    existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : "";
  const pkg = read("package.json");
  if (pkg) {
    const manifest = JSON.parse(pkg) as Record<string, Record<string, string> | undefined>;
    const deps = { ...manifest.dependencies, ...manifest.devDependencies };
    // An SDK, or a published MCP server the image runs (server-everything, server-memory, …).
    const sdk = Object.keys(deps).find((name) =>
      /^@modelcontextprotocol\/(sdk|server(-[\w.-]+)?)$|^fastmcp$|^mcp-framework$/.test(name),
    );
    if (sdk) return { evidence: `package.json depends on ${sdk}` };
  }
  for (const file of ["pyproject.toml", "requirements.txt", "uv.lock"]) {
    const dep = /^\s*(?:name\s*=\s*)?["']?(mcp|fastmcp)(?:\[[^\]]*\])?\s*(?:[<>=~!]|["',]|$)/m.exec(
      read(file),
    );
    if (dep) return { evidence: `${file} names ${dep[1]}` };
  }
  const gomod = /(github\.com\/modelcontextprotocol\/go-sdk|github\.com\/mark3labs\/mcp-go)/.exec(
    read("go.mod"),
  );
  if (gomod) return { evidence: `go.mod requires ${gomod[1]}` };
  return { evidence: undefined };
}

/** A valid image name from a directory name. */
export function imageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|[._-]+$/g, "");
  return name || "app";
}

/** Everything `init` needs to know about the repository in `dir`. */
export function readRepository(dir: string): RepositoryFacts {
  const dockerfile = DOCKERFILES.find((file) => existsSync(join(dir, file)));
  const composeFile = COMPOSE_FILES.find((file) => existsSync(join(dir, file)));
  return {
    name: imageName(dir),
    dockerfile,
    image: dockerfile ? readDockerfile(readFileSync(join(dir, dockerfile), "utf8")) : undefined,
    compose: composeFile
      ? readCompose(composeFile, readFileSync(join(dir, composeFile), "utf8"), dockerfile)
      : undefined,
    mcp: detectMcp(dir),
  };
}
