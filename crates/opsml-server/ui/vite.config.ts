import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Built files are embedded in the opsml binary; hashed names under /assets are cached for a
// year by the server. No inline scripts or styles: the server's Content-Security-Policy
// allows only files of its own origin.
export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
