import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import semver from "semver";
import { parse as parseYaml } from "yaml";
import { MCP_REVISIONS, type McpRevision } from "../ci/config/schema.js";

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
  /** The protocol revisions its SDK line speaks, when the repository says which line it is on. */
  revisions: McpRevision[] | undefined;
  /** Where `revisions` was read, or why it could not be: a comment in the written config. */
  revisionsWhy: string | undefined;
}

/** What an SDK line speaks, and how it reads in a comment. */
interface SdkLine {
  revisions: McpRevision[];
  why: string;
}
const V1_REVISIONS: McpRevision[] = ["2025-11-25"];
const V2_REVISIONS: McpRevision[] = [...MCP_REVISIONS];

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

/**
 * The TypeScript SDK line a Node project runs on: `@modelcontextprotocol/server` 2.x (the v2 SDK)
 * serves 2026-07-28 and the 2025 revisions from one endpoint; `@modelcontextprotocol/sdk` 1.x
 * implements up to 2025-11-25. Read from package-lock.json (which also sees an SDK a published
 * server such as server-everything brings in), else from the lowest version package.json allows.
 */
export function nodeSdkLine(pkg: string, lock: string): SdkLine | undefined {
  const versions: Record<"server" | "sdk", { version: string; from: string } | undefined> = {
    server: undefined,
    sdk: undefined,
  };
  const packages = lockedPackages(lock);
  for (const [path, entry] of Object.entries(packages)) {
    const name = /(?:^|\/)node_modules\/@modelcontextprotocol\/(server|sdk)$/.exec(path)?.[1] as
      | "server"
      | "sdk"
      | undefined;
    if (name && entry.version && !versions[name]) {
      versions[name] = { version: entry.version, from: "package-lock.json" };
    }
  }
  if (!versions.server && !versions.sdk && pkg) {
    const manifest = JSON.parse(pkg) as Record<string, Record<string, string> | undefined>;
    const deps = { ...manifest.dependencies, ...manifest.devDependencies };
    for (const name of ["server", "sdk"] as const) {
      const range = deps[`@modelcontextprotocol/${name}`];
      const min = range && semver.validRange(range) ? semver.minVersion(range) : null;
      if (min) versions[name] = { version: min.version, from: `package.json (${range})` };
    }
  }
  const server = versions.server;
  if (server && semver.major(server.version) >= 2) {
    return {
      revisions: V2_REVISIONS,
      why: `${server.from}: @modelcontextprotocol/server ${server.version}, the v2 SDK, serves 2026-07-28 and the 2025 revisions`,
    };
  }
  const sdk = versions.sdk;
  if (sdk && semver.major(sdk.version) < 2) {
    return {
      revisions: V1_REVISIONS,
      why: `${sdk.from}: @modelcontextprotocol/sdk ${sdk.version}, the v1 SDK, implements up to 2025-11-25`,
    };
  }
  return undefined;
}

/** The `packages` of a package-lock.json (v2, v3); none when there is no lockfile or it is unreadable. */
function lockedPackages(lock: string): Record<string, { version?: string }> {
  if (!lock) return {};
  try {
    return (JSON.parse(lock) as { packages?: Record<string, { version?: string }> }).packages ?? {};
  } catch {
    // A lockfile mid-merge says nothing reliable; package.json's ranges are read instead.
    return {};
  }
}

/**
 * The Python SDK line: `mcp` 2.0.0 and later speak 2026-07-28 and serve every earlier revision;
 * 1.x stops at 2025-11-25 (the v1 line, in maintenance). FastMCP builds on `mcp`, so a lockfile
 * that resolves `mcp` tells for both. Read from uv.lock's resolved version, else from a
 * requirement that pins one line (`mcp==1.26.0`, `mcp>=1.2,<2`, `mcp~=2.1`, `mcp>=2`).
 */
export function pythonSdkLine(files: Record<string, string>): SdkLine | undefined {
  const locked = /^\[\[package\]\]\s*\nname\s*=\s*"mcp"\s*\nversion\s*=\s*"([^"]+)"/m.exec(
    files["uv.lock"] ?? "",
  )?.[1];
  const line = (major: number, from: string): SdkLine =>
    major >= 2
      ? {
          revisions: V2_REVISIONS,
          why: `${from}: mcp 2.x speaks 2026-07-28 and the 2025 revisions`,
        }
      : {
          revisions: V1_REVISIONS,
          why: `${from}: mcp 1.x, the v1 SDK, implements up to 2025-11-25`,
        };
  if (locked) return line(Number.parseInt(locked, 10), `uv.lock resolves mcp ${locked}`);
  for (const file of ["pyproject.toml", "requirements.txt"]) {
    // A requirement line, or an entry of pyproject's `dependencies = ["mcp>=2", …]`.
    const spec = /(?:^|[[,\s])\s*["']?mcp(?:\[[^\]]*\])?\s*([<>=~!][^"'#\n;]*)/m.exec(
      files[file] ?? "",
    )?.[1];
    if (!spec) continue;
    const clauses = spec.split(",").map((clause) => clause.replace(/\s+/g, ""));
    const from = `${file} requires mcp${clauses.join(",")}`;
    const pinned = clauses.map((c) => /^(?:===?|~=)(\d+)/.exec(c)?.[1]).find(Boolean);
    if (pinned) return line(Number(pinned), from);
    // `<2` (or `<2.0`) rules out v2 whatever the lower bound; a lower bound of 2 or more rules out v1.
    if (clauses.some((c) => /^<2(?:\.0)*$/.test(c) || /^<1(?:\.|$)/.test(c))) return line(1, from);
    const lower = clauses.map((c) => /^>=?(\d+)/.exec(c)?.[1]).find(Boolean);
    if (lower && Number(lower) >= 2) return line(2, from);
  }
  return undefined;
}

/** Why a repository looks like an MCP server: its dependencies name an MCP SDK. */
export function detectMcp(dir: string): McpFacts {
  const read = (file: string) =>
    existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : "";
  const withLine = (evidence: string, sdk: SdkLine | undefined): McpFacts => ({
    evidence,
    revisions: sdk?.revisions,
    revisionsWhy:
      sdk?.why ??
      "which SDK line this is could not be read from the repository (no lockfile or pinned version): the default claims both revisions; a v1 SDK speaks only 2025-11-25",
  });
  const pkg = read("package.json");
  if (pkg) {
    const manifest = JSON.parse(pkg) as Record<string, Record<string, string> | undefined>;
    const deps = { ...manifest.dependencies, ...manifest.devDependencies };
    // An SDK, or a published MCP server the image runs (server-everything, server-memory, …).
    const sdk = Object.keys(deps).find((name) =>
      /^@modelcontextprotocol\/(sdk|server(-[\w.-]+)?)$|^fastmcp$|^mcp-framework$/.test(name),
    );
    if (sdk) {
      return withLine(
        `package.json depends on ${sdk}`,
        nodeSdkLine(pkg, read("package-lock.json")),
      );
    }
  }
  const python = Object.fromEntries(
    ["pyproject.toml", "requirements.txt", "uv.lock"].map((file) => [file, read(file)]),
  );
  for (const [file, text] of Object.entries(python)) {
    const dep = /^\s*(?:name\s*=\s*)?["']?(mcp|fastmcp)(?:\[[^\]]*\])?\s*(?:[<>=~!]|["',]|$)/m.exec(
      text,
    );
    if (dep) return withLine(`${file} names ${dep[1]}`, pythonSdkLine(python));
  }
  const gomod = /(github\.com\/modelcontextprotocol\/go-sdk|github\.com\/mark3labs\/mcp-go)/.exec(
    read("go.mod"),
  );
  if (gomod) {
    return {
      evidence: `go.mod requires ${gomod[1]}`,
      revisions: undefined,
      revisionsWhy:
        "which revisions this Go SDK version speaks is not read by init: the default claims both; a server that speaks only 2025-11-25 declares just that",
    };
  }
  return { evidence: undefined, revisions: undefined, revisionsWhy: undefined };
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
