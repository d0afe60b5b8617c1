// Small, pure formatting helpers (time passed in, never read from the clock here).

import { t } from '../i18n';

/** "0:07", "12:34", "1:02:03". */
export function formatDuration(totalSecs: number): string {
  const s = Math.max(0, Math.floor(totalSecs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** Start of the local day containing `ms`. */
export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The local midnight `days` days after the one of `ms` (negative for before). */
export function addDays(dayStart: number, days: number): number {
  const d = new Date(dayStart);
  d.setDate(d.getDate() + days);
  return d.getTime();
}

/** Time of day for today, "Yesterday …", weekday within a week, else a short date. */
export function formatWhen(ms: number, now: number, locale?: string): string {
  const today = startOfDay(now);
  const day = startOfDay(ms);
  const time = new Date(ms).toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit' });
  if (day === today) return time;
  if (day === addDays(today, -1)) return t('time.yesterday', { time });
  if (day > addDays(today, -7) && day < today) {
    return `${new Date(ms).toLocaleDateString(locale, { weekday: 'short' })} ${time}`;
  }
  return new Date(ms).toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** Up to two initials of a name for an avatar; empty when there is no name to take them from. */
export function initials(name: string | null): string {
  const words = (name ?? '').trim().split(/\s+/).filter((w) => /\p{L}/u.test(w));
  const first = words[0]?.[0] ?? '';
  const last = words.length > 1 ? (words[words.length - 1]?.[0] ?? '') : '';
  return (first + last).toUpperCase();
}

/** A `yyyy-mm-dd` date input value to the local midnight it names, or null when empty/invalid. */
export function dateInputToMs(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/** The exclusive end of the local day named by a `yyyy-mm-dd` value. */
export function dateInputToEndMs(value: string): number | null {
  const start = dateInputToMs(value);
  return start === null ? null : addDays(start, 1);
}
