/**
 * Node flags the servers are meant to run with; whatever starts them passes these: the bench
 * and the dev runner do, and so should the image's command.
 *
 * `--max-semi-space-size=4` caps V8's young generation at two 4 MiB semi-spaces. Left alone,
 * Node 24 grows it to 2 × 64 MiB on a machine with this much memory once allocation runs
 * fast, which a server making a fresh MCP server for every request does: the MCP server's RSS
 * then climbs past 300 MiB under load. Capped, the bundle the image ships stays near 170 MiB
 * (the source under tsx carries some 40 MiB of loader on top), at the same creates/s and CPU
 * per create (bench:load).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];
