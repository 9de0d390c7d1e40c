import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { copyFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join, normalize } from "node:path";
import { execa } from "execa";
import { sha256File, sha256Of } from "../../src/toolchain/checksums.js";
import { versions } from "../../src/toolchain/versions.js";

/**
 * The upstream release layout, written out literally (not derived from
 * toolchain/releases.ts, so a wrong name there fails the test): host/path of
 * each asset, its checksums file, how that file writes a line, and, for
 * archives, the files GoReleaser packs next to the binary.
 */
export function upstreamLayout() {
  const v = versions;
  const gh = (repo: string, tag: string) => `github.com/${repo}/releases/download/${tag}`;
  return [
    {
      tool: "cosign",
      dir: gh("sigstore/cosign", `v${v.cosign}`),
      asset: "cosign-linux-amd64",
      checksums: "cosign_checksums.txt",
      line: (h: string, n: string) => `${h}  ${n}`,
      siblings: ["cosign-linux-arm64", "cosign-darwin-amd64", "cosign-linux-amd64.sig"],
    },
    {
      tool: "actionlint",
      dir: gh("rhysd/actionlint", `v${v.actionlint}`),
      asset: `actionlint_${v.actionlint}_linux_amd64.tar.gz`,
      archive: ["README.md", "LICENSE.txt"],
      checksums: `actionlint_${v.actionlint}_checksums.txt`,
      line: (h: string, n: string) => `${h}  ${n}`,
      siblings: [
        `actionlint_${v.actionlint}_linux_arm64.tar.gz`,
        `actionlint_${v.actionlint}_darwin_amd64.tar.gz`,
      ],
    },
    {
      tool: "docker-compose",
      dir: gh("docker/compose", `v${v.compose}`),
      asset: "docker-compose-linux-x86_64",
      // `shasum -a 256 -b` then sed: binary mode, `<hash> *<name>` (compose ci.yml).
      checksums: "checksums.txt",
      line: (h: string, n: string) => `${h} *${n}`,
      siblings: ["docker-compose-linux-aarch64", "docker-compose-darwin-x86_64"],
    },
    {
      tool: "docker-buildx",
      dir: gh("docker/buildx", `v${v.buildx}`),
      asset: `buildx-v${v.buildx}.linux-amd64`,
      // `sha256sum -b buildx-*` (hack/hash-files).
      checksums: "checksums.txt",
      line: (h: string, n: string) => `${h} *${n}`,
      siblings: [`buildx-v${v.buildx}.linux-arm64`, `buildx-v${v.buildx}.windows-amd64.exe`],
    },
    {
      tool: "trivy",
      dir: gh("aquasecurity/trivy", `v${v.trivy}`),
      asset: `trivy_${v.trivy}_Linux-64bit.tar.gz`,
      archive: ["README.md", "LICENSE"],
      checksums: `trivy_${v.trivy}_checksums.txt`,
      line: (h: string, n: string) => `${h}  ${n}`,
      siblings: [`trivy_${v.trivy}_Linux-ARM64.tar.gz`, `trivy_${v.trivy}_macOS-64bit.tar.gz`],
      signature: `trivy_${v.trivy}_checksums.txt.sigstore.json`,
    },
    {
      tool: "dagger",
      dir: `dl.dagger.io/dagger/releases/${v.dagger}`,
      asset: `dagger_v${v.dagger}_linux_amd64.tar.gz`,
      archive: ["LICENSE"],
      checksums: "checksums.txt",
      line: (h: string, n: string) => `${h}  ${n}`,
      siblings: [
        `dagger_v${v.dagger}_linux_arm64.tar.gz`,
        `dagger_v${v.dagger}_darwin_amd64.tar.gz`,
      ],
    },
  ];
}

export type LayoutEntry = ReturnType<typeof upstreamLayout>[number];

export interface ReleaseMirror {
  dir: string;
  /** Mirror path of each tool's asset and its sha256. */
  assets: Record<string, { path: string; sha256: string }>;
  /** A cosign key pair (password in `password`) whose signature the mirror serves over Trivy's checksums. */
  key: { private: string; public: string; password: string };
}

/**
 * Lays out release archives made from the binaries in `bin` under `dir`, as
 * the upstream hosts publish them, with checksums files in each project's
 * format, and Trivy's checksums signed with a test key (`cosign sign-blob
 * --bundle`, no transparency log).
 */
export async function buildReleaseMirror(bin: string, dir: string): Promise<ReleaseMirror> {
  const cosign = join(bin, "cosign");
  const keyDir = mkdtempSync(join(dir, "..", "mirror-key-"));
  const password = "test-mirror-key-password";
  const keyEnv = { ...process.env, COSIGN_PASSWORD: password };
  await execa(cosign, ["generate-key-pair"], { cwd: keyDir, env: keyEnv });
  const assets: ReleaseMirror["assets"] = {};
  for (const entry of upstreamLayout()) {
    const out = join(dir, entry.dir);
    mkdirSync(out, { recursive: true });
    const assetFile = join(out, entry.asset);
    if (entry.archive) {
      const staging = mkdtempSync(join(dir, "..", "archive-"));
      const binary = entry.tool;
      await copyFile(join(bin, entry.tool), join(staging, binary));
      for (const extra of entry.archive)
        writeFileSync(join(staging, extra), `${extra} of ${entry.tool}\n`);
      await execa("tar", [
        "--owner=0",
        "--group=0",
        "-czf",
        assetFile,
        "-C",
        staging,
        binary,
        ...entry.archive,
      ]);
    } else {
      await copyFile(join(bin, entry.tool), assetFile);
    }
    const sha256 = await sha256File(assetFile);
    assets[entry.tool] = { path: `/${entry.dir}/${entry.asset}`, sha256 };
    const lines = [entry.asset, ...entry.siblings]
      .sort()
      .map((name) => entry.line(name === entry.asset ? sha256 : sha256Of(name), name));
    writeFileSync(join(out, entry.checksums), `${lines.join("\n")}\n`);
    if (entry.tool === "docker-compose")
      writeFileSync(`${assetFile}.sha256`, `${entry.line(sha256, entry.asset)}\n`);
    if (entry.signature) {
      await execa(
        cosign,
        [
          "sign-blob",
          "--key",
          join(keyDir, "cosign.key"),
          "--bundle",
          join(out, entry.signature),
          "--tlog-upload=false",
          "--yes",
          join(out, entry.checksums),
        ],
        { env: keyEnv },
      );
    }
  }
  return {
    dir,
    assets,
    key: { private: join(keyDir, "cosign.key"), public: join(keyDir, "cosign.pub"), password },
  };
}

/** A static HTTP server on loopback for a mirror directory, with per-path replacements. */
export interface MirrorServer {
  url: string;
  /** Every request path, in order. */
  requests: string[];
  /** Serve `file` (or a 404 for null) at `path` instead of the mirror's own file. */
  override(path: string, file: string | null): void;
  reset(): void;
  close(): Promise<void>;
}

export async function serveMirror(dir: string): Promise<MirrorServer> {
  const requests: string[] = [];
  const overrides = new Map<string, string | null>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://mirror").pathname);
    requests.push(path);
    const override = overrides.get(path);
    const file = override === undefined ? join(dir, normalize(path)) : override;
    const inside = override !== undefined || file?.startsWith(`${dir}/`);
    if (file === null || !inside || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-length": statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    override: (path, file) => overrides.set(path, file),
    reset: () => overrides.clear(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
