// Shared set-up for the flow tests: the fake shell, its recorded IPC calls, and screenshots.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page } from '@playwright/test';
import type { RecordedCall, Scenario } from './harness/fake-shell';

const here = dirname(fileURLToPath(import.meta.url));
const HARNESS = join(here, '../../test-results/harness/fake-shell.js');
const SCREENS = join(here, '../../test-results/screens');

export interface Shell {
  /** The IPC calls the app made so far, optionally only those of one command. */
  calls(cmd?: string): Promise<RecordedCall[]>;
  /** Waits until the app has called `cmd` with args matching `args` (a subset), and returns them. */
  expectCall(cmd: string, args?: Record<string, unknown>): Promise<RecordedCall>;
  /** Sends a shell event to the app. */
  emit(event: string, payload: unknown): Promise<void>;
  /** Saves a screenshot of the page in both themes to test-results/screens/. */
  snap(name: string): Promise<void>;
}

function matches(actual: Record<string, unknown>, expected: Record<string, unknown>): boolean {
  return Object.entries(expected).every(([k, v]) => JSON.stringify(actual[k]) === JSON.stringify(v));
}

export async function openApp(page: Page, scenario: Scenario): Promise<void> {
  if (!existsSync(HARNESS)) throw new Error(`${HARNESS} is missing: run \`npm run build:harness\` first`);
  await page.addInitScript((s) => {
    window.__SIDETONE_SCENARIO__ = s;
  }, scenario);
  await page.addInitScript({ path: HARNESS });
  await page.goto('/');
}

export const test = base.extend<{ shell: Shell }>({
  shell: async ({ page, baseURL }, use) => {
    // Everything the app needs is bundled: a request anywhere else fails the test, and so
    // does an uncaught error in the page.
    const origin = new URL(baseURL ?? 'http://127.0.0.1/').origin;
    const external: string[] = [];
    const pageErrors: string[] = [];
    await page.route(
      (url) => url.origin !== origin && !url.protocol.startsWith('data') && !url.protocol.startsWith('blob'),
      (route) => {
        external.push(route.request().url());
        return route.abort();
      },
    );
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const calls = (cmd?: string) =>
      page.evaluate((c) => window.__fake.calls.filter((x) => !c || x.cmd === c), cmd);
    const shell: Shell = {
      calls,
      async expectCall(cmd, args = {}) {
        let found: RecordedCall | undefined;
        await expect
          .poll(
            async () => {
              found = (await calls(cmd)).find((c) => matches(c.args, args));
              return found !== undefined;
            },
            { message: `expected a ${cmd} call with ${JSON.stringify(args)}` },
          )
          .toBe(true);
        return found as RecordedCall;
      },
      emit: (event, payload) =>
        page.evaluate(([e, p]) => window.__fake.emit(e as never, p as never), [event, payload] as const),
      async snap(name) {
        mkdirSync(SCREENS, { recursive: true });
        const original = await page.evaluate(() => document.documentElement.dataset.theme ?? '');
        for (const theme of ['light', 'dark'] as const) {
          await page.evaluate((t) => {
            document.documentElement.dataset.theme = t;
            document.documentElement.style.colorScheme = t;
          }, theme);
          await page.screenshot({ path: join(SCREENS, `${name}-${theme}.png`), animations: 'disabled', caret: 'hide' });
        }
        await page.evaluate((t) => {
          document.documentElement.dataset.theme = t;
          document.documentElement.style.colorScheme = t;
        }, original);
      },
    };
    await use(shell);
    expect(external, 'requests outside the app').toEqual([]);
    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  },
});

export { expect };
