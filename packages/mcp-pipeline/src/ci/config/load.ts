import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { parseImageRef } from "../../host/image-ref.js";
import { ConfigError } from "../errors.js";
import { Config, type ConfigInput, IMAGE_NAME } from "./schema.js";

/** File names looked up in the working directory, in this order, when no file is given. */
export const CONFIG_FILE_NAMES = [
  "pipeline.config.yaml",
  "pipeline.config.yml",
  "pipeline.config.json",
] as const;

/** A recursive partial, for settings given as command-line flags. `undefined` means "not given". */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | undefined }
    : T;
export type ConfigOverrides = DeepPartial<ConfigInput>;

export interface LoadConfigOptions {
  /** Directory holding the config file, and against which `file` is resolved. */
  cwd: string;
  /** An explicit config file; otherwise the first of CONFIG_FILE_NAMES found in `cwd`, if any. */
  file?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Settings from command-line flags; they win over everything else. */
  overrides?: ConfigOverrides | undefined;
  /** How `overrides` are named in error messages. */
  overridesSource?: string | undefined;
}

/** One source of settings, named the way an error message should name it. */
interface Layer {
  source: string;
  values: Record<string, unknown>;
}

/**
 * Loads the configuration once, at the edge. Precedence, lowest first: defaults, the config
 * file, environment variables, `overrides`. The environment provides `PIPELINE_IMAGE`,
 * `PIPELINE_SIZE_BUDGET_MB`, `PIPELINE_TRIVY_SEVERITIES` and `PIPELINE_PLATFORMS` (comma
 * lists), `REGISTRY`, `REGISTRY_USERNAME` and `REKOR_URL`; on GitHub Actions, `GITHUB_REPOSITORY` and `GITHUB_ACTOR` supply a default
 * `ghcr.io/<owner>/<repo>` repository and username when nothing else names a registry or user.
 * After parsing, a missing `registry.repository` defaults to `<address>/<image.name>` and a
 * missing `registry.address` to the registry host of the repository.
 * Throws a ConfigError whose single message names the field, what was expected, what was given
 * and where it came from.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const layers: Layer[] = [];
  const file = options.file ?? findConfigFile(options.cwd);
  if (file !== undefined) layers.push(readConfigFile(options.cwd, file));
  layers.push(...envLayers(options.env));
  if (options.overrides !== undefined) {
    layers.push({
      source: options.overridesSource ?? "command-line options",
      values: options.overrides as Record<string, unknown>,
    });
  }
  layers.unshift(...githubDefaults(options.env, mergeLayers(layers)));

  const input = mergeLayers(layers);
  const result = Config.safeParse(input);
  if (!result.success) throw configErrorFrom(result.error, input, layers);
  const name = result.data.image.name ?? defaultImageName(options.cwd, result.data.image.context);
  return withRegistryDefaults({ ...result.data, image: { ...result.data.image, name } });
}

/** The config file `loadConfig` would read from `cwd`, or undefined when there is none. */
export function findConfigFile(cwd: string): string | undefined {
  const present = CONFIG_FILE_NAMES.filter((name) => existsSync(path.join(cwd, name)));
  if (present.length > 1) {
    throw new ConfigError(
      `found ${present.join(" and ")} in ${cwd}; keep one of them so it is clear which applies`,
    );
  }
  return present[0];
}

function readConfigFile(cwd: string, file: string): Layer {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  const source = relative.startsWith("..") || relative === "" ? absolute : relative;
  let raw: string;
  try {
    raw = readFileSync(absolute, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? "it does not exist"
        : (error as Error).message;
    throw new ConfigError(`cannot read config file ${source}: ${reason}`, {
      cause: error,
      source,
    });
  }
  const parsed = absolute.endsWith(".json") ? parseJson(raw, source) : parseYaml(raw, source);
  if (parsed === null || parsed === undefined) return { source, values: {} };
  if (!isPlainObject(parsed)) {
    throw new ConfigError(
      `${source}: expected a mapping of settings at the top level, got ${Array.isArray(parsed) ? "a list" : formatValue(parsed)}`,
      { source },
    );
  }
  return { source, values: parsed };
}

function parseYaml(raw: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(raw, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError(`${source}:${line}:${col}: malformed YAML: ${error.message}`, {
      cause: error,
      source,
    });
  }
  return doc.toJS();
}

function parseJson(raw: string, source: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    // Node 20 reports an offset ("at position 11"); newer Node also says "(line 2 column 3)".
    const lineCol = /line (\d+) column (\d+)/.exec(message);
    const position = /position (\d+)/.exec(message);
    let where = "";
    if (lineCol) where = `:${lineCol[1]}:${lineCol[2]}`;
    else if (position) {
      const before = raw.slice(0, Number(position[1]));
      const line = before.split("\n").length;
      const col = before.length - before.lastIndexOf("\n");
      where = `:${line}:${col}`;
    }
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, "");
    throw new ConfigError(`${source}${where}: malformed JSON: ${reason}`, {
      cause: error,
      source,
    });
  }
}

function envLayers(env: Readonly<Record<string, string | undefined>>): Layer[] {
  const layers: Layer[] = [];
  const add = (name: string, values: (value: string) => Record<string, unknown>): void => {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "")
      layers.push({ source: `$${name}`, values: values(value) });
  };
  add("PIPELINE_IMAGE", (name) => ({ image: { name } }));
  // A non-numeric value is passed through as text so the error can quote it.
  add("PIPELINE_SIZE_BUDGET_MB", (mb) => ({
    sizeBudget: { uncompressedMB: /^\d+(?:\.\d+)?$/.test(mb) ? Number(mb) : mb },
  }));
  add("PIPELINE_TRIVY_SEVERITIES", (list) => ({
    trivy: {
      severities: list
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    },
  }));
  add("PIPELINE_PLATFORMS", (list) => ({
    image: {
      platforms: list
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    },
  }));
  add("REGISTRY", (address) => ({ registry: { address } }));
  add("REGISTRY_USERNAME", (username) => ({ registry: { username } }));
  add("REKOR_URL", (rekorUrl) => ({ sign: { rekorUrl } }));
  return layers;
}

/** GitHub Actions defaults; they sit below the config file, so anything explicit wins. */
function githubDefaults(
  env: Readonly<Record<string, string | undefined>>,
  explicit: Record<string, unknown>,
): Layer[] {
  const layers: Layer[] = [];
  const registry = isPlainObject(explicit.registry) ? explicit.registry : {};
  const githubRepository = env.GITHUB_REPOSITORY?.trim();
  if (githubRepository && registry.address === undefined && registry.repository === undefined) {
    layers.push({
      source: "$GITHUB_REPOSITORY",
      values: {
        registry: { address: "ghcr.io", repository: `ghcr.io/${githubRepository.toLowerCase()}` },
      },
    });
  }
  const actor = env.GITHUB_ACTOR?.trim();
  if (actor && registry.username === undefined) {
    layers.push({ source: "$GITHUB_ACTOR", values: { registry: { username: actor } } });
  }
  return layers;
}

function withRegistryDefaults(config: Config): Config {
  const { address, repository } = config.registry;
  if (repository === undefined && address !== undefined) {
    return {
      ...config,
      registry: { ...config.registry, repository: `${address}/${config.image.name}` },
    };
  }
  if (address === undefined && repository !== undefined) {
    return {
      ...config,
      registry: { ...config.registry, address: parseImageRef(repository).registry },
    };
  }
  return config;
}

/**
 * The image name when none is configured: the build context's directory name
 * made into a valid image name, as Compose names projects (`My App` → `my-app`).
 */
export function defaultImageName(cwd: string, context: string): string {
  const name = path
    .basename(path.resolve(cwd, context))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return IMAGE_NAME.test(name) ? name : "app";
}

function mergeLayers(layers: readonly Layer[]): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) merged = deepMerge(merged, layer.values);
  return merged;
}

function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(value) && isPlainObject(current) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function configErrorFrom(error: z.ZodError, input: unknown, layers: readonly Layer[]): ConfigError {
  const problems: { field: string; source: string | undefined; message: string }[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const keyPath = [...issue.path, key];
        const field = keyPath.join(".");
        const source = sourceOf(keyPath, layers);
        const known = knownKeys(issue.path);
        const hint = known.length > 0 ? `; expected one of ${known.join(", ")}` : "";
        problems.push({
          field,
          source,
          message: `${field}: unknown setting${from(source)}${hint}`,
        });
      }
      continue;
    }
    const field = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    const source = sourceOf(issue.path, layers);
    // For a bad key the offending input is the key itself, not the value under it.
    const got =
      issue.code === "invalid_key"
        ? formatValue(issue.path.at(-1))
        : formatValue(valueAt(input, issue.path).value);
    problems.push({
      field,
      source,
      message: `${field}: ${issue.message}, got ${got}${from(source)}`,
    });
  }
  const first = problems[0];
  return new ConfigError(problems.map((problem) => problem.message).join("; "), {
    cause: error,
    field: first?.field,
    source: first?.source,
  });
}

function from(source: string | undefined): string {
  return source === undefined ? "" : ` (from ${source})`;
}

/** The highest-precedence layer that sets the value at `keyPath` (or a list containing it). */
function sourceOf(keyPath: readonly PropertyKey[], layers: readonly Layer[]): string | undefined {
  for (const layer of [...layers].reverse()) {
    let current: unknown = layer.values;
    let found = true;
    for (const key of keyPath) {
      // Lists are replaced whole when layers merge, so whoever set the list set the item.
      if (Array.isArray(current)) break;
      if (!isPlainObject(current) || current[String(key)] === undefined) {
        found = false;
        break;
      }
      current = current[String(key)];
    }
    if (found) return layer.source;
  }
  return undefined;
}

function valueAt(root: unknown, keyPath: readonly PropertyKey[]): { value: unknown } {
  let current: unknown = root;
  for (const key of keyPath) {
    if (Array.isArray(current) && typeof key === "number") current = current[key];
    else if (isPlainObject(current)) current = current[String(key)];
    else return { value: undefined };
  }
  return { value: current };
}

/** The keys the schema allows at `keyPath`, for "did you mean" hints. */
function knownKeys(keyPath: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = Config;
  for (const key of [...keyPath, undefined]) {
    // Peel `.default()`, `.prefault()` and `.optional()` wrappers to reach the object.
    while (
      schema instanceof z.ZodDefault ||
      schema instanceof z.ZodPrefault ||
      schema instanceof z.ZodOptional
    ) {
      schema = schema.unwrap() as z.ZodType;
    }
    if (!(schema instanceof z.ZodObject)) return [];
    if (key === undefined) return Object.keys(schema.shape);
    const next: z.ZodType | undefined = (schema.shape as Record<string, z.ZodType>)[String(key)];
    if (next === undefined) return [];
    schema = next;
  }
  return [];
}

/** Renders a value for an error message: strings quoted, long structures shortened. */
function formatValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
