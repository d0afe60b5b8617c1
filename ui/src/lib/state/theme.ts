// Applies the theme setting to the document: `data-theme` is always the resolved 'dark' or
// 'light'; 'system' follows prefers-color-scheme live. The setting itself is persisted by the
// shell (settings_set); localStorage only mirrors it so the first paint has the right colours.

import type { Theme } from '../api';

const MIRROR_KEY = 'sidetone.theme';
let chosen: Theme = 'system';
let query: MediaQueryList | null = null;

function resolve(): 'dark' | 'light' {
  if (chosen === 'dark' || chosen === 'light') return chosen;
  return query?.matches ? 'dark' : 'light';
}

function paint(): void {
  const resolved = resolve();
  const root = document.documentElement;
  root.dataset.theme = resolved;
  root.style.colorScheme = resolved;
}

function isTheme(value: unknown): value is Theme {
  return value === 'dark' || value === 'light' || value === 'system';
}

/** Paints the mirrored theme (if any) and starts following the system preference. */
export function startTheme(): void {
  query = window.matchMedia('(prefers-color-scheme: dark)');
  query.addEventListener('change', paint);
  try {
    const mirrored = localStorage.getItem(MIRROR_KEY);
    if (isTheme(mirrored)) chosen = mirrored;
  } catch {
    // Storage may be unavailable; the shell's setting arrives moments later anyway.
  }
  paint();
}

/** Applies a theme setting (from settings_get / settings_set). */
export function applyTheme(theme: Theme): void {
  chosen = theme;
  try {
    localStorage.setItem(MIRROR_KEY, theme);
  } catch {
    // See startTheme.
  }
  paint();
}
