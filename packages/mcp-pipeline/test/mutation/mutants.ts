/**
 * The mutation audit: one-line bugs of the kind a careless edit makes, in logic users depend on.
 * `npm run audit:mutations` applies each to a scratch copy of the repository and runs the unit
 * project against it; a mutant the unit tests do not fail has "survived". Each `from` must occur
 * exactly once in its file (test/mutation/mutants.test.ts keeps the list in step with the code).
 */
export interface Mutant {
  id: string;
  file: string;
  from: string;
  to: string;
  /** What a user would suffer if the bug shipped. */
  harm: string;
  /**
   * Set when no unit test can reach the line and only an end-to-end test does: why, and which
   * test kills it. The audit still runs it and reports it apart.
   */
  e2eOnly?: string;
}

export const MUTANTS: readonly Mutant[] = [
  // The four survivors of the audit in the issue.
  {
    id: "tags-single-prerelease",
    file: "packages/mcp-pipeline/src/ci/git/tags.ts",
    from: "if (version.prerelease.length > 0) return",
    to: "if (version.prerelease.length > 1) return",
    harm: "v2.0.0-rc1 is tagged latest, 2.0 and 2",
  },
  {
    id: "download-checksum-inverted",
    file: "packages/mcp-pipeline/src/toolchain/download.ts",
    from: "if (actual !== expected) {",
    to: "if (actual === expected) {",
    harm: "setup installs a tampered download and refuses the genuine one",
  },
  {
    id: "conformance-stale-baseline",
    file: "packages/mcp-pipeline/src/ci/mcp/conformance.ts",
    from: 'const stale = count("unexpectedly-passed");',
    to: 'const stale = count("unexpectedly-passed").filter(() => false);',
    harm: "a baseline entry that now passes no longer fails the gate, so the baseline rots",
  },
  {
    id: "replay-key-base-digests",
    file: "packages/mcp-pipeline/src/ci/replay/key.ts",
    from: "      bases,\n    },",
    to: "    },",
    harm: "a base image updated under the same tag is replayed, not rebuilt",
  },
  // Tag rules.
  {
    id: "tags-bare-zero-major",
    file: "packages/mcp-pipeline/src/ci/git/tags.ts",
    from: "if (version.major > 0) tags.push(",
    to: "if (version.major >= 0) tags.push(",
    harm: "a 0.x release also moves the tag 0",
  },
  {
    id: "tags-pull-request-published",
    file: "packages/mcp-pipeline/src/ci/git/tags.ts",
    from: "const publish = opts.publishOnPullRequest === true;",
    to: "const publish = opts.publishOnPullRequest !== false;",
    harm: "every pull request pushes an image",
  },
  {
    id: "tags-latest-always",
    file: "packages/mcp-pipeline/src/ci/git/tags.ts",
    from: 'if (latest) tags.push("latest");',
    to: 'tags.push("latest");',
    harm: "tags.latest: false is ignored",
  },
  {
    id: "release-same-version",
    file: "packages/mcp-pipeline/src/ci/release/version.ts",
    from: "if (!semver.gt(to, from)) {",
    to: "if (semver.lt(to, from)) {",
    harm: "npm run release re-releases the current version",
  },
  // Gates' verdicts.
  {
    id: "size-compressed-ignored",
    file: "packages/mcp-pipeline/src/ci/checks/size.ts",
    from: "const failed = overUncompressed > 0 || (overCompressed ?? 0) > 0;",
    to: "const failed = overUncompressed > 0;",
    harm: "an image over its compressed budget passes",
  },
  {
    id: "size-at-budget-fails",
    file: "packages/mcp-pipeline/src/ci/checks/size.ts",
    from: "const failed = overUncompressed > 0 ||",
    to: "const failed = overUncompressed >= 0 ||",
    harm: "an image exactly at its budget fails",
  },
  {
    id: "non-root-saved-uid",
    file: "packages/mcp-pipeline/src/ci/checks/non-root.ts",
    from: "uids.effective === 0 || uids.saved === 0;",
    to: "uids.effective === 0;",
    harm: "a process that can regain root through its saved UID passes non-root",
  },
  {
    id: "non-root-group-as-user",
    file: "packages/mcp-pipeline/src/ci/checks/non-root.ts",
    from: 'const name = (user ?? "").split(":")[0] ?? "";',
    to: 'const name = (user ?? "").split(":").at(-1) ?? "";',
    harm: "USER 0:1000 is read as UID 1000 and passes",
  },
  {
    id: "trivy-secret-severity",
    file: "packages/mcp-pipeline/src/ci/checks/trivy-report.ts",
    from: "const secrets = parsed.secrets.toSorted(bySeverity);",
    to: "const secrets = parsed.secrets.filter((s) => gated.has(s.severity)).toSorted(bySeverity);",
    harm: "a LOW or MEDIUM secret in the image passes the gate",
  },
  {
    id: "trivy-misconfig-pass-status",
    file: "packages/mcp-pipeline/src/ci/checks/trivy-report.ts",
    from: '.filter((m) => m.status === "FAIL" && gated.has(m.severity))',
    to: ".filter((m) => gated.has(m.severity))",
    harm: "misconfiguration checks that passed fail the gate",
  },
  {
    id: "platforms-merge-failed",
    file: "packages/mcp-pipeline/src/ci/stages/verify.ts",
    from: "const status = failed.length\n",
    to: "const status = failed.length === results.length\n",
    harm: "a check that fails on arm64 only passes the merged result",
  },
  {
    id: "conformance-exit-code-ignored",
    file: "packages/mcp-pipeline/src/ci/mcp/conformance.ts",
    from: "if (run.exitCode !== exitWanted) {",
    to: "if (run.exitCode === undefined) {",
    harm: "a suite that exits 1 while its checks.json looks clean passes",
  },
  {
    id: "contract-minor-accepts-breaking",
    file: "packages/mcp-pipeline/src/ci/mcp/contract.ts",
    from: "if (semver.major(to) > semver.major(from)) return",
    to: "if (semver.major(to) >= semver.major(from)) return",
    harm: "a minor release is allowed to break the tool contract",
  },
  {
    id: "contract-hint-direction",
    file: "packages/mcp-pipeline/src/ci/mcp/contract-diff.ts",
    from: 'if (to === hint.safe) report(ctx, "compatible"',
    to: 'if (to !== undefined) report(ctx, "compatible"',
    harm: "a tool that becomes destructive is reported as a compatible change",
  },
  {
    id: "smoke-first-revision-only",
    file: "packages/mcp-pipeline/src/ci/smoke/mcp.ts",
    from: "for (const revision of revisions) {",
    to: "for (const revision of revisions.slice(0, 1)) {",
    harm: "the compose smoke calls the tools under the first claimed revision only",
  },
  {
    id: "revision-differences-ignored",
    file: "packages/mcp-pipeline/src/ci/mcp/contract-revisions.ts",
    from: "const undeclared = [...differing].filter((tool) => !allowed.has(tool)).sort();",
    to: "const undeclared = [...differing].filter(() => false).sort();",
    harm: "tools that differ between the claimed revisions pass the contract gate undeclared",
  },
  {
    id: "fixture-check-always-set-aside",
    file: "packages/mcp-pipeline/src/ci/mcp/conformance-plan.ts",
    from: 'if ("tool" in need && !tools.has(need.tool)) {',
    to: 'if ("tool" in need) {',
    harm: "a server that lists the suite's diagnostic tool gets that check set aside instead of counted",
  },
  {
    id: "per-check-baseline-excuses-all",
    file: "packages/mcp-pipeline/src/ci/mcp/conformance.ts",
    from: '([id, s]) => s === "FAILURE" && !expected.checks.has(id),',
    to: '([, s]) => s === "FAILURE" && false,',
    harm: "a baseline entry naming one check excuses every failing check of the scenario",
  },
  {
    id: "smoke-tool-error-ignored",
    file: "packages/mcp-pipeline/src/ci/smoke/mcp.ts",
    from: "if (result.isError) throw new Error(",
    to: "if (result.isError === undefined) throw new Error(",
    harm: "the compose smoke passes a tool call that returned isError",
  },
  {
    id: "health-unhealthy-after",
    file: "packages/mcp-pipeline/src/ci/checks/healthcheck.ts",
    from: "formatDuration(startPeriod + retries * interval)",
    to: "formatDuration(retries * interval)",
    harm: "the report understates how long a failing deployment takes to turn unhealthy",
  },
  // Redaction.
  {
    id: "redact-base64",
    file: "packages/mcp-pipeline/src/ci/report/redact.ts",
    from: 'needles.add(Buffer.from(secret).toString("base64"));',
    to: "",
    harm: "a registry password leaks in a Docker config or a Basic auth header",
  },
  {
    id: "redact-url-encoded",
    file: "packages/mcp-pipeline/src/ci/report/redact.ts",
    from: "needles.add(encodeURIComponent(secret));",
    to: "",
    harm: "a secret with reserved characters leaks in a URL",
  },
  {
    id: "redact-check-details",
    file: "packages/mcp-pipeline/src/ci/report/report.ts",
    from: "details: check.details.map(r),",
    to: "details: check.details,",
    harm: "a secret in a check's details reaches report.json and report.md",
  },
  // Replay and cache keys.
  {
    id: "cache-keeps-failures",
    file: "packages/mcp-pipeline/src/ci/cache/results.ts",
    from: 'if (result.status === "failed") return;',
    to: "",
    harm: "a failed check is served from the cache after its cause is fixed",
  },
  {
    id: "cache-fingerprint-paths-only",
    file: "packages/mcp-pipeline/src/ci/cache/results.ts",
    from: "hash.update(path.slice(root.length)).update(readFileSync(path));",
    to: "hash.update(path.slice(root.length));",
    harm: "a fix to a gate's code is not run: its old verdict is reused",
  },
  {
    id: "cache-key-image",
    file: "packages/mcp-pipeline/src/ci/stages/verify.ts",
    from: "return resultKey({ check: check.id, image: ctx.facts.id, pipeline, inputs });",
    to: "return resultKey({ check: check.id, image: ctx.platform, pipeline, inputs });",
    harm: "a new image is judged by the previous image's cached verdicts",
  },
  {
    id: "replay-key-skip",
    file: "packages/mcp-pipeline/src/ci/replay/key.ts",
    from: "skip: [...inputs.skip].sort(),",
    to: "skip: [],",
    harm: "a run with --skip trivy is replayed as the full run that passed",
  },
  {
    id: "replay-releases",
    file: "packages/mcp-pipeline/src/ci/replay/key.ts",
    from: 'computed.kind !== "release" &&',
    to: "",
    harm: "a release is replayed instead of checked against its previous release",
  },
  {
    id: "replay-keeps-failed-run",
    file: "packages/mcp-pipeline/src/ci/cache/runs.ts",
    from: "if (!opts.report.ok || opts.report.error) return;",
    to: "if (opts.report.error) return;",
    harm: "a run whose gates failed replaces the kept run that passed under the same key",
  },
  // Registry and signing decisions.
  {
    id: "plain-http-local-registry",
    file: "packages/mcp-pipeline/src/ci/run/run.ts",
    from: "    address === localRegistry ||\n",
    to: "",
    harm: "signing the local registry's image at a host name speaks HTTPS and fails",
  },
  {
    id: "target-local-explicit-credentials",
    file: "packages/mcp-pipeline/src/ci/registry/target.ts",
    from: "(password || address !== local?.address)",
    to: "(password && address !== local?.address)",
    harm: "REGISTRY_PASSWORD for the local registry is ignored in favour of setup's",
  },
  {
    id: "sign-local-key-remote",
    file: "packages/mcp-pipeline/src/ci/stages/sign.ts",
    from: "if (signing.localKey && opts.localTarget) {",
    to: "if (signing.localKey) {",
    harm: "an image pushed to GHCR is signed with this laptop's throwaway key",
  },
  {
    id: "sign-tlog-offline",
    file: "packages/mcp-pipeline/src/ci/stages/sign.ts",
    from: "const tlog = !opts.offline || rekor.url !== undefined;",
    to: "const tlog = true;",
    harm: "air-gapped signing tries to upload to Rekor and fails",
  },
  {
    id: "cosign-http-always",
    file: "packages/mcp-pipeline/src/ci/sign/cosign-args.ts",
    from: '...(registry.plainHttp ? ["--allow-http-registry"] : []),',
    to: '...["--allow-http-registry"],',
    harm: "cosign may talk plain HTTP to a public registry",
  },
  {
    id: "emulation-without-f-flag",
    file: "packages/mcp-pipeline/src/host/emulation.ts",
    from: 'if (!handler.flags.includes("F")) {',
    to: 'if (handler.flags.includes("X")) {',
    harm: "an arm64 handler containers cannot use is taken as working; every arm64 check then fails",
  },
  // The MCP Registry's listing.
  {
    id: "mcp-registry-allowlist-ignored",
    file: "packages/mcp-pipeline/src/ci/mcp/server-json.ts",
    from: "if (!registryAllowed(parsed.registry, allowedRegistries)) {",
    to: "if (registryAllowed(parsed.registry, allowedRegistries)) {",
    harm: "an image on a registry the MCP Registry refuses passes, and its listing fails after release",
  },
  {
    id: "mcp-registry-oci-version-allowed",
    file: "packages/mcp-pipeline/src/ci/mcp/server-json.ts",
    from: 'for (const field of ["registryBaseUrl", "version", "fileSha256"]) {',
    to: 'for (const field of ["registryBaseUrl", "fileSha256"]) {',
    harm: "a server.json the registry refuses (an OCI package with version) passes",
  },
  {
    id: "mcp-registry-label-any-value",
    file: "packages/mcp-pipeline/src/ci/mcp/server-json.ts",
    from: "if (value !== serverName) {",
    to: "if (value === undefined) {",
    harm: "an image labelled with another server's name passes, and the registry refuses it",
  },
  {
    id: "mcp-registry-release-version-unchecked",
    file: "packages/mcp-pipeline/src/ci/mcp/server-json.ts",
    from: "if (server.version !== release.version) {",
    to: "if (server.version === undefined) {",
    harm: "a release lists the previous version in the MCP Registry",
  },
  // Listing a release in the MCP Registry.
  {
    id: "mcp-registry-identifier-not-pinned",
    file: "packages/mcp-pipeline/src/ci/mcp/registry-publish.ts",
    from: "    pkg.identifier = pinned;",
    to: "    pkg.identifier = identifier;",
    harm: "the registry entry names a tag, which can later point at an image nobody verified or signed",
  },
  {
    id: "mcp-registry-duplicate-taken-as-listed",
    file: "packages/mcp-pipeline/src/ci/release/mcp-registry-publish.ts",
    from: 'if (!listed || listed.identifiers.join(" ") !== server.identifiers.join(" ")) {',
    to: "if (!listed) {",
    harm: "a release whose version is already listed with another image reports success, and its notes link an entry for a different image",
    e2eOnly:
      "only a real registry answers `cannot publish duplicate version`: mcp-registry-publish.e2e.test.ts (fails on a duplicate version with another image) kills it",
  },
];

/** Applies a mutant's text replacement; throws unless `from` occurs exactly once. */
export function mutate(source: string, mutant: Mutant): string {
  const at = source.indexOf(mutant.from);
  if (at < 0 || source.indexOf(mutant.from, at + 1) >= 0) {
    throw new Error(
      `${mutant.id}: ${JSON.stringify(mutant.from)} must occur exactly once in ${mutant.file} (found ${at < 0 ? "none" : "more than one"})`,
    );
  }
  return source.slice(0, at) + mutant.to + source.slice(at + mutant.from.length);
}
