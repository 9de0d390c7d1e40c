import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing but Node; `e2e` drives real engines
// (Docker, Dagger, registries) and runs its files one at a time because they
// share one Docker daemon and one Dagger engine on a 2-core machine.
// Both fail the run when a process the tests started outlives it (leak-check.ts).
const LEAK_CHECK = "test/app/support/leak-check.ts";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          exclude: ["**/*.e2e.test.ts", "**/node_modules/**"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          globalSetup: [LEAK_CHECK],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.e2e.test.ts", "packages/*/test/**/*.e2e.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          globalSetup: [LEAK_CHECK],
        },
      },
    ],
  },
});
