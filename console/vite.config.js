// Builds the console into the Python package, so `pip install` users need no Node.js.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const outDir = fileURLToPath(new URL("../src/modelyard/console/static", import.meta.url));

export default defineConfig({
  base: "/console/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir,
    emptyOutDir: true,
    // The polyfill would be an inline script, which the console's CSP forbids.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: "es2020",
    reportCompressedSize: true,
  },
});
