import { expect, openApp, test } from './fixtures';

const LINK = 'sidetone://provision?d=northwind&t=7f3a9c';
const ADDRESS = {
  street: '500 Harbor Blvd',
  unit: 'Floor 3',
  city: 'Portland',
  region: 'OR',
  postalCode: '97204',
  country: 'United States',
};

test('a pasted link is confirmed, then password sign-in, terms, and a registered phone', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  await expect(page.getByRole('heading', { name: 'Set up your phone' })).toBeVisible();
  await shell.snap('01-welcome');

  await page.getByLabel('Link, code, e-mail or login ID').fill(LINK);
  await page.getByRole('button', { name: 'Next' }).click();
  await shell.expectCall('onboarding_parse_input', { input: LINK });

  // The confirmation names the provider and the server, and nothing is signed in yet.
  const confirm = page.getByTestId('confirm-deployment');
  await expect(confirm.getByRole('heading', { name: 'Add this phone system?' })).toBeVisible();
  await expect(confirm.getByTestId('confirm-provider')).toHaveText('Northwind Voice');
  await expect(confirm.getByTestId('confirm-host')).toHaveText('voice.northwind.example');
  expect(await shell.calls('onboarding_sign_in_password')).toHaveLength(0);
  await shell.snap('02-confirm-link');
  await confirm.getByRole('button', { name: 'Continue with this provider' }).click();

  // Wrong password: a red message right under the password field.
  const form = page.getByTestId('password-sign-in');
  await expect(form.getByTestId('provider-host')).toHaveText('voice.northwind.example');
  await expect(form.getByText('ann@northwind.example')).toBeVisible();
  const password = form.getByLabel('Password', { exact: true });
  await password.fill('hunter2');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await shell.expectCall('onboarding_sign_in_password', { deploymentId: 'dep-link', password: 'hunter2' });
  const error = form.getByTestId('password-error');
  await expect(error).toHaveText('That password is not right. Check it and try again.');
  await expect(error).toHaveCSS('color', 'rgb(180, 35, 27)');
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(password).toBeFocused();
  const fieldBox = await password.boundingBox();
  const errorBox = await error.boundingBox();
  expect(fieldBox && errorBox && errorBox.y >= fieldBox.y + fieldBox.height).toBe(true);
  expect(errorBox && fieldBox && Math.abs(errorBox.x - fieldBox.x) < 4).toBe(true);
  await shell.snap('03-password-wrong');

  await password.fill('correct-horse');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await shell.expectCall('onboarding_sign_in_password', {
    deploymentId: 'dep-link',
    accountId: null,
    loginId: null,
    password: 'correct-horse',
    staySignedIn: true,
  });

  // Terms: licence, emergency calling, and the emergency address.
  const terms = page.getByTestId('terms');
  await expect(terms.getByRole('heading', { name: 'Licence agreement' })).toBeVisible();
  await expect(terms.getByRole('heading', { name: /Emergency calling/ })).toBeVisible();
  await expect(terms.getByTestId('emergency-text')).toContainText('Emergency calls (911)');
  await terms.getByLabel('Street address').fill(ADDRESS.street);
  await terms.getByLabel('Suite, floor or unit (optional)').fill(ADDRESS.unit);
  await terms.getByLabel('City').fill(ADDRESS.city);
  await terms.getByLabel('State or region').fill(ADDRESS.region);
  await terms.getByLabel('Postal code').fill(ADDRESS.postalCode);
  await terms.getByLabel('Country').fill(ADDRESS.country);

  // Not both boxes ticked: nothing is sent.
  await terms.getByLabel('I accept the licence agreement').check();
  await terms.getByRole('button', { name: 'Accept and continue' }).click();
  await expect(terms.getByTestId('form-error')).toBeVisible();
  expect(await shell.calls('terms_accept')).toHaveLength(0);

  await terms.getByLabel('I understand the limits of emergency calling from this app').check();
  await shell.snap('04-terms');
  await terms.getByRole('button', { name: 'Accept and continue' }).click();
  await shell.expectCall('terms_accept', {
    accountId: 'acc-1',
    licenceVersion: '2024-03',
    emergencyVersion: '2023-11',
    emergencyAddress: ADDRESS,
  });

  // The phone: registration arrives as events.
  await expect(page.getByTestId('phone-screen')).toBeVisible();
  const pill = page.getByTestId('registration-pill');
  await expect(pill).toHaveAttribute('data-state', 'registered');
  await expect(pill).toHaveText('Registered');
  await shell.snap('05-phone-registered');
});

test('sign-in errors: locked with minutes to wait, and an unreachable server', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  await page.getByLabel('Link, code, e-mail or login ID').fill(LINK);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Continue with this provider' }).click();
  const form = page.getByTestId('password-sign-in');
  const password = form.getByLabel('Password', { exact: true });

  await password.fill('locked');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.getByTestId('form-error')).toHaveText('This account is locked. Try again in 15 minutes.');
  await expect(form.getByTestId('password-error')).toHaveCount(0);
  await shell.snap('06-password-locked');

  await password.fill('offline');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.getByTestId('form-error')).toHaveText(
    'Sidetone can’t reach voice.northwind.example. Check your internet connection and try again.',
  );
  expect((await shell.calls('onboarding_sign_in_password')).length).toBe(2);
});

test('three clicks on the logo reveal the manual server login', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  const logo = page.getByTestId('logo');
  await expect(logo).toBeVisible();
  await expect(page.getByText('Sign in to a server')).toHaveCount(0);

  // Too slow: two clicks, a pause longer than 1.5 s, one more.
  await logo.click();
  await logo.click();
  await page.waitForTimeout(1700);
  await logo.click();
  await expect(page.getByTestId('manual-login')).toHaveCount(0);

  // Two more quick clicks complete a burst of three.
  await logo.click();
  await logo.click();
  const manual = page.getByTestId('manual-login');
  await expect(manual.getByRole('heading', { name: 'Sign in to a server' })).toBeVisible();
  await shell.snap('07-manual-login');

  await manual.getByLabel('Server').fill('pbx.example.com');
  await manual.getByLabel('Login ID').fill('ann');
  await manual.getByLabel('Password').fill('correct-horse');
  await manual.getByRole('button', { name: 'Sign in' }).click();
  await shell.expectCall('onboarding_manual', { server: 'pbx.example.com', loginId: 'ann', password: 'correct-horse' });
  await expect(page.getByTestId('terms')).toBeVisible();
});

test('username first: two accounts show the picker', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  await page.getByLabel('Link, code, e-mail or login ID').fill('two@northwind.example');
  await page.getByRole('button', { name: 'Next' }).click();
  await shell.expectCall('onboarding_parse_input', { input: 'two@northwind.example' });
  await shell.expectCall('onboarding_discover', { user: 'two@northwind.example' });

  const picker = page.getByTestId('account-picker');
  await expect(picker.getByRole('heading', { name: 'Multiple accounts located' })).toBeVisible();
  const options = picker.getByRole('list', { name: 'Accounts' }).getByRole('button');
  await expect(options).toHaveCount(2);
  await expect(options.nth(0)).toContainText('Northwind Sales');
  await expect(options.nth(1)).toContainText('Northwind Support');
  await shell.snap('08-account-picker');

  await options.nth(1).click();
  const form = page.getByTestId('password-sign-in');
  await form.getByLabel('Password', { exact: true }).fill('correct-horse');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await shell.expectCall('onboarding_sign_in_password', { deploymentId: 'dep-multi', accountId: 'na-support' });
});

test('single sign-on waits for the browser and can be cancelled', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  await page.getByLabel('Link, code, e-mail or login ID').fill('sidetone://provision?d=contoso&sso=1');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('confirm-host')).toHaveText('pbx.contoso.example');
  await page.getByRole('button', { name: 'Continue with this provider' }).click();
  await page.getByRole('button', { name: 'Continue in browser' }).click();
  await shell.expectCall('onboarding_sign_in_sso', { deploymentId: 'dep-sso' });

  const waiting = page.getByTestId('sso-waiting');
  await expect(waiting.getByRole('heading', { name: 'Waiting for your browser' })).toBeVisible();
  await shell.snap('09-sso-waiting');
  await waiting.getByRole('button', { name: 'Cancel' }).click();
  await shell.expectCall('onboarding_cancel_sso', { deploymentId: 'dep-sso' });
  await expect(page.getByTestId('sso-sign-in')).toBeVisible();
  await expect(page.getByTestId('form-error')).toHaveCount(0);
});

test('deep links: sidetone:// asks for confirmation, tel: fills the dial field and never dials', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered', pendingLinks: [LINK] });
  await shell.expectCall('deep_link_pending');
  await shell.expectCall('onboarding_parse_input', { input: LINK });
  const confirm = page.getByTestId('confirm-deployment');
  await expect(confirm.getByTestId('confirm-provider')).toHaveText('Northwind Voice');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  // Back on the welcome step, which can be closed because an account exists.
  await page.getByTestId('welcome').getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId('phone-screen')).toBeVisible();
  expect(await shell.calls('onboarding_sign_in_password')).toHaveLength(0);

  await shell.emit('deep_link', { url: 'tel:+15550142' });
  await expect(page.getByTestId('dial-input')).toHaveValue('+15550142');
  await page.waitForTimeout(300);
  expect(await shell.calls('call_dial')).toHaveLength(0);
});

test('a pasted code and a picked QR image are confirmed before anything is signed in', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  await page.getByLabel('Link, code, e-mail or login ID').fill('7Q2M-0D4K');
  await page.getByRole('button', { name: 'Next' }).click();
  await shell.expectCall('onboarding_parse_input', { input: '7Q2M-0D4K' });
  const confirm = page.getByTestId('confirm-deployment');
  await expect(confirm.getByTestId('confirm-provider')).toHaveText('Northwind Voice');
  await expect(confirm.getByTestId('confirm-host')).toHaveText('voice.northwind.example');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  expect(await shell.calls('onboarding_sign_in_password')).toHaveLength(0);

  // A QR code from an image: the same confirmation, and only Continue goes on.
  await page.getByTestId('qr-file').setInputFiles({
    name: 'welcome.png',
    mimeType: 'image/png',
    buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  });
  await shell.expectCall('onboarding_decode_qr_image');
  await expect(confirm.getByTestId('confirm-provider')).toHaveText('Northwind Voice');
  await expect(confirm.getByTestId('confirm-host')).toHaveText('voice.northwind.example');
  expect(await shell.calls('onboarding_sign_in_password')).toHaveLength(0);
  await confirm.getByRole('button', { name: 'Continue with this provider' }).click();
  await expect(page.getByTestId('password-sign-in').getByTestId('provider-host')).toHaveText(
    'voice.northwind.example',
  );
  expect(await shell.calls('onboarding_sign_in_password')).toHaveLength(0);
});

const TOKEN_LINK = 'sidetone://provision?server=voice.northwind.example&token=7Q2M0D4K9VXR1H8A';

test('a one-time link signs in without a password once confirmed, then the terms', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none' });
  await page.getByLabel('Link, code, e-mail or login ID').fill(TOKEN_LINK);
  await page.getByRole('button', { name: 'Next' }).click();

  const confirm = page.getByTestId('confirm-deployment');
  await expect(confirm.getByTestId('confirm-host')).toHaveText('voice.northwind.example');
  await expect(confirm).toContainText('One-time link (no password needed)');
  // Confirmation comes first: the token is not spent before the user agrees.
  expect(await shell.calls('onboarding_sign_in_token')).toHaveLength(0);
  await confirm.getByRole('button', { name: 'Continue with this provider' }).click();

  await shell.expectCall('onboarding_sign_in_token', { deploymentId: 'dep-token', accountId: null });
  expect(await shell.calls('onboarding_sign_in_password')).toHaveLength(0);
  await expect(page.getByTestId('terms')).toBeVisible();
});

test('a one-time link for two accounts shows the picker, then signs in with the one picked', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none', tokenAccounts: true });
  await page.getByLabel('Link, code, e-mail or login ID').fill(TOKEN_LINK);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('confirm-deployment').getByRole('button', { name: 'Continue with this provider' }).click();

  const picker = page.getByTestId('account-picker');
  const options = picker.getByRole('list', { name: 'Accounts' }).getByRole('button');
  await expect(options).toHaveCount(2);
  await options.nth(1).click();
  await shell.expectCall('onboarding_sign_in_token', { deploymentId: 'dep-token', accountId: '100300' });
  await expect(page.getByTestId('terms')).toBeVisible();
});

test('a used one-time link says so and offers a way back', async ({ page, shell }) => {
  await openApp(page, { accounts: 'none', tokenUsed: true });
  await page.getByLabel('Link, code, e-mail or login ID').fill(TOKEN_LINK);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByTestId('confirm-deployment').getByRole('button', { name: 'Continue with this provider' }).click();
  await shell.expectCall('onboarding_sign_in_token', { deploymentId: 'dep-token' });
  const alert = page.getByTestId('redeem-error');
  await expect(alert).toBeVisible();
  await expect(alert).toContainText(/expired|new/i);
  await expect(page.getByRole('button', { name: 'Back' }).last()).toBeFocused();
});
