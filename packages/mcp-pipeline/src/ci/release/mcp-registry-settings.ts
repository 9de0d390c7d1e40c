import { z } from "zod";
import { MCP_REGISTRY_URL } from "../mcp/server-json.js";
import { PublishInputError } from "./mcp-registry-errors.js";

// Where a release lists its server and as whom: the environment, parsed once at the edge.

/** How mcp-publisher proves who publishes. */
export const AUTH_METHODS = ["github-oidc", "token", "none"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Where to publish and as whom, from the environment (parsed once, here). */
export const PublishSettings = z
  .object({
    MCP_REGISTRY_URL: z
      .url({
        error: "expected the registry's base URL, e.g. https://registry.modelcontextprotocol.io",
      })
      .default(MCP_REGISTRY_URL),
    MCP_REGISTRY_AUTH: z
      .enum(AUTH_METHODS, { error: `expected one of ${AUTH_METHODS.join(", ")}` })
      .optional(),
    MCP_REGISTRY_TOKEN: z.string().min(1, { error: "is empty" }).optional(),
    ACTIONS_ID_TOKEN_REQUEST_URL: z.string().optional(),
  })
  .transform((env, ctx) => {
    const auth: AuthMethod | undefined =
      env.MCP_REGISTRY_AUTH ??
      (env.MCP_REGISTRY_TOKEN
        ? "token"
        : env.ACTIONS_ID_TOKEN_REQUEST_URL
          ? "github-oidc"
          : undefined);
    if (!auth) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_REGISTRY_AUTH"],
        message:
          "is unset and nothing else says how to log in: on GitHub Actions give the job `id-token: write` (github-oidc); elsewhere set MCP_REGISTRY_TOKEN to a registry token, or MCP_REGISTRY_AUTH=none for a registry with anonymous publishing",
      });
      return z.NEVER;
    }
    if (auth === "token" && !env.MCP_REGISTRY_TOKEN) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_REGISTRY_TOKEN"],
        message: "is required with MCP_REGISTRY_AUTH=token",
      });
      return z.NEVER;
    }
    return { url: env.MCP_REGISTRY_URL.replace(/\/+$/, ""), auth, token: env.MCP_REGISTRY_TOKEN };
  });
export type PublishSettings = z.infer<typeof PublishSettings>;

/** The environment settings as one, or a PublishInputError naming the variable and what was expected. */
export function parseSettings(env: NodeJS.ProcessEnv): PublishSettings {
  // A workflow passes an unset variable or secret as "": that is no value, not a bad one.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = PublishSettings.safeParse(given);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  throw new PublishInputError(
    `$${String(issue?.path[0] ?? "environment")} ${issue?.message ?? "is invalid"}`,
  );
}
