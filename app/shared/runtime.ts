/**
 * Node flags the servers are meant to run with; whatever starts them passes these: the bench
 * and the dev runner do, and so should the image's command.
 *
 * `--max-semi-space-size=8` caps V8's young generation at two 8 MiB semi-spaces. Left alone,
 * Node 24 grows it to 2 × 64 MiB on a machine with this much memory once allocation runs
 * fast, which a server making a fresh MCP server for every request does: the MCP server's RSS
 * then climbs past 300 MiB under load. Capped, it stays under 200 MiB, and creates/s and CPU
 * per create measure the same (app/README.md, Benchmarks).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
