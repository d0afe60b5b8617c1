import { expect, openApp, test } from './fixtures';

test('dialling from the keypad calls call_dial with the digits', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await expect(page.getByTestId('registration-pill')).toHaveText('Registered');
  await expect(page.getByText('Marcus Chen').first()).toBeVisible();

  const pad = page.getByRole('group', { name: 'Dial pad' });
  for (const digit of ['2', '0', '1']) await pad.locator(`[data-digit="${digit}"]`).click();
  await expect(page.getByTestId('dial-input')).toHaveValue('201');
  await expect(pad.getByRole('button', { name: '2 ABC' })).toBeVisible();
  await shell.snap('10-phone-dialpad');

  await page.getByTestId('dial-button').click();
  const dial = await shell.expectCall('call_dial', { target: '201' });
  expect(dial.args).toEqual({ target: '201', accountId: 'acc-1' });
  expect(await shell.calls('call_dial')).toHaveLength(1);

  const call = page.getByTestId('in-call');
  await expect(call.getByTestId('call-name')).toHaveText('Marcus Chen');
  await expect(call.getByTestId('call-status')).toContainText('Connected');
  await expect(call.getByTestId('call-timer')).toHaveText(/^0:0\d$/);
  await expect(call.getByRole('img', { name: 'Call quality: good' })).toBeVisible();
  await shell.snap('11-in-call');
});

test('in-call controls: hold, mute, keypad and hang up', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await page.getByTestId('dial-input').fill('210');
  await page.getByTestId('dial-input').press('Enter');
  const { args } = await shell.expectCall('call_dial', { target: '210' });
  expect(args.target).toBe('210');
  const call = page.getByTestId('in-call');
  await expect(call.getByTestId('call-status')).toContainText('Connected');
  const callId = 'call-1';

  await call.getByRole('button', { name: 'Hold' }).click();
  await shell.expectCall('call_hold', { callId, hold: true });
  await expect(call.getByTestId('call-status')).toContainText('On hold');
  await expect(call.getByRole('button', { name: 'Resume' })).toHaveAttribute('aria-pressed', 'true');
  await call.getByRole('button', { name: 'Resume' }).click();
  await shell.expectCall('call_hold', { callId, hold: false });

  await call.getByRole('button', { name: 'Mute' }).click();
  await shell.expectCall('call_mute', { callId, mute: true });
  await expect(call.getByRole('button', { name: 'Unmute' })).toHaveAttribute('aria-pressed', 'true');

  await call.getByRole('button', { name: 'Keypad' }).click();
  await call.getByRole('group', { name: 'Dial pad' }).locator('[data-digit="5"]').click();
  await page.keyboard.press('#');
  await shell.expectCall('call_dtmf', { callId, digits: '5' });
  await shell.expectCall('call_dtmf', { callId, digits: '#' });
  await shell.snap('12-in-call-keypad');

  await call.getByRole('button', { name: 'Transfer' }).click();
  await page.getByLabel('Transfer to').fill('200');
  await shell.snap('13-in-call-transfer');
  await page.getByRole('button', { name: 'Transfer now' }).click();
  await shell.expectCall('call_transfer_blind', { callId, target: '200' });
  await expect(page.getByTestId('phone-screen')).toBeVisible();
  expect(await shell.calls('call_hangup')).toHaveLength(0);
});

test('an incoming call can be answered and hung up', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await expect(page.getByTestId('phone-screen')).toBeVisible();
  await page.evaluate(() => window.__fake.ring('+1 555 0142', 'Priya Natarajan'));
  const dialog = page.getByRole('alertdialog', { name: 'Incoming call' });
  await expect(dialog).toContainText('Priya Natarajan');
  await expect(dialog.getByRole('button', { name: 'Answer' })).toBeFocused();
  await shell.snap('14-incoming-call');

  await page.keyboard.press('Enter');
  await shell.expectCall('call_answer', { callId: 'call-1' });
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('call-status')).toContainText('Connected');
  await page.getByTestId('hangup-button').click();
  await shell.expectCall('call_hangup', { callId: 'call-1' });
  await expect(page.getByTestId('phone-screen')).toBeVisible();
});

test('keyboard only: Tab reaches the dial button, with a visible focus ring', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await expect(page.getByTestId('phone-screen')).toBeVisible();
  await page.keyboard.type('204');
  await expect(page.getByTestId('dial-input')).toHaveValue('204');

  const order: string[] = [];
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return {
        name: el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '',
        testid: el?.dataset.testid ?? '',
        outline: el ? getComputedStyle(el).outlineStyle : 'none',
      };
    });
    order.push(info.name);
    if (info.testid === 'dial-button') {
      reached = true;
      expect(info.outline).toBe('solid');
    }
  }
  expect(reached, `focus order: ${order.join(' → ')}`).toBe(true);
  // The rail's destinations come before the dial pad.
  expect(order).toEqual(expect.arrayContaining(['Phone', 'History', 'Settings', '1', '2 ABC']));
  await shell.snap('15-keyboard-focus');

  await page.keyboard.press('Enter');
  await shell.expectCall('call_dial', { target: '204' });
});
