import { readFile } from "node:fs/promises";
import { fileHash } from "../cache/results.js";
import { inspectImage } from "../docker/docker.js";
import {
  formatProblem,
  labelProblem,
  releaseProblems,
  SERVER_NAME_LABEL,
  serverJsonPath,
  validateServerJson,
} from "../mcp/server-json.js";
import type { Check, CheckContext, CheckOutcome } from "./check.js";
import { NOT_MCP } from "./mcp-conformance.js";

/** How the Dockerfile takes the name the pipeline passes (server.json's), in the final stage. */
const LABEL_HOWTO = [
  "The pipeline passes server.json's name as the build argument MCP_SERVER_NAME. In the final stage of the Dockerfile, for every platform:",
  "  ARG MCP_SERVER_NAME",
  `  LABEL ${SERVER_NAME_LABEL}="\${MCP_SERVER_NAME}"`,
];

/** What an MCP server without server.json reports: not a failure, and how to become listable. */
function noServerJson(file: string): CheckOutcome {
  return {
    status: "skipped",
    summary: `no ${file}: the image cannot be listed in the MCP Registry`,
    details: [
      `To list the server in the official MCP Registry, commit ${file} (https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json) with`,
      '  "name": "io.github.<owner>/<repo>", "version", "description", and a package',
      '  { "registryType": "oci", "identifier": "ghcr.io/<owner>/<repo>:<version>", "transport": { … } }',
      ...LABEL_HOWTO,
      "Then this gate checks both before anything is published (docs/gates.md, mcp-registry).",
    ],
  };
}

/** What the gate decides from, read by `checkRegistry`. */
export interface RegistryInputs {
  /** server.json's path as configured, as messages name it. */
  file: string;
  /** Its text; undefined when it does not exist. */
  text: string | undefined;
  allowedRegistries: readonly string[];
  release: CheckContext["release"];
  publishing: CheckContext["publishing"];
  /** This platform's image config labels. */
  labels: Readonly<Record<string, string>> | null | undefined;
}

/** The gate's verdict on one platform's image, from what it read. */
export function registryOutcome(inputs: RegistryInputs): CheckOutcome {
  const { file, text, labels } = inputs;
  if (text === undefined) return noServerJson(file);
  const { problems, server } = validateServerJson(text, {
    allowedRegistries: inputs.allowedRegistries,
  });
  if (server) {
    problems.push(
      ...releaseProblems(server, { release: inputs.release, publishing: inputs.publishing }),
    );
  }
  const label = server ? labelProblem(labels, server.name) : undefined;
  const details = [
    ...problems.map((p) => `${file}: ${formatProblem(p)}`),
    ...(label ? [`${label} [mcp-pipeline rule: every platform's image]`, ...LABEL_HOWTO] : []),
  ];
  const [first] = problems;
  const failures = [
    ...(first
      ? [
          `${file}: ${first.at ? `${first.at} ` : ""}${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`,
        ]
      : []),
    ...(label ? [label] : []),
  ];
  if (!server) {
    return { status: "failed", summary: failures.join("; "), details };
  }
  const { release, publishing } = inputs;
  const facts = [
    `name ${server.name}, version ${server.version}`,
    ...server.oci.map((p) => `OCI package: ${p.identifier} (registry ${p.registry})`),
    `${SERVER_NAME_LABEL}=${labels?.[SERVER_NAME_LABEL] ?? "(absent)"}`,
    release
      ? `release ${release.version}${publishing ? `, publishing to ${publishing.repository} as ${publishing.tags.join(", ")}` : ""}`
      : "not a release: version and identifier are compared with the release on a release tag",
    "Not checked here (the registry does it when publishing): that the image is public (it pulls anonymously) and that you may publish in the name's namespace.",
  ];
  if (failures.length) {
    return { status: "failed", summary: failures.join("; "), details: [...details, ...facts] };
  }
  return {
    status: "passed",
    summary: `${server.name} ${server.version}: server.json is valid and the image carries its name`,
    details: facts,
  };
}

async function checkRegistry(ctx: CheckContext): Promise<CheckOutcome> {
  const mcp = ctx.config.mcp;
  const path = serverJsonPath(ctx.cwd, ctx.config);
  if (!mcp || !path) return { ...NOT_MCP, details: [...NOT_MCP.details] };
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  return registryOutcome({
    file: mcp.registry.serverJson,
    text,
    allowedRegistries: mcp.registry.allowedRegistries,
    release: ctx.release,
    publishing: ctx.publishing,
    labels: text === undefined ? undefined : (await inspectImage(ctx.image)).Config.Labels,
  });
}

/**
 * `mcp-registry`: what the official MCP Registry checks before it lists the image — server.json
 * against its JSON Schema and its own rules (name, version, OCI packages with no version,
 * registryBaseUrl or fileSha256, an identifier on an allowed registry) — and, stricter, that every
 * platform's image carries `io.modelcontextprotocol.server.name` = server.json's name (the
 * registry reads one platform), and on a release that the version is the release's and the
 * identifier names what this run publishes. Skipped for images not declared MCP servers, and,
 * saying how to add one, when there is no server.json.
 */
export const mcpRegistry: Check = {
  id: "mcp-registry",
  perPlatform: true,
  cacheKey: async (ctx) => {
    const path = serverJsonPath(ctx.cwd, ctx.config);
    return {
      registry: ctx.config.mcp?.registry,
      serverJson: path ? fileHash(path) : undefined,
      release: ctx.release?.version,
      // Only a release compares server.json with where the run publishes.
      publishing: ctx.release ? ctx.publishing : undefined,
    };
  },
  run: checkRegistry,
};
