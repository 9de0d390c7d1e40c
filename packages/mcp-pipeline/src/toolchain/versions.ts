import { nodePin } from "./node-pin.js";

/**
 * Every pinned version of the toolchain, in one place.
 *
 * Dagger is pinned three times over — the npm SDK in package-lock.json, the CLI
 * and the engine image — and they must agree; `setup` refuses to continue when
 * the lockfile's `@dagger.io/dagger` differs from `versions.dagger`.
 * 0.20.0 is the first release that keeps a Dockerfile's HEALTHCHECK in the
 * image config, and the newest one whose Go dependencies the module proxy
 * serves (0.20.1+ and 0.21.x need modules it refuses).
 */
export const versions = {
  dagger: "0.20.0",
  trivy: "0.74.0",
  actionlint: "1.7.12",
  compose: "2.40.3",
  buildx: "0.29.1",
  /** Verifies Trivy's signed checksums at set-up, and signs what the pipeline publishes. */
  cosign: "2.6.5",
  /**
   * Node.js in the `node:24-bookworm-slim` base image we build air-gapped; the
   * same release runs the project where the machine's Node is older (mcp-pipeline's assets/node.json).
   */
  node: nodePin.version,
  /** npm bundled into that image, as the official image bundles it. */
  npm: "11.6.2",
  debianSuite: "bookworm",
  /** Debian's CNCF distribution registry (package `docker-registry`). */
  registryPackage: "docker-registry",
  /** The MCP Registry's server and its publisher (`mcp-publisher`), one Go module. */
  mcpRegistry: "1.8.9",
  /** Debian's PostgreSQL (bookworm: 15), which the tests' MCP Registry stores its entries in. */
  postgresqlPackage: "postgresql",
} as const;

/**
 * sha256 of `github.com/dagger/dagger@v0.20.0.zip` as the Go module proxy
 * serves it (47,954,059 bytes). The proxy refuses this version's go.mod, so
 * `go` cannot fetch the module itself and the checksum database has no entry
 * for it: this pin is the only check. Its 4,667 files were compared one by one
 * with the upstream git tag v0.20.0 (commit 388e470f) when it was pinned.
 */
export const daggerModuleZip = {
  version: "0.20.0",
  sha256: "9c6d00b10ebbac75dc50dcfe199cf9cea983e030d622c6f144a45f616d7cfd2f",
  bytes: 47_954_059,
} as const;

/**
 * Suites of Debian's archive to take a pinned tool's binary from, in order, before building it
 * (air-gapped). Only a package whose upstream version equals the pin is used (see
 * debian-archive/version.ts). Checked 2026-12-02: sid and forky have docker-compose 2.40.3-3 and
 * docker-buildx 0.29.1+ds1-4 (libc6 ≥ 2.34); no suite has cosign 2.6.5 (sid: 3.1.1, trixie:
 * 2.5.0), Trivy, actionlint, act or Dagger, and crane is 0.20.7.
 */
const DEBIAN_SUITES = ["sid", "forky"] as const;

/**
 * The current Docker engine setup installs where a
 * machine has none: Docker's daemon, CLI and containerd from Debian's signed archive (sid
 * carries Docker 28.5.2 and containerd 2.1.9 built against glibc ≤ 2.34, so they run on Debian
 * 12), tini as `docker-init`, and runc built from the Go module proxy — sid's runc 1.3.6 needs
 * glibc 2.38. Installed into `<cache>/engine/<docker>/bin`, never through dpkg.
 */
export const currentEngine = {
  docker: "28.5.2",
  containerd: "2.1.9",
  runc: "1.5.3",
  tini: "0.19.0",
  /** Suites to take the packages from, in order. */
  suites: ["sid", "forky"],
  /** The oldest Docker major a machine may keep: the first that honours `HEALTHCHECK --start-interval`. */
  oldestKept: 25,
} as const;

/** The packages and binaries of the current engine (versions from `currentEngine`). */
export const enginePackages = [
  {
    package: "docker.io",
    version: currentEngine.docker,
    binaries: [
      { member: "usr/sbin/dockerd", name: "dockerd", versionArgs: ["--version"] },
      { member: "usr/sbin/docker-proxy", name: "docker-proxy", versionArgs: ["--version"] },
    ],
  },
  {
    package: "docker-cli",
    version: currentEngine.docker,
    binaries: [{ member: "usr/bin/docker", name: "docker", versionArgs: ["--version"] }],
  },
  {
    package: "containerd",
    version: currentEngine.containerd,
    binaries: [
      { member: "usr/bin/containerd", name: "containerd", versionArgs: ["--version"] },
      {
        member: "usr/bin/containerd-shim-runc-v2",
        name: "containerd-shim-runc-v2",
        versionArgs: ["-v"],
      },
      { member: "usr/bin/ctr", name: "ctr", versionArgs: ["--version"] },
    ],
  },
  {
    // dockerd's `--init` runs `docker-init`; Debian links it to tini-static.
    package: "tini-static",
    version: currentEngine.tini,
    binaries: [{ member: "usr/bin/tini-static", name: "docker-init", versionArgs: ["--version"] }],
  },
] as const;

/**
 * runc, built with cgo and seccomp (libseccomp from the machine's `libseccomp-dev`) from the Go
 * module proxy by `go install`, checked against go.sum and the checksum database.
 */
export const runcBuild = {
  name: "runc",
  module: "github.com/opencontainers/runc",
  pkg: "github.com/opencontainers/runc",
  version: currentEngine.runc,
  tags: ["seccomp"],
  ldflags: `-X main.version=${currentEngine.runc}`,
  versionArgs: ["--version"],
} as const;

/** Go module paths and the binary each produces (and the Debian package that has it, if one does). */
export const goTools = [
  {
    name: "cosign",
    module: "github.com/sigstore/cosign/v2",
    pkg: "github.com/sigstore/cosign/v2/cmd/cosign",
    version: versions.cosign,
    versionArgs: ["version"],
    ldflags: `-X sigs.k8s.io/release-utils/version.gitVersion=v${versions.cosign}`,
  },
  {
    name: "actionlint",
    module: "github.com/rhysd/actionlint",
    pkg: "github.com/rhysd/actionlint/cmd/actionlint",
    version: versions.actionlint,
    versionArgs: ["--version"],
  },
  {
    name: "docker-compose",
    module: "github.com/docker/compose/v2",
    pkg: "github.com/docker/compose/v2/cmd",
    version: versions.compose,
    versionArgs: ["version", "--short"],
    ldflags: `-X github.com/docker/compose/v2/internal.Version=v${versions.compose}`,
    debian: {
      package: "docker-compose",
      member: "usr/libexec/docker/cli-plugins/docker-compose",
      suites: DEBIAN_SUITES,
    },
  },
  {
    name: "docker-buildx",
    module: "github.com/docker/buildx",
    pkg: "github.com/docker/buildx/cmd/buildx",
    version: versions.buildx,
    versionArgs: ["version"],
    ldflags: `-X github.com/docker/buildx/version.Version=v${versions.buildx}`,
    debian: {
      package: "docker-buildx",
      member: "usr/libexec/docker/cli-plugins/docker-buildx",
      suites: DEBIAN_SUITES,
    },
  },
  {
    name: "trivy",
    module: "github.com/aquasecurity/trivy",
    pkg: "github.com/aquasecurity/trivy/cmd/trivy",
    version: versions.trivy,
    versionArgs: ["--version"],
    ldflags: `-X github.com/aquasecurity/trivy/pkg/version/app.ver=${versions.trivy}`,
    // Trivy imports encoding/json/v2, still behind an experiment in Go 1.25/1.26.
    goEnv: { GOEXPERIMENT: "jsonv2" },
  },
] as const;

/**
 * Base images the Dockerfile names (its runtime stage is `scratch` plus the
 * Node.js binary and the libraries it links), by their upstream references.
 * Air-gapped, `setup` builds each from Debian packages (and the official
 * Node.js binary from npm) and serves it from the local mirror under the same name.
 */
export const baseImages = {
  debian: "debian:bookworm-slim",
  node: "node:24-bookworm-slim",
} as const;

/**
 * github.com/modelcontextprotocol/registry at the pinned version: `mcp-publisher`, which
 * publishes a release's server.json to an MCP Registry, and the registry itself, which the tests
 * run on loopback (PostgreSQL behind it). Its go.mod has no replace directives, so every module
 * is checked against its go.sum and the checksum database like the other Go tools.
 */
export const mcpRegistryModule = {
  module: "github.com/modelcontextprotocol/registry",
  version: versions.mcpRegistry,
  publisher: {
    pkg: "github.com/modelcontextprotocol/registry/cmd/publisher",
    name: "mcp-publisher",
  },
  registry: { pkg: "github.com/modelcontextprotocol/registry/cmd/registry", name: "mcp-registry" },
  // Both print this version (`mcp-publisher --version`, `mcp-registry -version`), as upstream's release builds do.
  ldflags: `-X main.Version=${versions.mcpRegistry}`,
  /**
   * The module proxy refuses the zip of github.com/danielgtaylor/huma/v2 v2.40.0 (403, checked
   * 2026-12-02), which the registry's go.mod requires; v2.39.0 is served, so the registry's HTTP
   * framework is one minor version older than upstream's. Only `mcp-registry` (a test fixture)
   * imports huma: `mcp-publisher`, which releases run, is built from exactly upstream's go.sum.
   */
  replace: ["github.com/danielgtaylor/huma/v2 v2.40.0 => github.com/danielgtaylor/huma/v2 v2.39.0"],
} as const;

/**
 * Go tools only the tests use, built on demand by the test that needs them
 * (not by `setup`: adopters never run them) with the same pinned, go.sum-checked
 * machinery, into the same bin/.
 */
export const testGoTools = [
  {
    /** nektos/act runs this repository's GitHub workflows on a simulated runner (`npm run test:github`). */
    name: "act",
    module: "github.com/nektos/act",
    pkg: "github.com/nektos/act",
    version: "0.2.89",
    versionArgs: ["--version"],
  },
  {
    /**
     * Rekor v1, the transparency log the GitHub simulation signs into in place of
     * rekor.sigstore.dev (test/github/rekor.ts). v1.5.4 is the newest that builds with Go 1.26.
     */
    name: "rekor-server",
    module: "github.com/sigstore/rekor",
    pkg: "github.com/sigstore/rekor/cmd/rekor-server",
    version: "1.5.4",
    versionArgs: ["version"],
    ldflags: "-X sigs.k8s.io/release-utils/version.gitVersion=v1.5.4",
  },
  {
    /** Trillian's log server, Rekor's Merkle-tree store, at the version rekor v1.5.4's go.mod requires. */
    name: "trillian_log_server",
    module: "github.com/google/trillian",
    pkg: "github.com/google/trillian/cmd/trillian_log_server",
    version: "1.7.3",
    versionArgs: ["--help"],
  },
  {
    /** Trillian's log signer: sequences the log server's queued leaves into the tree. */
    name: "trillian_log_signer",
    module: "github.com/google/trillian",
    pkg: "github.com/google/trillian/cmd/trillian_log_signer",
    version: "1.7.3",
    versionArgs: ["--help"],
  },
] as const;
