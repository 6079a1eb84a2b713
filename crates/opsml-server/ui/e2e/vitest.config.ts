import { defineConfig } from "vitest/config";

// End-to-end tests: a real `opsml ui` or `opsml server`, runs logged by the Python API, and
// Debian's Chromium driven headless. One file at a time: each starts its own processes.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    testTimeout: 90_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
