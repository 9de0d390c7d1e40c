import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The package is run from `src/` in its own repository and from `dist/` once installed; both sit
// one level below the package root, so files beside them are found the same way from either.

/** The directory of the running code: the package's `src/` or `dist/`. */
export const CODE_DIR = dirname(fileURLToPath(import.meta.url));

/** The package's root: where its package.json and `assets/` are. */
export const PACKAGE_ROOT = dirname(CODE_DIR);

/** Files the package ships beside its code: image recipes, the Docker runtime shim, the Node pin. */
export const ASSETS_DIR = join(PACKAGE_ROOT, "assets");
