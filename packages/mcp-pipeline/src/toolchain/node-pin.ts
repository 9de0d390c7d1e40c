import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ASSETS_DIR } from "../package-root.js";

/** The Node.js release the package runs on where the machine's is older, and builds base images with. */
export interface NodePin {
  /** The major release the package targets. */
  major: number;
  /** The oldest Node.js it runs on as it is. */
  minimum: string;
  version: string;
  /** sha512 integrity of the npm package `node-<os>-<arch>` at `version`, by `<os>-<arch>`. */
  integrity: Record<string, string>;
}

// One file for the dependency-free bin shim (bin/) and the TypeScript alike.
export const nodePin: NodePin = JSON.parse(readFileSync(join(ASSETS_DIR, "node.json"), "utf8"));
