// A tiny translation helper over the one catalogue (en.ts). No runtime locale switching yet:
// a second language is a second catalogue with the same keys.

import { en, type MessageKey } from './en';

export type { MessageKey };
export type Params = Record<string, string | number>;

/** The catalogue string for `key`, with `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Params): string {
  const text: string = en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

type PluralBase = {
  [K in MessageKey]: K extends `${infer B}.one` ? (`${B}.other` extends MessageKey ? B : never) : never;
}[MessageKey];

/** Plural form: picks `${base}.one` or `${base}.other` by `count`, and fills `{count}`. */
export function tn(base: PluralBase, count: number, params?: Params): string {
  const key = (count === 1 ? `${base}.one` : `${base}.other`) as MessageKey;
  return t(key, { count, ...params });
}
