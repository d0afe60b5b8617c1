// Flow tests against the built UI (ui/dist served by `vite preview`), in the system's
// Chromium; Playwright never downloads a browser here. The Tauri IPC is replaced at its
// boundary by tests/e2e/harness (mockIPC), injected before the app's own scripts run.
import { execFileSync } from 'node:child_process';
import { defineConfig } from '@playwright/test';

function freePort(): string {
  const probe =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return execFileSync(process.execPath, ['-e', probe]).toString().trim();
}

// Chosen once in the runner and inherited by its workers through the environment.
process.env.SIDETONE_E2E_PORT ??= freePort();
const port = Number(process.env.SIDETONE_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}/`;

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results/playwright',
  fullyParallel: false,
  workers: process.env.CI ? 1 : 2,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 960, height: 680 },
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
    headless: true,
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.SIDETONE_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: baseURL,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
