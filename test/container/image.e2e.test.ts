import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, docker, env, freePort, waitHealthy } from "./docker.js";

const suffix = randomBytes(4).toString("hex");
const IMAGE = `todo-mcp-test:${suffix}`;
const BACKEND = `todo-backend-test:${suffix}`;
const TOKEN = `known-token-${randomBytes(12).toString("hex")}`;
const containers: string[] = [];
const workDir = mkdtempSync(join(tmpdir(), "image-test-"));
const caBundle = join(workDir, "npm-ca.pem");
let canaryPem = "";

interface Inspect {
  Config: {
    User: string;
    Healthcheck?: {
      Test: string[];
      Interval: number;
      Timeout: number;
      StartPeriod: number;
      Retries: number;
    };
    Labels: Record<string, string>;
    Env: string[];
    ExposedPorts?: Record<string, object>;
  };
  Size: number;
}

async function inspect(ref: string): Promise<Inspect> {
  return (JSON.parse(await docker(["image", "inspect", ref])) as Inspect[])[0] as Inspect;
}

async function run(args: string[]): Promise<string> {
  const id = (await docker(["run", "-d", ...args])).trim();
  containers.push(id);
  return id;
}

describe("the container image", () => {
  beforeAll(async () => {
    // The npm CA bundle gets a freshly made certificate appended: its lines exist nowhere
    // else (the Node.js binary embeds the public roots), so finding one in a layer is a leak.
    await execa("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(workDir, "ca.key"),
      "-out",
      join(workDir, "ca.pem"),
      "-days",
      "1",
      "-subj",
      `/CN=leak-canary-${suffix}`,
    ]);
    const system = env.NPM_CA_FILE ? readFileSync(env.NPM_CA_FILE, "utf8") : "";
    canaryPem = readFileSync(join(workDir, "ca.pem"), "utf8");
    writeFileSync(caBundle, `${system}\n${canaryPem}`);
    // The token is in the build's environment too: it must still reach no layer.
    const buildEnv = { SERVICE_AUTH_TOKEN: TOKEN, NPM_CA_FILE: caBundle };
    await buildImage(IMAGE, "mcp-server", buildEnv);
    await buildImage(BACKEND, "backend", buildEnv);
  });

  afterAll(async () => {
    for (const id of containers) await docker(["rm", "-f", id]).catch(() => undefined);
    await docker(["rmi", "-f", IMAGE, BACKEND]).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  });

  it("declares a numeric non-root user, a HEALTHCHECK in exec form, port 3000 and the OCI labels", async () => {
    const { Config } = await inspect(IMAGE);
    expect(Config.User).toBe("1000:1000");
    expect(Config.Healthcheck?.Test).toEqual([
      "CMD",
      "/usr/local/bin/node",
      "/app/healthcheck.mjs",
    ]);
    expect(Config.Healthcheck?.Retries).toBe(3);
    expect(Config.ExposedPorts).toHaveProperty("3000/tcp");
    expect(Config.Env).toContain("NODE_ENV=production");
    for (const key of [
      "title",
      "description",
      "source",
      "version",
      "revision",
      "created",
      "licenses",
    ]) {
      expect(Config.Labels).toHaveProperty(`org.opencontainers.image.${key}`);
    }
  });

  it("stays within the 150 MB size budget", async () => {
    const { Size } = await inspect(IMAGE);
    expect(Size).toBeLessThanOrEqual(150_000_000);
  });

  it("has no shell and no npm in the runtime", async () => {
    for (const bin of ["/bin/sh", "/usr/local/bin/npm"]) {
      const res = await execa("docker", ["run", "--rm", "--entrypoint", bin, IMAGE, "--version"], {
        env,
        reject: false,
        all: true,
      });
      expect(res.exitCode, res.all).not.toBe(0);
      expect(res.all).toMatch(/no such file or directory/);
    }
  });

  it("turns healthy, answers /health, and runs as UID 1000", async () => {
    const port = await freePort();
    const id = await run([
      "-e",
      `SERVICE_AUTH_TOKEN=${TOKEN}`,
      "-p",
      `127.0.0.1:${port}:3000`,
      IMAGE,
    ]);
    await waitHealthy(id);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    const uid = await docker([
      "exec",
      id,
      "/usr/local/bin/node",
      "-e",
      "process.stdout.write(String(process.getuid()))",
    ]);
    expect(uid).toBe("1000");
    const top = await docker(["top", id, "-o", "pid,uid,args"]);
    expect(top).toMatch(/^\d+\s+1000\s+\/usr\/local\/bin\/node \/app\/mcp\.mjs$/m);
  });

  it("shuts down on SIGTERM with exit code 0 well within the stop timeout", async () => {
    const id = await run(["-e", `SERVICE_AUTH_TOKEN=${TOKEN}`, IMAGE]);
    await waitHealthy(id);
    const started = Date.now();
    await docker(["stop", "--time", "10", id]);
    const stoppedIn = Date.now() - started;
    const state = JSON.parse(await docker(["inspect", "--format", "{{json .State}}", id])) as {
      ExitCode: number;
      OOMKilled: boolean;
    };
    expect(state.ExitCode).toBe(0);
    expect(stoppedIn).toBeLessThan(10_000);
  });

  it("runs the backend target as UID 1000 with its data on a volume, healthy on port 8000", async () => {
    const { Config } = await inspect(BACKEND);
    expect(Config.User).toBe("1000:1000");
    expect(Config.Healthcheck?.Test).toEqual([
      "CMD",
      "/usr/local/bin/node",
      "/app/healthcheck.mjs",
      "8000",
    ]);
    expect(Config.Env).toContain("DATA_DIR=/data");
    const id = await run([
      "-e",
      `SERVICE_AUTH_TOKEN=${TOKEN}`,
      "--read-only",
      "--tmpfs",
      "/tmp",
      "-v",
      `todo-test-data-${suffix}:/data`,
      BACKEND,
    ]);
    await waitHealthy(id);
    await docker(["rm", "-f", id]);
    await docker(["volume", "rm", `todo-test-data-${suffix}`]);
  });

  it("keeps the service token and the npm CA bundle out of every layer and out of the history", async () => {
    const tar = join(workDir, "image.tar");
    try {
      await docker(["save", "-o", tar, IMAGE, BACKEND]);
      // docker save writes layers uncompressed, so a plain byte search covers every file in every layer.
      const bytes = readFileSync(tar);
      expect(bytes.includes(Buffer.from(TOKEN))).toBe(false);
      const canaryLines = canaryPem.split("\n").filter((l) => /^[A-Za-z0-9+/]{64}$/.test(l));
      expect(canaryLines.length).toBeGreaterThan(0);
      for (const line of canaryLines) expect(bytes.includes(Buffer.from(line))).toBe(false);
      const history = await docker(["history", "--no-trunc", IMAGE]);
      expect(history).not.toContain(TOKEN);
    } finally {
      rmSync(tar, { force: true });
    }
  });
});
