import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { execa } from "execa";
import { z } from "zod";
import { NETWORK_ENV } from "../../host/exec.js";
import { loadConfig } from "../config/load.js";
import { ConfigError } from "../errors.js";
import {
  isDuplicateVersion,
  type PublishableServer,
  publishableServerJson,
  publisherReason,
  ServerJsonNotPublishableError,
} from "../mcp/registry-publish.js";
import { MCP_REGISTRY_URL, registryEntryUrl, serverJsonPath } from "../mcp/server-json.js";
import { withFindIt } from "../report/markdown.js";
import { appendStepSummary } from "../report/report.js";
import type { PipelineReport } from "../report/schema.js";
import { PublishInputError, RegistryRefusedError } from "./mcp-registry-errors.js";
import { type AuthMethod, type PublishSettings, parseSettings } from "./mcp-registry-settings.js";

// `mcp-pipeline mcp-registry-publish`: after a release's image is published and signed, list its
// server.json in an MCP Registry with mcp-publisher, pinned to the released digest, then read the
// entry back and add it to report.json and report.md (the release notes). It never touches the
// image: a refused publish leaves the release as it was, and running it again publishes it.

/** Exit codes: the entry point alone maps outcomes to them. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** What the release's report.json must say before its server can be listed. */
const ReleaseReport = z
  .object({
    ok: z.boolean(),
    image: z.object({ ref: z.string(), digest: z.string().nullable() }).loose(),
    published: z.array(z.string()),
    mcpRegistry: z.object({ name: z.string(), entry: z.string().nullable() }).optional(),
  })
  .loose();

export interface PublishDeps {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The pinned mcp-publisher, built when missing. */
  publisher(): Promise<string>;
  out(text: string): void;
  err(text: string): void;
}

export interface Published {
  name: string;
  version: string;
  entry: string;
  identifiers: string[];
  /** `false` when the registry already listed exactly this release (a re-run). */
  created: boolean;
}

/** report.json of the release, checked: it passed and published a digest. */
function readRelease(reportDir: string): { report: PipelineReport; digest: string } {
  const file = join(reportDir, "report.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new PublishInputError(
      `cannot read the release's ${file}: ${(err as Error).message}. Run it where the pipeline wrote its report (on GitHub, download the pipeline-report artifact first).`,
      { cause: err },
    );
  }
  const parsed = ReleaseReport.safeParse(raw);
  if (!parsed.success)
    throw new PublishInputError(
      `${file} is not a pipeline report: ${parsed.error.issues[0]?.message}`,
    );
  const report = parsed.data as unknown as PipelineReport;
  if (!report.ok)
    throw new PublishInputError(
      `${file} is of a run that failed: only a release that passed is listed`,
    );
  if (!report.image.digest || report.published.length === 0)
    throw new PublishInputError(
      `${file} published nothing: only a release that published its image is listed`,
    );
  return { report, digest: report.image.digest };
}

/** The server.json the release lists: the configured file, pinned to the released digest. */
function releasedServer(
  deps: PublishDeps,
  report: PipelineReport,
  digest: string,
): PublishableServer {
  const config = loadConfig({ cwd: deps.cwd, env: deps.env });
  const path = serverJsonPath(deps.cwd, config);
  if (!path)
    throw new PublishInputError(
      "the configuration declares no MCP server (mcp:), so there is no server.json to list",
    );
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new PublishInputError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return publishableServerJson(text, { published: report.published, digest });
  } catch (err) {
    if (err instanceof ServerJsonNotPublishableError)
      throw new PublishInputError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * mcp-publisher's environment: a HOME of this run's own (its token file lives there and goes
 * with it), what it needs to reach the network, and the OIDC request variables for github-oidc.
 * No other variable of ours (no token) reaches it.
 */
function publisherEnv(
  env: NodeJS.ProcessEnv,
  home: string,
  auth: AuthMethod,
): Record<string, string> {
  const keep = [
    "PATH",
    ...NETWORK_ENV,
    "SSL_CERT_DIR",
    ...(auth === "github-oidc"
      ? ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
      : []),
  ];
  const out: Record<string, string> = { HOME: home };
  for (const key of keep) if (env[key] !== undefined) out[key] = env[key] as string;
  return out;
}

async function runPublisher(bin: string, args: string[], env: Record<string, string>, cwd: string) {
  const res = await execa(bin, args, {
    env,
    extendEnv: false,
    cwd,
    all: true,
    reject: false,
    timeout: 120_000,
  });
  return { ok: res.exitCode === 0, output: String(res.all ?? "") };
}

/** Logs mcp-publisher in: its own login for github-oidc and none; the given token written to its token file. */
async function login(
  bin: string,
  settings: PublishSettings,
  home: string,
  env: Record<string, string>,
): Promise<void> {
  if (settings.auth === "token") {
    // mcp-publisher has no login taking a registry token: it keeps one in this file (0600), which
    // is what `login` writes. So the token never appears in a command line.
    const dir = join(home, ".config", "mcp-publisher");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(
      join(dir, "token.json"),
      JSON.stringify({ token: settings.token, method: "token", registry: settings.url }),
      { mode: 0o600 },
    );
    return;
  }
  const res = await runPublisher(
    bin,
    ["login", settings.auth, "--registry", settings.url],
    env,
    home,
  );
  if (!res.ok) {
    const reason = publisherReason(res.output);
    throw new RegistryRefusedError(
      `logging in to ${settings.url} (${settings.auth}) failed: ${reason}`,
      reason,
    );
  }
}

/** GET the entry of name@version; undefined when the registry does not list it. */
async function readEntry(
  url: string,
): Promise<{ version: string; identifiers: string[] } | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new RegistryRefusedError(`could not read ${url}: ${cause}`, cause, { cause: err });
  }
  if (res.status === 404) return undefined;
  if (!res.ok)
    throw new RegistryRefusedError(`reading ${url} answered HTTP ${res.status}`, await res.text());
  const body = (await res.json()) as {
    server?: { version?: string; packages?: { identifier?: string }[] };
  };
  return {
    version: body.server?.version ?? "",
    identifiers: (body.server?.packages ?? []).map((p) => p.identifier ?? ""),
  };
}

/**
 * Publishes the release's server.json as `deps` and the environment say, reads the entry back,
 * and records it in the report. Throws PublishInputError (nothing sent) or RegistryRefusedError
 * (the registry's words).
 */
export async function publishToMcpRegistry(
  opts: { reportDir: string },
  deps: PublishDeps,
): Promise<Published> {
  const settings = parseSettings(deps.env);
  const reportDir = resolve(deps.cwd, opts.reportDir);
  const { report, digest } = readRelease(reportDir);
  const server = releasedServer(deps, report, digest);
  const entry = registryEntryUrl(server.name, server.version, settings.url);
  const say = (line: string) => deps.err(`mcp-registry: ${line}\n`);
  say(
    `publishing ${server.name} ${server.version} (${server.identifiers.join(", ")}) to ${settings.url} as ${settings.auth}`,
  );
  const bin = await deps.publisher();
  const home = mkdtempSync(join(tmpdir(), "mcp-publisher-"));
  chmodSync(home, 0o700);
  let created = true;
  try {
    const env = publisherEnv(deps.env, home, settings.auth);
    await login(bin, settings, home, env);
    const file = join(home, "server.json");
    writeFileSync(file, server.text);
    const res = await runPublisher(bin, ["publish", file], env, home);
    if (!res.ok) {
      const reason = publisherReason(res.output);
      // A re-run after the entry was made: the registry lists this version already. Fine when
      // it lists exactly this release's image; anything else is the registry's refusal.
      const listed = isDuplicateVersion(reason) ? await readEntry(entry) : undefined;
      if (!listed || listed.identifiers.join(" ") !== server.identifiers.join(" ")) {
        throw new RegistryRefusedError(
          `${settings.url} refused ${server.name} ${server.version}: ${reason}`,
          reason,
        );
      }
      say("already listed with this release's image (a re-run): nothing to do");
      created = false;
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const listed = await readEntry(entry);
  if (
    !listed ||
    listed.version !== server.version ||
    listed.identifiers.join(" ") !== server.identifiers.join(" ")
  ) {
    throw new RegistryRefusedError(
      `${settings.url} accepted ${server.name} ${server.version}, but ${entry} ${listed ? `lists ${listed.version} with ${listed.identifiers.join(", ")}` : "does not list it"}`,
      "the entry read back is not what was published",
    );
  }
  recordEntry(reportDir, report, server.name, entry);
  await appendStepSummary(
    `### MCP Registry\n\n\`${server.name}\` ${server.version} is listed: ${entry} (${server.identifiers.join(", ")})\n`,
    deps.env.GITHUB_STEP_SUMMARY || undefined,
  );
  say(`listed: ${entry}`);
  return {
    name: server.name,
    version: server.version,
    entry,
    identifiers: server.identifiers,
    created,
  };
}

/** report.json's mcpRegistry gains the entry; report.md's "Find it" section (the release notes) shows it. */
function recordEntry(reportDir: string, report: PipelineReport, name: string, entry: string): void {
  const updated: PipelineReport = { ...report, mcpRegistry: { name, entry } };
  writeFileSync(join(reportDir, "report.json"), `${JSON.stringify(updated, null, 2)}\n`);
  const md = join(reportDir, "report.md");
  let markdown = "";
  try {
    markdown = readFileSync(md, "utf8");
  } catch {
    // No report.md beside it: the section alone is still worth writing.
  }
  writeFileSync(md, withFindIt(markdown, updated));
}

/**
 * `mcp-registry-publish [--report-dir DIR]` as `argv` asks; resolves to the exit code: 0 listed,
 * 1 the registry refused (or could not be reached), 2 bad input (nothing was sent).
 */
export async function mcpRegistryPublish(argv: string[], deps: PublishDeps): Promise<number> {
  const program = new Command("mcp-registry-publish")
    .description(
      "List a release's server.json in an MCP Registry with mcp-publisher, pinned to the released image's digest, then add the entry to report.json and report.md.",
    )
    .option(
      "--report-dir <dir>",
      "the release's pipeline-report directory (default: the configuration's reportDir)",
    )
    .addHelpText(
      "after",
      `
Environment: MCP_REGISTRY_URL (default ${MCP_REGISTRY_URL}); MCP_REGISTRY_AUTH github-oidc | token | none
(default: token when MCP_REGISTRY_TOKEN is set, github-oidc on GitHub Actions with id-token: write).
Exit codes: 0 listed, 1 the registry refused, 2 bad input (nothing was sent).
`,
    )
    .exitOverride()
    .configureOutput({ writeOut: deps.out, writeErr: deps.err })
    .showHelpAfterError();
  try {
    program.parse(argv);
    const { reportDir } = program.opts<{ reportDir?: string }>();
    const dir = reportDir ?? loadConfig({ cwd: deps.cwd, env: deps.env }).reportDir;
    const published = await publishToMcpRegistry({ reportDir: dir }, deps);
    deps.out(`${published.entry}\n`);
    return EXIT.ok;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version") return EXIT.ok;
    if (code?.startsWith("commander.")) return EXIT.badInput;
    if (err instanceof PublishInputError || err instanceof ConfigError) {
      deps.err(`mcp-registry: nothing was published: ${(err as Error).message}\n`);
      return EXIT.badInput;
    }
    if (err instanceof RegistryRefusedError) {
      deps.err(
        `mcp-registry: ${err.message}\nThe image and its signatures stay published; fix the cause and run this again (on GitHub, re-run the failed job).\n`,
      );
      return EXIT.failed;
    }
    deps.err(`mcp-registry: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
}
