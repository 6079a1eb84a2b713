import { defineConfig } from "vitest/config";

// Unit tests of the data transforms: plain functions, no browser.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
