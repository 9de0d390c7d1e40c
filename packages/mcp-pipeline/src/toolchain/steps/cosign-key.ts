import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ToolchainError, ToolchainErrorCode } from "../../host/errors.js";
import { CommandError, run, which } from "../../host/exec.js";
import type { Step, StepContext } from "../context.js";
import { type CosignCredentials, readCosignCredentials } from "../state.js";

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

/** cosign's key encryption (scrypt) takes seconds on an idle machine and far longer on a loaded one. */
const COSIGN_TIMEOUT_MS = 180_000;

/**
 * The public key that `cosign.key` decrypts to with the stored password, or undefined when the
 * pair is missing, unreadable or the password does not open the key.
 */
async function derivedPublicKey(
  ctx: Pick<StepContext, "paths" | "env">,
  password: string,
): Promise<string | undefined> {
  try {
    return await run("cosign", ["public-key", "--key", ctx.paths.cosignKeyFile], {
      env: { ...ctx.env, COSIGN_PASSWORD: password },
      timeoutMs: COSIGN_TIMEOUT_MS,
    });
  } catch (err) {
    // A slow machine is not a wrong password: a pair that may be fine is never replaced for it.
    if (err instanceof CommandError && err.exitCode === undefined) throw err;
    return undefined;
  }
}

/** Moves a file aside (`<file>.replaced-<time>`) rather than deleting what might still matter. */
function moveAside(file: string, stamp: string): void {
  if (existsSync(file)) renameSync(file, `${file}.replaced-${stamp}`);
}

/**
 * A cosign key pair for signing images published to the local registry: `state/cosign.key`
 * (encrypted, mode 0600), `state/cosign.pub`, and the password in `state/cosign-credentials.json`
 * (mode 0600). Generated once with `cosign generate-key-pair`, the password passed as
 * `COSIGN_PASSWORD` in its environment, never in argv. Done when the stored password really
 * decrypts the key to the stored public key. A half-written or mismatched pair is moved aside
 * (`*.replaced-<time>`) and a new one generated.
 */
export const cosignKeyPair: Step = {
  id: "cosign-key",
  title: "Local signing key pair (cosign)",
  async isDone(ctx) {
    const { cosignKeyFile, cosignPublicKeyFile, cosignCredentialsFile } = ctx.paths;
    if (![cosignKeyFile, cosignPublicKeyFile, cosignCredentialsFile].every(existsSync))
      return false;
    if (modeOf(cosignKeyFile) !== 0o600 || modeOf(cosignCredentialsFile) !== 0o600) return false;
    let credentials: CosignCredentials | undefined;
    try {
      credentials = readCosignCredentials(ctx.paths);
    } catch {
      return false;
    }
    if (!credentials) return false;
    const derived = await derivedPublicKey(ctx, credentials.password);
    return derived?.trim() === readFileSync(cosignPublicKeyFile, "utf8").trim();
  },
  async run(ctx) {
    if (!which("cosign", ctx.env)) {
      throw new ToolchainError(ToolchainErrorCode.NotReady, "cosign is not installed.", {
        hint: "The cosign step installs it into ~/.cache/mcp-pipeline/bin; run `mcp-pipeline setup` again.",
      });
    }
    const { paths } = ctx;
    mkdirSync(paths.state, { recursive: true });
    let credentials: CosignCredentials | undefined;
    try {
      credentials = readCosignCredentials(paths);
    } catch {
      credentials = undefined;
    }
    // An existing pair that the stored password opens only needs its file modes fixed.
    if (
      credentials &&
      existsSync(paths.cosignKeyFile) &&
      existsSync(paths.cosignPublicKeyFile) &&
      (await derivedPublicKey(ctx, credentials.password))?.trim() ===
        readFileSync(paths.cosignPublicKeyFile, "utf8").trim()
    ) {
      chmodSync(paths.cosignKeyFile, 0o600);
      chmodSync(paths.cosignCredentialsFile, 0o600);
      return;
    }
    const password = randomBytes(24).toString("base64url");
    // Generated in a private directory beside the final files, then renamed into place.
    const work = mkdtempSync(join(paths.state, ".cosign-key-"));
    try {
      ctx.note("cosign generate-key-pair");
      await run("cosign", ["generate-key-pair"], {
        cwd: work,
        env: { ...ctx.env, COSIGN_PASSWORD: password },
        logFile: ctx.logFile,
        timeoutMs: COSIGN_TIMEOUT_MS,
      });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      for (const file of [
        paths.cosignKeyFile,
        paths.cosignPublicKeyFile,
        paths.cosignCredentialsFile,
      ]) {
        moveAside(file, stamp);
      }
      writeFileSync(join(work, "credentials.json"), `${JSON.stringify({ password }, null, 2)}\n`, {
        mode: 0o600,
      });
      chmodSync(join(work, "cosign.key"), 0o600);
      renameSync(join(work, "credentials.json"), paths.cosignCredentialsFile);
      renameSync(join(work, "cosign.key"), paths.cosignKeyFile);
      renameSync(join(work, "cosign.pub"), paths.cosignPublicKeyFile);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
