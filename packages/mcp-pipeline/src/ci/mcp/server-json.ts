/**
 * `server.json`, the file the official MCP Registry lists a server from, checked the way the
 * registry (github.com/modelcontextprotocol/registry v1.8.9) checks it before publishing — its
 * JSON Schema, and the rules of its own it adds (name format, versions, OCI packages, the allowed
 * OCI registries) — plus the pipeline's stricter rules about the run that releases it. Pure: the
 * file's text and the run's facts in, problems out.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsPlugin from "ajv-formats";
import { parseImageRef } from "../../host/image-ref.js";
import { ASSETS_DIR } from "../../package-root.js";
import { type Config, IMAGE_NAME, TAG_PATTERN } from "../config/schema.js";

/** The image label the registry reads to prove that an OCI image belongs to a server. */
export const SERVER_NAME_LABEL = "io.modelcontextprotocol.server.name";

/** The schema the registry v1.8.9 calls current (`model.CurrentSchemaURL`), vendored in assets/. */
export const CURRENT_SCHEMA_URL =
  "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/** Vendored schema files by their published URL (see assets/mcp-registry/README.md). */
const SCHEMAS: Readonly<Record<string, string>> = {
  [CURRENT_SCHEMA_URL]: "server.schema.2025-12-11.json",
};

/** One thing wrong with a server.json, its image, or their fit with the run. */
export interface RegistryProblem {
  /** Where in server.json, as the registry writes it (`packages[0].identifier`); "" for the whole. */
  at: string;
  message: string;
  /**
   * `registry`: the MCP Registry refuses it as well. `pipeline`: a rule of the gate's own, stricter
   * than the registry (every platform's label, the release's version and repository).
   */
  source: "registry" | "pipeline";
}

/** An OCI package of a server.json, with its identifier read as an image reference. */
export interface OciPackage {
  /** Its index in `packages`. */
  index: number;
  identifier: string;
  /** Registry host as the registry compares it (`docker.io` reads as `index.docker.io`). */
  registry: string;
  /** `registry/path`, as a push names it. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

/** What a valid-enough server.json says: enough to label, compare and report. */
export interface ServerFacts {
  name: string;
  version: string;
  oci: OciPackage[];
}

export interface ServerJsonResult {
  problems: RegistryProblem[];
  /** Undefined when the file is not an object with a string name and version. */
  server: ServerFacts | undefined;
}

/** What the run releases, when it is a release, and where it publishes, when it does. */
export interface ReleaseFacts {
  release: { version: string } | undefined;
  publishing: { repository: string; tags: readonly string[] } | undefined;
}

// The registry's server name rules (validators.go): namespace/name, each starting and ending
// with an alphanumeric character.
const NAMESPACE = /^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]$/;
const NAME_PART = /^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$/;
// The registry's "this is a range, not a version" patterns (validators.go); a dotted version
// (the last) counts only with a wildcard in it.
const VERSION_RANGES = [
  /^\s*(?:\^|~|>=|<=|>|<|=)\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*$/,
  /^\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s-\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*$/,
  /^\s*(?:v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*)(?:\|\|\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*)+$/,
  /^\s*(?:v?\d+|x|X|\*)(?:\.(?:\d+|x|X|\*)){1,2}(?:-[0-9A-Za-z.-]+)?\s*$/,
];
const GITHUB_REPOSITORY = /^https?:\/\/(www\.)?github\.com\/[\w.-]+\/[\w.-]+\/?$/;
const GITLAB_REPOSITORY = /^https?:\/\/(www\.)?gitlab\.com\/[\w.-]+(\/[\w.-]+)+\/?$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
/** At most this many schema errors are listed; the rest are counted. */
const MAX_SCHEMA_ERRORS = 10;

let compiled: ValidateFunction | undefined;

/** The registry's JSON Schema, compiled once (draft-07, `uri` formats checked as the registry does). */
function schemaValidator(): ValidateFunction {
  if (compiled) return compiled;
  const file = SCHEMAS[CURRENT_SCHEMA_URL] ?? "";
  const schema = JSON.parse(readFileSync(join(ASSETS_DIR, "mcp-registry", file), "utf8")) as object;
  // Ajv's strict mode lints how a schema is written (OpenAPI's `example`, `required` inside
  // `anyOf` branches); this one is upstream's, so it is read as plain draft-07.
  const ajv = new Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS whose module object is the plugin itself.
  (addFormatsPlugin as unknown as (a: Ajv) => Ajv)(ajv);
  compiled = ajv.compile(schema);
  return compiled;
}

/** `/packages/0/transport` → `packages[0].transport`, as the registry writes paths. */
export function bracketPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce(
      (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
      "",
    );
}

function schemaProblems(errors: readonly ErrorObject[]): RegistryProblem[] {
  // anyOf/oneOf report every branch's complaint and then their own; the branches say more.
  const useful = errors.filter((e) => e.keyword !== "anyOf" && e.keyword !== "if");
  const shown = useful.slice(0, MAX_SCHEMA_ERRORS).map((e) => ({
    at: bracketPath(e.instancePath),
    message: `${e.message ?? "is invalid"}${e.keyword === "additionalProperties" ? `: ${String(e.params.additionalProperty)}` : ""}${e.keyword === "enum" ? ` (${(e.params.allowedValues as unknown[]).join(", ")})` : ""}`,
    source: "registry" as const,
  }));
  if (useful.length > shown.length) {
    shown.push({
      at: "",
      message: `… and ${useful.length - shown.length} more schema errors`,
      source: "registry",
    });
  }
  return shown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;

/** The registry's server name rules; undefined when the name is fine. */
export function serverNameProblem(name: string): string | undefined {
  const parts = name.split("/");
  if (parts.length !== 2) {
    return parts.length < 2
      ? "must be `namespace/name` in reverse-DNS form, e.g. io.github.owner/repo"
      : "must contain exactly one `/`";
  }
  const [namespace = "", server = ""] = parts;
  if (!NAMESPACE.test(namespace))
    return `namespace ${JSON.stringify(namespace)} must start and end with a letter or digit, with only letters, digits, . and - between`;
  if (!NAME_PART.test(server))
    return `name ${JSON.stringify(server)} must start and end with a letter or digit, with only letters, digits, ., _ and - between`;
  return undefined;
}

/** The registry's version rules: not `latest`, not a range. */
export function versionProblem(version: string): string | undefined {
  if (version === "latest") return "`latest` is reserved; give the exact version";
  const trimmed = version.trim();
  const dotted = VERSION_RANGES.at(-1)?.test(trimmed) && /[xX*]/.test(trimmed);
  if (dotted || VERSION_RANGES.slice(0, -1).some((re) => re.test(trimmed)))
    return `${JSON.stringify(version)} is a range; give the exact version`;
  return undefined;
}

/** Whether a registry host is on a list of hosts (`ghcr.io`, `localhost:5000`) and `*.suffix` patterns. */
export function registryAllowed(host: string, allowed: readonly string[]): boolean {
  const canonical = (h: string) =>
    h.toLowerCase() === "docker.io" ? "index.docker.io" : h.toLowerCase();
  const wanted = canonical(host);
  return allowed.some((entry) =>
    entry.startsWith("*.")
      ? wanted.endsWith(entry.slice(1).toLowerCase())
      : canonical(entry) === wanted,
  );
}

/** An OCI package's identifier as an image reference, or why it is not one. */
export function parseOciIdentifier(
  identifier: string,
  index: number,
): OciPackage | { problem: string } {
  if (identifier.trim() === "")
    return { problem: "is empty: name the image, e.g. ghcr.io/owner/repo:1.0.0" };
  if (/\s/.test(identifier)) return { problem: "must not contain spaces" };
  const ref = parseImageRef(identifier);
  if (!IMAGE_NAME.test(ref.path))
    return {
      problem: `${JSON.stringify(identifier)} is not an image reference (lowercase repository, e.g. ghcr.io/owner/repo:1.0.0)`,
    };
  if (ref.tag !== undefined && !TAG_PATTERN.test(ref.tag))
    return { problem: `${JSON.stringify(ref.tag)} is not a valid image tag` };
  if (ref.digest !== undefined && !DIGEST.test(ref.digest))
    return { problem: `${JSON.stringify(ref.digest)} is not a digest (sha256:<hex>)` };
  const registry = ref.registry === "docker.io" ? "index.docker.io" : ref.registry;
  return {
    index,
    identifier,
    registry,
    repository: `${ref.registry}/${ref.path}`,
    tag: ref.tag,
    digest: ref.digest,
  };
}

function packageProblems(
  pkg: Record<string, unknown>,
  at: string,
  allowedRegistries: readonly string[],
  index: number,
): { problems: RegistryProblem[]; oci: OciPackage | undefined } {
  const problems: RegistryProblem[] = [];
  const problem = (field: string, message: string) =>
    problems.push({ at: field ? `${at}.${field}` : at, message, source: "registry" });
  const version = text(pkg.version);
  if (version !== undefined && version !== "") {
    const bad = versionProblem(version);
    if (bad) problem("version", bad);
  }
  if (pkg.registryType !== "oci") return { problems, oci: undefined };
  // OCI packages name their version in the identifier's tag, and the registry refuses the old fields.
  for (const field of ["registryBaseUrl", "version", "fileSha256"]) {
    if (pkg[field] !== undefined && pkg[field] !== "") {
      problem(
        field,
        field === "fileSha256"
          ? "OCI packages must not have fileSha256"
          : `OCI packages must not have ${field}: put the registry and the version in identifier (e.g. ghcr.io/owner/repo:1.0.0)`,
      );
    }
  }
  const identifier = text(pkg.identifier);
  if (identifier === undefined) return { problems, oci: undefined };
  const parsed = parseOciIdentifier(identifier, index);
  if ("problem" in parsed) {
    problem("identifier", parsed.problem);
    return { problems, oci: undefined };
  }
  if (!registryAllowed(parsed.registry, allowedRegistries)) {
    problem(
      "identifier",
      `${parsed.registry} is not an OCI registry the MCP Registry accepts (${allowedRegistries.join(", ")}); publish the image to one of them, or set mcp.registry.allowedRegistries for a private registry`,
    );
  }
  const transport = isObject(pkg.transport) ? pkg.transport : undefined;
  const url = text(transport?.url);
  if (url !== undefined && (transport?.type === "streamable-http" || transport?.type === "sse")) {
    const defined = new Set<string>();
    for (const list of [pkg.environmentVariables, pkg.runtimeArguments, pkg.packageArguments]) {
      for (const item of Array.isArray(list) ? list : []) {
        if (!isObject(item)) continue;
        for (const key of ["name", "valueHint"]) {
          const value = text(item[key]);
          if (value) defined.add(value);
        }
      }
    }
    const undefinedVars = [...url.matchAll(/\{([^}]+)\}/g)]
      .map((m) => m[1] ?? "")
      .filter((name) => !defined.has(name));
    if (undefinedVars.length) {
      problem(
        "transport.url",
        `uses {${undefinedVars.join("}, {")}}, which no environment variable or argument of the package defines`,
      );
    }
  }
  return { problems, oci: parsed };
}

/**
 * Validates a server.json's text as the MCP Registry would before publishing: its JSON Schema (the
 * vendored 2025-12-11 one; another `$schema` fails, since the gate cannot check against it), the
 * name and version rules, the repository URL, and for OCI packages no `version`,
 * `registryBaseUrl` or `fileSha256`, an identifier that is an image reference on an allowed
 * registry, and transport URL variables the package defines. A server.json listing no OCI
 * package fails too: the image would not be what the registry lists.
 */
export function validateServerJson(
  textOfFile: string,
  rules: { allowedRegistries: readonly string[] },
): ServerJsonResult {
  let doc: unknown;
  try {
    doc = JSON.parse(textOfFile);
  } catch (err) {
    return {
      problems: [{ at: "", message: `is not JSON: ${(err as Error).message}`, source: "registry" }],
      server: undefined,
    };
  }
  if (!isObject(doc)) {
    return {
      problems: [{ at: "", message: "must be a JSON object", source: "registry" }],
      server: undefined,
    };
  }
  const problems: RegistryProblem[] = [];
  const schemaUrl = text(doc.$schema);
  if (!schemaUrl) {
    problems.push({
      at: "$schema",
      message: `is required: set it to ${CURRENT_SCHEMA_URL}`,
      source: "registry",
    });
  } else if (!SCHEMAS[schemaUrl]) {
    problems.push({
      at: "$schema",
      message: `${schemaUrl} is not the schema this gate validates against; set it to ${CURRENT_SCHEMA_URL} (the registry's current one)`,
      source: "pipeline",
    });
  }
  const validate = schemaValidator();
  if (!validate(doc)) problems.push(...schemaProblems(validate.errors ?? []));

  const name = text(doc.name);
  if (name !== undefined) {
    const bad = serverNameProblem(name);
    if (bad) problems.push({ at: "name", message: bad, source: "registry" });
  }
  const version = text(doc.version);
  if (version !== undefined) {
    const bad = versionProblem(version);
    if (bad) problems.push({ at: "version", message: bad, source: "registry" });
  }
  if (isObject(doc.repository)) {
    const url = text(doc.repository.url) ?? "";
    const source = doc.repository.source;
    const valid =
      (source === "github" && GITHUB_REPOSITORY.test(url)) ||
      (source === "gitlab" && GITLAB_REPOSITORY.test(url) && !`${url}/`.includes("/-/"));
    if (url && typeof source === "string" && !valid) {
      problems.push({
        at: "repository.url",
        message: `${JSON.stringify(url)} is not a ${source} repository URL (https://${source}.com/owner/repo)`,
        source: "registry",
      });
    }
  }
  const oci: OciPackage[] = [];
  const packages = Array.isArray(doc.packages) ? doc.packages : [];
  for (const [index, pkg] of packages.entries()) {
    if (!isObject(pkg)) continue;
    const checked = packageProblems(pkg, `packages[${index}]`, rules.allowedRegistries, index);
    problems.push(...checked.problems);
    if (checked.oci) oci.push(checked.oci);
  }
  if (!packages.some((pkg) => isObject(pkg) && pkg.registryType === "oci")) {
    problems.push({
      at: "packages",
      message:
        'lists no OCI package, so the registry would not list this image: add { "registryType": "oci", "identifier": "<repository>:<version>", "transport": … }',
      source: "pipeline",
    });
  }
  return {
    problems,
    server: name !== undefined && version !== undefined ? { name, version, oci } : undefined,
  };
}

/**
 * The pipeline's rules about a release: server.json's version is the version the tag releases,
 * and on a release that publishes, an OCI identifier names the repository it publishes to and a
 * tag it pushes — what the registry will fetch is then this run's image.
 */
export function releaseProblems(server: ServerFacts, facts: ReleaseFacts): RegistryProblem[] {
  const { release, publishing } = facts;
  if (!release) return [];
  const problems: RegistryProblem[] = [];
  if (server.version !== release.version) {
    problems.push({
      at: "version",
      message: `is ${server.version}, but this run releases ${release.version}: set version (and the identifier's tag) to ${release.version} before tagging`,
      source: "pipeline",
    });
  }
  if (!publishing) return problems;
  const target = parseImageRef(publishing.repository);
  const published = `${target.registry === "docker.io" ? "index.docker.io" : target.registry}/${target.path}`;
  for (const pkg of server.oci) {
    const at = `packages[${pkg.index}].identifier`;
    if (`${pkg.registry}/${parseImageRef(pkg.identifier).path}` !== published) {
      problems.push({
        at,
        message: `names ${pkg.repository}, but this release publishes to ${publishing.repository}: the registry would check an image this run does not publish`,
        source: "pipeline",
      });
    } else if (pkg.digest !== undefined) {
      problems.push({
        at,
        message: `pins the digest ${pkg.digest}, which cannot be this release's image (its digest is known only once it is published): name the tag ${release.version} instead`,
        source: "pipeline",
      });
    } else if (!publishing.tags.includes(pkg.tag ?? "latest")) {
      problems.push({
        at,
        message: `names the tag ${pkg.tag ?? "latest"}, which this release does not push (it pushes ${publishing.tags.join(", ")})`,
        source: "pipeline",
      });
    }
  }
  return problems;
}

/** The label check on one platform's image config: undefined when it carries the server's name. */
export function labelProblem(
  labels: Readonly<Record<string, string>> | null | undefined,
  serverName: string,
): string | undefined {
  const value = labels?.[SERVER_NAME_LABEL];
  if (value === undefined || value === "") {
    return `the image has no ${SERVER_NAME_LABEL} label${value === "" ? " (it is empty)" : ""}`;
  }
  if (value !== serverName) {
    return `the image's ${SERVER_NAME_LABEL} label is ${JSON.stringify(value)}, not server.json's name ${JSON.stringify(serverName)}`;
  }
  return undefined;
}

/** A problem as one report line: `packages[0].identifier: …` (registry) or (pipeline). */
export function formatProblem(problem: RegistryProblem): string {
  const where = problem.at ? `${problem.at}: ` : "";
  return `${where}${problem.message} [${problem.source === "registry" ? "the MCP Registry refuses this too" : "mcp-pipeline rule"}]`;
}

/** Where the configuration says server.json is; undefined when the image is not an MCP server. */
export function serverJsonPath(cwd: string, config: Config): string | undefined {
  return config.mcp ? resolve(cwd, config.mcp.registry.serverJson) : undefined;
}

/**
 * The `name` of the configured server.json, for the image's label: undefined when the image is
 * not an MCP server, the file is absent, or it has no string name (the gate says why).
 */
export function readServerName(cwd: string, config: Config): string | undefined {
  const path = serverJsonPath(cwd, config);
  if (!path) return undefined;
  let textOfFile: string;
  try {
    textOfFile = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const doc = JSON.parse(textOfFile) as unknown;
    return isObject(doc) && typeof doc.name === "string" && doc.name !== "" ? doc.name : undefined;
  } catch {
    return undefined;
  }
}

/** The official MCP Registry's API. */
export const MCP_REGISTRY_URL = "https://registry.modelcontextprotocol.io";

/**
 * A server version's entry in an MCP Registry (`GET /v0.1/servers/{name}/versions/{version}`):
 * what the report links to once a publishing step has put it there.
 */
export function registryEntryUrl(name: string, version: string, base = MCP_REGISTRY_URL): string {
  return `${base.replace(/\/+$/, "")}/v0.1/servers/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
}

/**
 * server.json's text for a release of `version`: `version` set to it, and every OCI identifier
 * whose tag was the old version retagged with it; everything else as it was (two-space JSON).
 * Undefined when the text is not a JSON object with a string version (the gate says why).
 */
export function bumpServerJson(textOfFile: string, version: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(textOfFile);
  } catch {
    return undefined;
  }
  if (!isObject(doc) || typeof doc.version !== "string") return undefined;
  const previous = doc.version;
  doc.version = version;
  for (const pkg of Array.isArray(doc.packages) ? doc.packages : []) {
    if (!isObject(pkg) || pkg.registryType !== "oci" || typeof pkg.identifier !== "string")
      continue;
    const ref = parseImageRef(pkg.identifier);
    if (ref.tag === previous && ref.digest === undefined) {
      pkg.identifier = `${pkg.identifier.slice(0, -previous.length)}${version}`;
    }
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
