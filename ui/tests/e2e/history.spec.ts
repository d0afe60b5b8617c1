import { expect, openApp, test } from './fixtures';

test('history filters and search call history_query with the right arguments', async ({ page, shell }) => {
  await openApp(page, { accounts: 'registered' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'History' }).click();
  const screen = page.getByTestId('history-screen');
  await shell.expectCall('history_query', { filter: 'all', search: '', from: null, to: null, page: 1, pageSize: 25 });
  // A call we transferred says where it went.
  await expect(page.getByTestId('transferred-to')).toHaveText('Transferred to 201');
  await expect(screen.getByTestId('history-rows').locator('li')).toHaveCount(25);
  await expect(screen.getByText('1–25 of 38')).toBeVisible();

  await screen.getByRole('group', { name: 'Show' }).getByRole('button', { name: 'Missed' }).click();
  await shell.expectCall('history_query', { filter: 'missed', search: '', page: 1 });
  await expect(screen.getByRole('button', { name: 'Missed' })).toHaveAttribute('aria-pressed', 'true');
  const rows = screen.getByTestId('history-rows').locator('[data-kind]');
  await expect(rows.first()).toBeVisible();
  for (const kind of await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))) {
    expect(kind).toBe('missed');
  }

  // Typing is debounced: one query for the whole word, none for its prefixes.
  await screen.getByTestId('history-search').pressSequentially('priya', { delay: 40 });
  await shell.expectCall('history_query', { filter: 'missed', search: 'priya', page: 1 });
  await expect(screen.getByTestId('history-empty')).toHaveText('No calls match.');
  const searches = (await shell.calls('history_query')).map((c) => c.args.search);
  expect(searches).not.toContain('p');
  expect(searches).not.toContain('pri');

  await screen.getByRole('button', { name: 'All' }).click();
  await shell.expectCall('history_query', { filter: 'all', search: 'priya', page: 1 });
  await expect(screen.getByTestId('history-rows').locator('li')).toHaveCount(2);
  await shell.snap('16-history-search');

  // A date range: local midnights (the tests run in UTC), the end day included.
  await screen.getByTestId('history-search').fill('');
  await screen.getByTestId('history-from').fill('2025-01-01');
  await screen.getByTestId('history-to').fill('2025-01-31');
  await shell.expectCall('history_query', {
    filter: 'all',
    search: '',
    from: Date.UTC(2025, 0, 1),
    to: Date.UTC(2025, 1, 1),
    page: 1,
  });

  await screen.getByTestId('history-from').fill('');
  await screen.getByTestId('history-to').fill('');
  await screen.getByTestId('history-search').fill('priya');
  await expect(screen.getByTestId('history-rows').locator('li')).toHaveCount(2);
  await screen.getByRole('button', { name: 'Call Priya Natarajan back' }).first().click();
  await shell.expectCall('call_dial', { target: '+1 555 0142' });
  await page.getByTestId('hangup-button').click();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'History' }).click();
  await page.getByTestId('history-export').click();
  await shell.expectCall('history_export', { path: null, filter: 'all', search: '', from: null, to: null });
  await expect(page.getByTestId('notice')).toContainText('Exported 38 calls');
});
