import { describe, expect, it } from 'vitest';
import { dateInputToEndMs, dateInputToMs, formatDuration, formatWhen, initials } from '../../src/lib/util/format';

describe('formatDuration', () => {
  it('formats seconds, minutes and hours', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(7)).toBe('0:07');
    expect(formatDuration(754)).toBe('12:34');
    expect(formatDuration(3723)).toBe('1:02:03');
  });
  it('clamps negative and fractional input', () => {
    expect(formatDuration(-5)).toBe('0:00');
    expect(formatDuration(59.9)).toBe('0:59');
  });
});

describe('formatWhen', () => {
  const now = new Date(2025, 4, 14, 15, 0).getTime(); // a Wednesday
  it('shows only the time for today', () => {
    expect(formatWhen(new Date(2025, 4, 14, 9, 5).getTime(), now, 'en-US')).toBe('9:05 AM');
  });
  it('says Yesterday for the day before', () => {
    expect(formatWhen(new Date(2025, 4, 13, 23, 30).getTime(), now, 'en-US')).toBe('Yesterday 11:30 PM');
  });
  it('uses the weekday within the week and a date before that', () => {
    expect(formatWhen(new Date(2025, 4, 10, 8, 0).getTime(), now, 'en-US')).toBe('Sat 8:00 AM');
    expect(formatWhen(new Date(2025, 3, 2, 8, 0).getTime(), now, 'en-US')).toBe('Apr 2, 2025');
  });
});

describe('initials', () => {
  it('takes first and last initials of a name', () => {
    expect(initials('Ann Marie Lee')).toBe('AL');
    expect(initials('ann')).toBe('A');
  });
  it('is empty without a name', () => {
    expect(initials(null)).toBe('');
    expect(initials('  ')).toBe('');
    expect(initials('+1 555')).toBe('');
  });
});

describe('date inputs', () => {
  it('maps a day to its local midnight and the next one', () => {
    expect(dateInputToMs('2025-05-14')).toBe(new Date(2025, 4, 14).getTime());
    expect(dateInputToEndMs('2025-05-14')).toBe(new Date(2025, 4, 15).getTime());
  });
  it('returns null for empty or malformed input', () => {
    expect(dateInputToMs('')).toBeNull();
    expect(dateInputToMs('14/05/2025')).toBeNull();
    expect(dateInputToEndMs('')).toBeNull();
  });
});
