import { expect, openApp, test } from './fixtures';

test('the theme switch is saved through settings_set and survives a restart', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  const screen = page.getByTestId('settings-screen');
  await expect(screen.getByRole('heading', { name: 'Settings' })).toBeVisible();
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');

  await screen.getByText('Dark', { exact: true }).click();
  await shell.expectCall('settings_set', { patch: { theme: 'dark' } });
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(14, 19, 24)');
  await expect(screen.getByTestId('theme-dark')).toBeChecked();
  await shell.snap('17-settings');

  // A restart: the local mirror is gone, so the theme must come from settings_get.
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await shell.expectCall('settings_get');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('theme-dark')).toBeChecked();

  // 'Match system' follows the system preference live.
  await page.getByText('Match system', { exact: true }).click();
  await shell.expectCall('settings_set', { patch: { theme: 'system' } });
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveAttribute('data-theme', 'light');
});

test('voicemail: red-dot count in the nav, mark heard, delete after confirming', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByTestId('voicemail-badge')).toHaveText('2');
  await nav.getByRole('button', { name: 'Voicemail, 2 unheard' }).click();
  const screen = page.getByTestId('voicemail-screen');
  await expect(screen.getByText('2 unheard messages')).toBeVisible();
  await shell.expectCall('voicemail_sync');
  await shell.snap('18-voicemail');

  await screen.locator('[data-voicemail="vm3"]').getByRole('button', { name: 'Save as WAV file' }).click();
  await shell.expectCall('voicemail_export', { id: 'vm3', path: null });
  await expect(page.getByText('Saved to /home/user/Downloads/voicemail-vm3.wav')).toBeVisible();

  const first = screen.locator('[data-voicemail="vm1"]');
  await first.getByRole('button', { name: 'Mark as heard' }).click();
  await shell.expectCall('voicemail_mark_heard', { id: 'vm1', heard: true });
  await expect(nav.getByTestId('voicemail-badge')).toHaveText('1');

  const second = screen.locator('[data-voicemail="vm2"]');
  await second.getByRole('button', { name: 'Delete message' }).click();
  expect(await shell.calls('voicemail_delete')).toHaveLength(0);
  await second.getByRole('button', { name: 'Confirm delete' }).click();
  await shell.expectCall('voicemail_delete', { id: 'vm2' });
  await expect(screen.locator('[data-voicemail="vm2"]')).toHaveCount(0);
  await expect(nav.getByTestId('voicemail-badge')).toHaveCount(0);
});

test('a session the provider ended: told at once, and "Sign in again" starts from the login ID', async ({
  page,
  shell,
}) => {
  await openApp(page, { accounts: 'registered' });
  await shell.emit('session_expired', {
    accountId: 'acc-1',
    loginId: 'ann@northwind.example',
    providerName: 'Northwind Telecom',
  });
  await expect(page.getByText('Your sign-in with Northwind Telecom has ended.')).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByTestId('sign-in-again-acc-1').click();
  await shell.expectCall('onboarding_parse_input', { input: 'ann@northwind.example' });
});

test('signing out asks to confirm and can also remove the voicemail kept here', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByTestId('sign-out-acc-1').click();
  expect(await shell.calls('account_sign_out')).toHaveLength(0);
  await page.getByTestId('forget-data-acc-1').check();
  await page.getByTestId('sign-out-acc-1').click();
  await shell.expectCall('account_sign_out', { accountId: 'acc-1', forgetData: true });
});
