import { run } from "../host/exec.js";
import { versions } from "./versions.js";

/**
 * The engine image the CLI starts. Tagged with the official name so a bare
 * `dagger run` finds it locally and never pulls.
 */
export const DAGGER_ENGINE_IMAGE = `registry.dagger.io/engine:v${versions.dagger}`;

/**
 * The version of the local engine image: its `org.opencontainers.image.version`
 * label, else the version its tag names; undefined when it is not there.
 */
export async function engineImageVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const out = await run(
      "docker",
      [
        "image",
        "inspect",
        "--format",
        '{{index .Config.Labels "org.opencontainers.image.version"}}',
        DAGGER_ENGINE_IMAGE,
      ],
      { env },
    );
    // The image setup builds carries the version as a label; the official one carries it as a
    // manifest annotation only, which `docker image inspect` does not show: its tag names it.
    return out.trim() || `v${versions.dagger}`;
  } catch {
    return undefined;
  }
}
