import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A stand-in `cosign` for the edge cases the real one cannot be made to hit on purpose (printing
 * a secret, hanging, answering with another digest). It records its argv, environment and the
 * Docker config it was handed, prints `FAKE_COSIGN_STDOUT` / `FAKE_COSIGN_STDERR`, optionally
 * becomes `sleep FAKE_COSIGN_SLEEP`, and exits with `FAKE_COSIGN_EXIT` (default 1).
 */
export function fakeCosign() {
  const dir = mkdtempSync(join(tmpdir(), "fake-cosign-"));
  const record = join(dir, "record");
  writeFileSync(
    join(dir, "cosign"),
    `#!/bin/sh
printf '%s\\n' "$@" > "${record}.args"
env > "${record}.env"
stat -c %a "$DOCKER_CONFIG/config.json" > "${record}.mode"
cat "$DOCKER_CONFIG/config.json" > "${record}.config"
[ -n "$FAKE_COSIGN_STDOUT" ] && printf '%s\\n' "$FAKE_COSIGN_STDOUT"
[ "$FAKE_COSIGN_ECHO_CONFIG" = 1 ] && echo "Error: config $(tr -d '\\n ' < "$DOCKER_CONFIG/config.json")" >&2
[ -n "$FAKE_COSIGN_STDERR" ] && printf '%s\\n' "$FAKE_COSIGN_STDERR" >&2
[ -n "$FAKE_COSIGN_SLEEP" ] && exec sleep "$FAKE_COSIGN_SLEEP"
exit "\${FAKE_COSIGN_EXIT:-1}"
`,
  );
  chmodSync(join(dir, "cosign"), 0o755);
  return {
    dir,
    /** An environment whose PATH finds only the fake. */
    env: (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
      PATH: `${dir}:/usr/bin:/bin`,
      ...extra,
    }),
    recorded: (what: "args" | "env" | "mode" | "config") =>
      readFileSync(`${record}.${what}`, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
