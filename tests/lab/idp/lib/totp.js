// TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA1, 30-second steps, 6 digits, the secret
// shared as RFC 4648 base32 (what authenticator apps take), one step of clock skew accepted,
// and a code accepted once only (a replayed code within its window is refused).

import { createHmac, timingSafeEqual } from 'node:crypto';

const RFC4648 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const STEP_SECONDS = 30;
export const DIGITS = 6;

export function base32Decode(text) {
  const clean = String(text).toUpperCase().replace(/[\s=]/g, '');
  const out = [];
  let acc = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = RFC4648.indexOf(ch);
    if (value < 0) throw new Error('bad base32 secret');
    acc = (acc << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

export function hotp(key, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** DIGITS;
  return String(value).padStart(DIGITS, '0');
}

/**
 * Check `code` against `secret` at `nowSeconds`. Returns the matched time step, or null.
 * `lastStep` is the step of the last accepted code: that step and earlier ones are refused.
 */
export function verifyTotp(secret, code, nowSeconds, lastStep = -1) {
  if (typeof code !== 'string' || !/^[0-9]{6}$/.test(code.trim())) return null;
  const key = base32Decode(secret);
  const current = Math.floor(nowSeconds / STEP_SECONDS);
  const given = Buffer.from(code.trim());
  for (const step of [current - 1, current, current + 1]) {
    if (step <= lastStep) continue;
    if (timingSafeEqual(Buffer.from(hotp(key, step)), given)) return step;
  }
  return null;
}
