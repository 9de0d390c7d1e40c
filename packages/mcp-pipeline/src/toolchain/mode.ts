import { forcedMode, type Mode } from "./settings.js";

/** Docker Hub's registry API answers 401 to anyone who can reach it. */
const PROBE_URL = "https://registry-1.docker.io/v2/";

/**
 * Decides whether the public registries are reachable. `AIRGAP=1` forces the
 * air-gapped path and `AIRGAP=0` the online one; otherwise one HTTPS request
 * to `probeUrl` (Docker Hub's registry API) with a short timeout decides, so
 * detection costs at most `timeoutMs`.
 */
export async function detectMode(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 3000,
  probeUrl = PROBE_URL,
): Promise<{ mode: Mode; reason: string }> {
  const forced = forcedMode(env);
  if (forced === "airgap") return { mode: "airgap", reason: "AIRGAP=1" };
  if (forced === "online") return { mode: "online", reason: "AIRGAP=0" };
  try {
    const res = await fetch(probeUrl, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });
    // Any answer from the registry itself (401 is the normal one) means it is reachable;
    // a proxy refusing the connection answers 403/5xx without the registry header.
    if (res.headers.get("docker-distribution-api-version")) {
      return { mode: "online", reason: `${probeUrl} answered ${res.status}` };
    }
    return {
      mode: "airgap",
      reason: `${probeUrl} answered ${res.status} without a registry header`,
    };
  } catch (err) {
    const why =
      err instanceof Error
        ? err.cause instanceof Error
          ? err.cause.message
          : err.message
        : String(err);
    return { mode: "airgap", reason: `${probeUrl} unreachable (${why})` };
  }
}
