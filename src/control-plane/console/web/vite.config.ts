/**
 * The console's build: Preact JSX through Vite's own transform (no plugin), one JS and one CSS
 * file hashed under assets/, nothing inline (the CSP has no 'unsafe-inline').
 * `vite build --config src/control-plane/console/web/vite.config.ts` writes dist/console/.
 */
import path from 'node:path';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.CONSOLE_OUT_DIR ?? path.resolve(here, '../../../../dist/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The preload polyfill would be an inline script; every browser the console targets has modulepreload.
    modulePreload: { polyfill: false },
    // Inlined assets become data: URLs; only images may be (img-src data:).
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
