import { describe, expect, it } from 'vitest';
import { en } from '../../src/lib/i18n/en';
import { t, tn } from '../../src/lib/i18n';

describe('t', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(t('err.locked', { minutes: 5 })).toBe('This account is locked. Try again in 5 minutes.');
    expect(t('err.locked')).toContain('{minutes}');
  });
  it('picks plural forms', () => {
    expect(tn('vm.count', 1)).toBe('1 unheard message');
    expect(tn('vm.count', 3)).toBe('3 unheard messages');
  });
  it('has no empty strings in the catalogue', () => {
    for (const [key, value] of Object.entries(en)) expect(value.trim(), key).not.toBe('');
  });
});
