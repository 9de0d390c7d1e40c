import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { Document, Pair, Scalar, type YAMLMap, YAMLSeq } from "yaml";
import { PACKAGE_ROOT } from "../package-root.js";
import { type RepositoryFacts, readRepository } from "./detect.js";

/** Where `init` writes, relative to the repository. */
export const CONFIG_FILE = "pipeline.config.yaml";
export const WORKFLOW_FILE = ".github/workflows/container.yml";

/** The package's manifest fields `init` needs: its name, version and home on GitHub. */
function packageInfo(): { name: string; major: number; repository: string } {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as {
    name: string;
    version: string;
    repository?: { url?: string };
  };
  const repository =
    /github\.com[/:]([^/]+\/[^/.]+)/.exec(manifest.repository?.url ?? "")?.[1] ??
    "mcp-pipeline/mcp-pipeline";
  return { name: manifest.name, major: Number(manifest.version.split(".")[0]), repository };
}

export interface InitFile {
  path: string;
  text: string;
  /** `written`, `exists` (left alone without --force) or `would write` (--dry-run). */
  outcome: "written" | "exists" | "would write";
}

export interface InitResult {
  facts: RepositoryFacts;
  files: InitFile[];
  /** What the gates will say about the repository as it is, and what to do. */
  notes: string[];
}

/** The starting configuration for what the repository has; comments say what was read where. */
export function renderConfig(facts: RepositoryFacts): string {
  const { name } = packageInfo();
  const config: Record<string, Record<string, unknown>> = { image: { name: facts.name } };
  if (facts.dockerfile && facts.dockerfile !== "Dockerfile") {
    (config.image as Record<string, unknown>).dockerfile = facts.dockerfile;
  }
  const compose = facts.compose;
  if (compose) {
    const port = compose.port ?? facts.image?.expose[0];
    config.compose = {
      file: compose.file,
      ...(compose.service ? { service: compose.service } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(facts.mcp.evidence && compose.service ? { smoke: { mcp: { expectTools: [] } } } : {}),
    };
  }
  if (facts.mcp.evidence) config.mcp = { path: "/mcp" };
  const doc = new Document(config);
  doc.commentBefore = [
    ` yaml-language-server: $schema=./node_modules/${name}/schema/pipeline.config.schema.json`,
    ` Written by \`${name} init\` from this repository; every field and its default: docs/configuration.md`,
  ].join("\n");
  const mcp = doc.get("mcp", true) as YAMLMap | undefined;
  if (mcp) {
    mcp.commentBefore = ` An MCP server (${facts.mcp.evidence}): conformance and the tool contract are checked.`;
    const { revisions, revisionsWhy } = facts.mcp;
    if (revisions) {
      // Written out even when it is the default, so the file says what the server claims and why.
      const key = new Scalar("revisions");
      key.commentBefore = ` ${revisionsWhy}.`;
      const list = new YAMLSeq();
      list.flow = true;
      for (const revision of revisions) {
        const item = new Scalar(revision);
        item.type = Scalar.QUOTE_DOUBLE;
        list.items.push(item);
      }
      (mcp as YAMLMap).items.push(new Pair(key, list));
    } else if (revisionsWhy) {
      mcp.comment = ` mcp.revisions is left at its default: ${revisionsWhy}.`;
    }
  }
  return doc.toString({ lineWidth: 100, flowCollectionPadding: false });
}

/** The workflow that runs the pipeline on pull requests, the default branch and release tags. */
export function renderWorkflow(): string {
  const { repository, major } = packageInfo();
  const uses = `${repository}/.github/workflows/pipeline.yml@v${major}`;
  return `# Runs the container pipeline: pull requests verify with a read-only token; the default branch
# publishes edge and sha-<7>; vX.Y.Z tags publish X.Y.Z, X.Y, X and latest, signed keylessly.
name: container

on:
  pull_request:
  push:
    branches: [main]
    tags: ["v*.*.*"]

permissions:
  contents: read

jobs:
  verify:
    if: github.event_name == 'pull_request'
    permissions:
      contents: read
      security-events: write # Trivy SARIF to code scanning
      actions: read
    uses: ${uses}

  publish:
    if: github.event_name == 'push'
    permissions:
      contents: read
      packages: write # push to ghcr.io/<owner>/<repo>
      id-token: write # sign keylessly (cosign, Sigstore)
      security-events: write # Trivy SARIF to code scanning
      actions: read
    uses: ${uses}
`;
}

/** What the gates will find in the repository as it is. */
function notesFor(facts: RepositoryFacts): string[] {
  const notes: string[] = [];
  if (!facts.dockerfile) {
    notes.push("no Dockerfile here: write one (or set image.dockerfile) before the first run");
    return notes;
  }
  const image = facts.image;
  if (image && (!image.user || /^(0|root)(:|$)/.test(image.user))) {
    notes.push(
      `${facts.dockerfile} runs as root (USER ${image.user ?? "unset"}): the non-root gate will fail; add \`USER 1000:1000\` to the final stage`,
    );
  }
  if (image && !image.healthcheck) {
    notes.push(
      `${facts.dockerfile} declares no HEALTHCHECK: the healthcheck gate will fail; add one to the final stage`,
    );
  }
  if (!facts.compose) {
    notes.push("no compose file: compose-smoke and the MCP gates are skipped until there is one");
  } else if (!facts.compose.service) {
    notes.push(
      `no service in ${facts.compose.file} builds this repository's ${facts.dockerfile}: set compose.service to the one that runs the image`,
    );
  }
  if (facts.mcp.evidence && facts.compose?.service) {
    notes.push(
      `run \`${packageInfo().name} contract --update\` once to write mcp-contract.json, then commit it`,
    );
  }
  return notes;
}

/**
 * Writes `pipeline.config.yaml` and `.github/workflows/container.yml` for the repository in `dir`
 * from what it has. A file that exists is left alone unless `force`; `dryRun` writes nothing.
 */
export async function initRepository(
  dir: string,
  options: { force: boolean; dryRun: boolean },
): Promise<InitResult> {
  const facts = readRepository(dir);
  const files = [
    { path: CONFIG_FILE, text: renderConfig(facts) },
    { path: WORKFLOW_FILE, text: renderWorkflow() },
  ].map(({ path, text }): InitFile => {
    const target = join(dir, path);
    if (options.dryRun) return { path, text, outcome: "would write" };
    if (existsSync(target) && !options.force) return { path, text, outcome: "exists" };
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic.sync(target, text);
    return { path, text, outcome: "written" };
  });
  return { facts, files, notes: notesFor(facts) };
}

/** What `init` prints: each file and what happened to it, then the notes. */
export function renderInitResult(result: InitResult): string {
  const lines: string[] = [];
  for (const file of result.files) {
    if (file.outcome === "would write") lines.push(`--- ${file.path}`, file.text.trimEnd(), "");
    else if (file.outcome === "exists")
      lines.push(`kept ${file.path} (it exists; --force replaces it)`);
    else lines.push(`wrote ${file.path}`);
  }
  if (result.notes.length > 0)
    lines.push("", "Before the first run:", ...result.notes.map((n) => `  - ${n}`));
  return `${lines.join("\n")}\n`;
}
