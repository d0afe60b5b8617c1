// Bundles the fake shell into one classic script for Playwright's addInitScript.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  build: {
    lib: {
      entry: fileURLToPath(new URL('./fake-shell.ts', import.meta.url)),
      formats: ['iife'],
      name: 'SidetoneFakeShell',
      fileName: () => 'fake-shell.js',
    },
    outDir: fileURLToPath(new URL('../../../test-results/harness', import.meta.url)),
    emptyOutDir: true,
    minify: false,
    target: 'es2022',
  },
});
