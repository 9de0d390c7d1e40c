import { type ChildProcess, spawn } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { freePort } from "../../../src/ci/docker/free-port.js";
import { TOKEN_REGISTRY_ADDRESS } from "../../../src/toolchain/registry-config.js";

/** One request as the registry saw it, through the recording proxy. */
export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  userAgent: string;
}

export interface TokenRegistry {
  /** `host:port` as the Dagger engine and the pipeline reach it. */
  address: string;
  username: string;
  password: string;
  requests: RecordedRequest[];
  /** A Bearer token for `repository:<name>:pull`, for reading what was pushed. */
  pullToken(name: string): string;
  close(): Promise<void>;
}

const SERVICE = "token-test-registry";
const ISSUER = "token-test-issuer";

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * A registry that answers like GHCR: CNCF distribution with `auth: token`, so
 * every anonymous call gets `401` with `WWW-Authenticate: Bearer realm=…,
 * service=…,scope=…`, and a token endpoint (Basic credentials in, a signed JWT
 * out) on the same address. A recording proxy in front of the registry keeps
 * every request it serves. Listens on the address the engine config marks as
 * plain HTTP (`TOKEN_REGISTRY_ADDRESS`, or `address`: the GitHub simulation's GHCR stand-in
 * has one of its own, so the `npm test` it runs can start this one). With `anonymousPull`, a
 * token request without credentials gets pull access, as on Docker Hub.
 */
export async function startTokenRegistry(
  options: { anonymousPull?: boolean; address?: string } = {},
): Promise<TokenRegistry> {
  const address = options.address ?? TOKEN_REGISTRY_ADDRESS;
  const dir = mkdtempSync(join(tmpdir(), "token-registry-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  await execa("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "1",
    "-subj",
    `/CN=${ISSUER}`,
  ]);
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw;

  const innerPort = await freePort();
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log: { level: warn, accesslog: { disabled: true } }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${innerPort}" }`,
      "auth:",
      "  token:",
      `    realm: http://${address}/token`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${certFile}`,
      "",
    ].join("\n"),
  );
  const registry: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: "ignore",
  });

  const username = "token-user";
  const password = randomBytes(12).toString("hex");
  const requests: RecordedRequest[] = [];

  const issue = (scopes: string[], subject: string) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "ES256", typ: "JWT", x5c: [certDer.toString("base64")] };
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const claims = {
      iss: ISSUER,
      sub: subject,
      aud: SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${base64url(signature)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    if (url.pathname === "/token") {
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      const [user, pass] = Buffer.from(basic ?? "", "base64")
        .toString()
        .split(":");
      if (!basic && options.anonymousPull) {
        // Like Docker Hub and public GHCR images: anyone gets a token that can pull.
        const scopes = url.searchParams
          .getAll("scope")
          .map((scope) => scope.replace(/:[^:]*$/, ":pull"));
        const token = issue(scopes, "anonymous");
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
        return;
      }
      if (user !== username || pass !== password) {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
        return;
      }
      const token = issue(url.searchParams.getAll("scope"), user);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
      return;
    }
    const upstream = request(
      {
        host: "127.0.0.1",
        port: innerPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        requests.push({
          method: req.method ?? "",
          path: url.pathname,
          status: answer.statusCode ?? 0,
          userAgent: String(req.headers["user-agent"] ?? ""),
        });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  const [host, port] = address.split(":");
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(Number(port), host, resolve);
    });
    // Ready when the registry answers through the proxy with its Bearer challenge.
    for (let i = 0; ; i++) {
      const res = await fetch(`http://${address}/v2/`).catch(() => undefined);
      if (res?.status === 401) break;
      if (i > 100) throw new Error("the token-auth registry did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    // A start that fails (its fixed address taken, say) leaves nothing running behind it.
    server.close();
    registry.kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  requests.length = 0;

  return {
    address,
    username,
    password,
    requests,
    pullToken: (name) => issue([`repository:${name}:pull`], username),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      registry.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
