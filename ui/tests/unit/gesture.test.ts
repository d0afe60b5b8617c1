import { describe, expect, it } from 'vitest';
import { ClickBurst } from '../../src/lib/util/gesture';
import { cleanPastedTarget, isDtmfKey } from '../../src/lib/util/dialpad';

describe('ClickBurst', () => {
  it('fires on three clicks within the window', () => {
    const b = new ClickBurst(3, 1500);
    expect(b.click(0)).toBe(false);
    expect(b.click(500)).toBe(false);
    expect(b.click(1400)).toBe(true);
  });
  it('does not fire when the clicks are too slow', () => {
    const b = new ClickBurst(3, 1500);
    expect(b.click(0)).toBe(false);
    expect(b.click(1000)).toBe(false);
    expect(b.click(2000)).toBe(false);
    expect(b.click(2600)).toBe(false);
    expect(b.click(3000)).toBe(true);
  });
  it('starts over after firing', () => {
    const b = new ClickBurst(3, 1500);
    b.click(0);
    b.click(1);
    expect(b.click(2)).toBe(true);
    expect(b.click(3)).toBe(false);
  });
});

describe('dial helpers', () => {
  it('accepts DTMF keys only', () => {
    for (const k of ['0', '9', '*', '#']) expect(isDtmfKey(k)).toBe(true);
    for (const k of ['a', '+', '10', '']) expect(isDtmfKey(k)).toBe(false);
  });
  it('tidies pasted text', () => {
    expect(cleanPastedTarget('  +1 (555) 010-0142\n')).toBe('+1 (555) 010-0142');
    expect(cleanPastedTarget('a\r\nb')).toBe('a b');
  });
});
