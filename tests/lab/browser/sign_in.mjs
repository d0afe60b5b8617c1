// The user at the system browser, for sign-in tests: headless Chromium (Debian's, driven by
// Playwright from ui/node_modules) opens the authorization URL the app would open, fills the
// lab identity provider's pages (password, TOTP, forced password change, or Cancel), and
// follows the redirect to the app's loopback listener. Prints one JSON line: the final URL's
// path and the text of the page the app served there.
//
//   node tests/lab/browser/sign_in.mjs --url URL --login L --password P \
//        [--totp-secret BASE32] [--new-password NP] [--cancel]
//
// Exits 0 when the browser reached the loopback redirect, 1 otherwise (with the page's text).

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { hotp, base32Decode, STEP_SECONDS } from '../idp/lib/totp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiRequire = createRequire(path.join(here, '../../../ui/package.json'));
let chromium;
try {
  ({ chromium } = uiRequire('playwright-core'));
} catch {
  console.error('sign_in.mjs needs ui/node_modules: run `npm ci --prefix ui` (scripts/test.sh does)');
  process.exit(2);
}

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, '');
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith('--')) args[key] = true;
  else { args[key] = next; i++; }
}
if (!args.url) {
  console.error('usage: sign_in.mjs --url URL --login L --password P [--totp-secret S] [--new-password NP] [--cancel]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.SIDETONE_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
let reached = false;
let result = {};
try {
  // The lab's IdP has a certificate from the lab CA, which this throwaway browser profile
  // does not know. This is the user's browser, not Sidetone: Sidetone's own requests verify
  // against the lab CA.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(args.url);
  for (let step = 0; step < 6; step++) {
    const url = new URL(page.url());
    if (url.hostname === '127.0.0.1' && url.protocol === 'http:') {
      reached = true;
      break;
    }
    if (await page.locator('#login-form').count()) {
      if (args.cancel) {
        await Promise.all([page.waitForEvent('load'), page.click('#abort')]);
        continue;
      }
      await page.fill('#login', args.login ?? '');
      await page.fill('#password', args.password ?? '');
      await Promise.all([page.waitForEvent('load'), page.click('#submit')]);
    } else if (await page.locator('#totp-form').count()) {
      const counter = Math.floor(Date.now() / 1000 / STEP_SECONDS);
      const code = hotp(base32Decode(args['totp-secret'] ?? ''), counter);
      await page.fill('#code', code);
      await Promise.all([page.waitForEvent('load'), page.click('#submit')]);
    } else if (await page.locator('#change-password-form').count()) {
      await page.fill('#new_password', args['new-password'] ?? '');
      await page.fill('#confirm_password', args['new-password'] ?? '');
      await Promise.all([page.waitForEvent('load'), page.click('#submit')]);
    } else {
      break;
    }
  }
  const final = new URL(page.url());
  result = { path: final.pathname, reached, text: (await page.innerText('body')).trim() };
} catch (error) {
  result = { reached, error: String(error) };
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(reached ? 0 : 1);
