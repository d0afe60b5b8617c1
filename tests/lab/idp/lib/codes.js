// Deployment links and authentication codes (docs/provisioning.md, "Deployment links").
//
//   link (url form):    sidetone://provision?url=https%3A%2F%2FHOST%2Fpath&token=TOKEN
//   link (server form): sidetone://provision?server=HOST&token=TOKEN
//   code:               "1" + TOKEN (16 symbols) + base32(UTF-8 host) + check symbol,
//                       Crockford base32, shown in groups of four joined by "-".
//
// The Python tests carry an independent implementation of the decoder; both follow the doc.

import { randomBytes } from 'node:crypto';

export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CHECK_ALPHABET = `${ALPHABET}*~$=U`;
export const CODE_VERSION = '1';
export const TOKEN_SYMBOLS = 16; // 80 bits
export const DOCUMENT_PATH = '/provisioning/v1/document';

/** Crockford base32 of bytes, bits packed most significant first, the last symbol zero-padded. */
export function encodeBase32(bytes) {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) {
    out += ALPHABET[(acc << (5 - bits)) & 31];
  }
  return out;
}

/** Inverse of encodeBase32 for canonical symbols; throws on non-zero padding bits. */
export function decodeBase32(symbols) {
  const out = [];
  let acc = 0;
  let bits = 0;
  for (const symbol of symbols) {
    const value = ALPHABET.indexOf(symbol);
    if (value < 0) throw new Error(`not a base32 symbol: ${symbol}`);
    acc = (acc << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) throw new Error('non-zero padding bits');
  return Buffer.from(out);
}

/** The canonical form of what a person typed: upper case, no spaces or hyphens, O->0, I/L->1. */
export function normalize(input) {
  return String(input)
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

/** Crockford's check symbol: the value of the symbols as one number, modulo 37. */
export function checkSymbol(symbols) {
  let rest = 0;
  for (const symbol of symbols) {
    const value = ALPHABET.indexOf(symbol);
    if (value < 0) throw new Error(`not a base32 symbol: ${symbol}`);
    rest = (rest * 32 + value) % 37;
  }
  return CHECK_ALPHABET[rest];
}

/** A new one-time token: 80 random bits as 16 Crockford symbols. */
export function newToken() {
  return encodeBase32(randomBytes(10));
}

/** A token as a client sends it, in canonical form, or null if it is not a token. */
export function canonicalToken(input) {
  if (typeof input !== 'string' || input.length > 128) return null;
  const token = normalize(input);
  if (token.length < TOKEN_SYMBOLS || token.length > 64) return null;
  for (const symbol of token) {
    if (!ALPHABET.includes(symbol)) return null;
  }
  return token;
}

function groups(symbols) {
  return symbols.match(/.{1,4}/g).join('-');
}

/** The authentication code for `server=host` + `token`. */
export function authenticationCode(host, token) {
  if (token.length !== TOKEN_SYMBOLS) throw new Error('codes carry 16-symbol tokens only');
  const payload = CODE_VERSION + token + encodeBase32(Buffer.from(host.toLowerCase(), 'utf8'));
  return groups(payload + checkSymbol(payload));
}

/** Decode an authentication code into { server, token }; throws Error with a `code` property. */
export function decodeAuthenticationCode(input) {
  const fail = (code, message) => Object.assign(new Error(message), { code });
  const symbols = normalize(input);
  if (symbols.length < 1 + TOKEN_SYMBOLS + 2 + 1 || symbols.length > 512) {
    throw fail('code_malformed', 'wrong length');
  }
  const payload = symbols.slice(0, -1);
  for (const symbol of payload) {
    if (!ALPHABET.includes(symbol)) throw fail('code_malformed', `unexpected symbol ${symbol}`);
  }
  if (checkSymbol(payload) !== symbols.at(-1)) throw fail('code_checksum', 'check symbol mismatch');
  if (payload[0] !== CODE_VERSION) throw fail('code_unsupported_version', 'unknown code version');
  const token = payload.slice(1, 1 + TOKEN_SYMBOLS);
  let server;
  try {
    server = decodeBase32(payload.slice(1 + TOKEN_SYMBOLS)).toString('utf8');
  } catch {
    throw fail('code_malformed', 'bad host encoding');
  }
  if (!isServer(server)) throw fail('code_malformed', 'not a host name');
  return { server, token };
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const SERVER_RE = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::([0-9]{1,5}))?$`);

/** True for `host`, `host:port`, `a.b.c.d:port`, `[v6]:port` in lower case ASCII. */
export function isServer(value) {
  if (typeof value !== 'string' || value.length > 261) return false;
  const match = SERVER_RE.exec(value);
  if (!match) return false;
  if (match[1] !== undefined) {
    const port = Number(match[1]);
    if (port < 1 || port > 65535) return false;
  }
  return true;
}

export function serverLink(server, token) {
  const q = new URLSearchParams({ server });
  if (token) q.set('token', token);
  return `sidetone://provision?${q.toString().replace(/\+/g, '%20')}`;
}

export function urlLink(url, token) {
  const q = new URLSearchParams({ url });
  if (token) q.set('token', token);
  return `sidetone://provision?${q.toString().replace(/\+/g, '%20')}`;
}
