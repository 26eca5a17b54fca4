// The dashboard is a static single-page app served by the API process under /dashboard/.
// Vite 8 transforms TSX natively (Oxc); no React plugin is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/dashboard/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1200 },
  // `vite dev` against a running API (npm start) for work on the pages.
  server: { proxy: { '/graphql': 'http://localhost:4000', '/artifacts': 'http://localhost:4000' } },
});
