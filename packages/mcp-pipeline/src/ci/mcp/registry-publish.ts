/**
 * What a release sends to an MCP Registry, and what the registry answered: pure functions from
 * server.json's text and the release's report to the server.json that is published, and from
 * mcp-publisher's output to the registry's reason for a refusal.
 */
import { parseImageRef } from "../../host/image-ref.js";

/** The release's published image, as report.json records it. */
export interface ReleasedImage {
  /** Every reference the release pushed, e.g. `ghcr.io/o/r:1.2.3`. */
  published: readonly string[];
  /** The digest all of them point at. */
  digest: string;
}

/** The server.json a release publishes, and the OCI identifiers it pinned. */
export interface PublishableServer {
  name: string;
  version: string;
  /** server.json's text with each released OCI identifier pinned to `repository:tag@digest`. */
  text: string;
  identifiers: string[];
}

/** The release cannot publish this server.json: nothing was sent to the registry. */
export class ServerJsonNotPublishableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `registry/path` with Docker Hub's aliases read as one. */
function repositoryKey(ref: string): string {
  const { registry, path } = parseImageRef(ref);
  return `${registry === "index.docker.io" || registry === "registry-1.docker.io" ? "docker.io" : registry}/${path}`;
}

/**
 * server.json as a release publishes it: every OCI package whose identifier names a reference
 * the release pushed (`repository:tag`) is pinned to that image by tag and digest
 * (`repository:tag@sha256:…`, which the registry accepts and pulls by the digest), so the entry
 * names exactly what was verified and signed. Everything else is sent as committed; the
 * mcp-registry gate already checked it before anything was published. Throws
 * ServerJsonNotPublishableError when the text is not a server.json with a name and a version,
 * or when no OCI package names an image this release pushed.
 */
export function publishableServerJson(text: string, image: ReleasedImage): PublishableServer {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ServerJsonNotPublishableError(`server.json is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!isObject(doc) || typeof doc.name !== "string" || typeof doc.version !== "string") {
    throw new ServerJsonNotPublishableError(
      "server.json is not an object with a string name and version",
    );
  }
  const pushed = new Map(
    image.published.map((ref) => [
      `${repositoryKey(ref)}:${parseImageRef(ref).tag ?? "latest"}`,
      ref,
    ]),
  );
  const identifiers: string[] = [];
  const named: string[] = [];
  for (const pkg of Array.isArray(doc.packages) ? doc.packages : []) {
    if (!isObject(pkg) || pkg.registryType !== "oci" || typeof pkg.identifier !== "string")
      continue;
    const identifier: string = pkg.identifier;
    named.push(identifier);
    const ref = parseImageRef(identifier);
    if (!pushed.has(`${repositoryKey(identifier)}:${ref.tag ?? "latest"}`)) continue;
    const name = identifier.split("@")[0] ?? identifier;
    const pinned = `${name}${ref.tag === undefined ? ":latest" : ""}@${image.digest}`;
    pkg.identifier = pinned;
    identifiers.push(pinned);
  }
  if (identifiers.length === 0) {
    throw new ServerJsonNotPublishableError(
      named.length === 0
        ? "server.json lists no OCI package, so there is no image to list"
        : `no OCI package of server.json names an image this release pushed (server.json names ${named.join(", ")}; the release pushed ${image.published.join(", ") || "nothing"})`,
    );
  }
  return {
    name: doc.name,
    version: doc.version,
    text: `${JSON.stringify(doc, null, 2)}\n`,
    identifiers,
  };
}

/**
 * The registry's words in mcp-publisher's output when it failed: the `detail` and the
 * `errors[].message` of the registry's JSON problem (`server returned status 400: {…}`), else
 * the lines of the publisher's own `Error:` and what it printed before it (the validation issues
 * of a 422), without the progress lines.
 */
export function publisherReason(output: string): string {
  const json = output.match(/server returned status (\d+): (\{.*\})\s*$/m);
  if (json?.[2]) {
    try {
      const problem = JSON.parse(json[2]) as {
        detail?: string;
        errors?: { message?: string; location?: string }[];
      };
      const messages = (problem.errors ?? [])
        .map((e) => e.message)
        .filter((m): m is string => Boolean(m));
      const parts = [problem.detail, ...messages].filter(Boolean);
      if (parts.length) return `${parts.join(": ")} (HTTP ${json[1]})`;
    } catch {
      // Not the registry's JSON: the line itself says it.
    }
  }
  const lines = output
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(
      (l) =>
        l !== "" &&
        !/^(Publishing |Logging in with |✓ |hint: token storage|Validation failed\. Checking)/.test(
          l,
        ),
    );
  return lines.join("\n").replace(/^Error: /m, "") || "mcp-publisher failed without saying why";
}

/** Whether the registry refused because this name and version are already listed. */
export function isDuplicateVersion(reason: string): boolean {
  return /cannot publish duplicate version/.test(reason);
}
