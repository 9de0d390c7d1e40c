import { readFileSync } from "node:fs";

/**
 * Capabilities `docker run --privileged` asks for that this machine's bounding
 * set lacks. Non-empty means privileged containers (the Dagger engine) fail
 * with "unable to apply caps" unless dockerd runs them through `runc-bounded`.
 */
export function missingCapabilities(): number[] {
  const status = readFileSync("/proc/self/status", "utf8");
  const bounding = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);
  const lastCap = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  const missing: number[] = [];
  for (let bit = 0; bit <= lastCap; bit++) {
    if (((bounding >> BigInt(bit)) & 1n) === 0n) missing.push(bit);
  }
  return missing;
}
