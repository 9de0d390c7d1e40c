/**
 * Bundles `entry` (a `.ts` file of the repository at `root`) into one ES module
 * under `node_modules/.cache/mcp-pipeline/` and returns its path. Run it with
 * `node --enable-source-maps`.
 */
export function compile(entry: string, root: string): Promise<string>;
