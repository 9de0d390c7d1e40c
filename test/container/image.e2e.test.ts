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
    for (const id of containers) await docker(["rm", "-f", "-v", id]).catch(() => undefined);
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

  it("shuts down on SIGTERM with exit code 0, before the stop timeout's SIGKILL", async () => {
    const id = await run(["-e", `SERVICE_AUTH_TOKEN=${TOKEN}`, IMAGE]);
    await waitHealthy(id);
    await docker(["stop", "--time", "10", id]);
    // A process still running after 10 s would have been SIGKILLed: exit code 137, not 0.
    const state = JSON.parse(await docker(["inspect", "--format", "{{json .State}}", id])) as {
      ExitCode: number;
      OOMKilled: boolean;
    };
    expect(state).toMatchObject({ ExitCode: 0, OOMKilled: false });
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
    await docker(["rm", "-f", "-v", id]);
    await docker(["volume", "rm", `todo-test-data-${suffix}`]);
  });

  it("imports a tasks.json found on the backend's volume and keeps acknowledged creates across docker kill", async () => {
    const volume = `todo-test-import-${suffix}`;
    const at = "2025-01-01T00:00:00.000Z";
    const legacy = {
      id: "3f6c1d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f",
      title: "from the JSON store",
      description: null,
      priority: "high",
      due_date: null,
      status: "pending",
      created_at: at,
      updated_at: at,
      completed_at: null,
    };
    const file = JSON.stringify({ version: 1, tasks: [legacy] });
    let id: string | undefined;
    try {
      // Written by the image's own user, as the JSON-file backend would have left it.
      await docker([
        "run",
        "--rm",
        "-v",
        `${volume}:/data`,
        "--entrypoint",
        "/usr/local/bin/node",
        BACKEND,
        "-e",
        `require("node:fs").writeFileSync("/data/tasks.json", ${JSON.stringify(file)})`,
      ]);
      const port = await freePort();
      id = await run([
        "-e",
        `SERVICE_AUTH_TOKEN=${TOKEN}`,
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-p",
        `127.0.0.1:${port}:8000`,
        "-v",
        `${volume}:/data`,
        BACKEND,
      ]);
      await waitHealthy(id);
      const url = `http://127.0.0.1:${port}/tasks`;
      const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      const created = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const response = await fetch(url, {
            method: "POST",
            headers,
            body: JSON.stringify({ title: `before the kill ${i}` }),
          });
          expect(response.status).toBe(201);
          return ((await response.json()) as { id: string }).id;
        }),
      );

      await docker(["kill", "--signal", "SIGKILL", id]);
      await docker(["start", id]);
      await waitHealthy(id);
      const page = (await (await fetch(`${url}?limit=200`, { headers })).json()) as {
        tasks: { id: string; title: string }[];
        next_cursor: string | null;
      };
      expect(page.tasks[0]).toEqual(legacy);
      expect(new Set(page.tasks.slice(1).map((task) => task.id))).toEqual(new Set(created));
      expect(page.next_cursor).toBeNull();
      const files = await docker([
        "exec",
        id,
        "/usr/local/bin/node",
        "-e",
        'process.stdout.write(require("node:fs").readdirSync("/data").sort().join(" "))',
      ]);
      expect(files).toMatch(/^tasks\.db( tasks\.db-shm tasks\.db-wal)? tasks\.json\.imported$/);
    } finally {
      if (id) await docker(["rm", "-f", "-v", id]).catch(() => undefined);
      await docker(["volume", "rm", "-f", volume]).catch(() => undefined);
    }
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
