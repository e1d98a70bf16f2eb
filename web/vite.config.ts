// Vite builds the console into gateway/console/dist, which the gateway embeds and serves at /.
// `npm run dev` serves it with hot reload and proxies the API (and the live socket) to a running
// gateway: GATEWAY_URL, default http://localhost:8080.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const gateway = process.env["GATEWAY_URL"] ?? "http://localhost:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../gateway/console/dist",
    emptyOutDir: true,
    // No data: URLs: the CSP is default-src 'self'. No inline module-preload polyfill either.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": {
        target: gateway,
        ws: true,
        // The gateway checks a socket's Origin against the Host it was sent to; the dev server is
        // another origin, so both are made the gateway's.
        changeOrigin: true,
        configure: (proxy) => {
          proxy.on("proxyReqWs", (req) => req.setHeader("origin", gateway));
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
