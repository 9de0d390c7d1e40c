import { resolve } from "node:path";

/** The package's own directory. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, "..");
/** The repository the package lives in, and its first customer: the todo MCP server's app. */
export const REPO_ROOT = resolve(PACKAGE_ROOT, "..", "..");
