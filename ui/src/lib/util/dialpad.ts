// The dial pad's keys and the small input rules of the dial field.

export interface DialKey {
  digit: string;
  letters: string;
}

export const DIAL_KEYS: readonly DialKey[] = [
  { digit: '1', letters: '' },
  { digit: '2', letters: 'ABC' },
  { digit: '3', letters: 'DEF' },
  { digit: '4', letters: 'GHI' },
  { digit: '5', letters: 'JKL' },
  { digit: '6', letters: 'MNO' },
  { digit: '7', letters: 'PQRS' },
  { digit: '8', letters: 'TUV' },
  { digit: '9', letters: 'WXYZ' },
  { digit: '*', letters: '' },
  { digit: '0', letters: '+' },
  { digit: '#', letters: '' },
];

/** True for a key the DTMF keypad sends. */
export function isDtmfKey(key: string): boolean {
  return /^[0-9*#]$/.test(key);
}

/**
 * Text pasted into the dial field: trimmed, line breaks folded, and a leading `tel:`/`callto:`
 * prefix kept as typed (the shell normalises targets; the UI only tidies whitespace).
 */
export function cleanPastedTarget(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').trim().slice(0, 256);
}
