#!/usr/bin/env node
// Sidetone lab identity provider: on one loopback HTTPS server,
//   - an OpenID Provider (oidc-provider) with the public native client `sidetone-desktop`
//     (PKCE S256, loopback redirect with any port, refresh tokens that rotate),
//   - its sign-in pages: password, TOTP (RFC 6238) second factor, forced password change,
//     lockout after repeated failures,
//   - the provisioning endpoint GET /provisioning/v1/document (Basic, Bearer or one-time token),
//   - WebFinger (RFC 7033) for username-first discovery,
//   - an admin API for tests (/admin/*, Bearer admin key).
// Tests only: state lives in memory and dies with the process.
//
//   node server.js --config /path/to/idp.json
//
// The config is written by tests/lab/sidetone_lab/idp.py; see that file for its shape.
// SIDETONE_IDP_NODE_MODULES may name a node_modules directory outside this folder.

import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  DOCUMENT_PATH, authenticationCode, canonicalToken, newToken, serverLink, urlLink,
} from './lib/codes.js';
import { MEDIA_TYPE, buildDocument, documentUrl, providerUrls } from './lib/documents.js';
import {
  changePasswordPage, errorPage, loginPage, messagePage, totpPage,
} from './lib/pages.js';
import { MemoryStore, forgetAccount } from './lib/store.js';
import { verifyTotp } from './lib/totp.js';

const REL_ISSUER = 'http://openid.net/specs/connect/1.0/issuer';
const REL_PROVISIONING = 'https://sidetone.invalid/rel/provisioning';
const PROP_ACCOUNT_NUMBER = 'https://sidetone.invalid/prop/account-number';
const PROP_SIGN_IN = 'https://sidetone.invalid/prop/sign-in';
const PROP_ISSUER = 'https://sidetone.invalid/prop/issuer';
const FORM_LIMIT = 16 * 1024;
const JSON_LIMIT = 64 * 1024;
const PASSWORD_MIN = 8;

// ---- config ---------------------------------------------------------------------------------

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const configPath = argValue('--config') || process.env.SIDETONE_IDP_CONFIG;
if (!configPath) {
  console.error('usage: node server.js --config idp.json');
  process.exit(64);
}
const cfg = JSON.parse(readFileSync(configPath, 'utf8'));
const issuer = cfg.issuer;
const caPem = readFileSync(cfg.ca_cert, 'utf8').trim() + '\n';
const settings = { ...cfg.settings };
const adminKey = Buffer.from(cfg.admin_key, 'utf8');

async function loadProvider() {
  const dir = process.env.SIDETONE_IDP_NODE_MODULES;
  if (dir) {
    const require = createRequire(path.join(path.resolve(dir), 'resolve-from-here.js'));
    return import(pathToFileURL(require.resolve('oidc-provider')).href);
  }
  return import('oidc-provider');
}
const { default: Provider, errors: oidcErrors } = await loadProvider();

// ---- directory: users, lockouts, one-time tokens, pending sign-ins ----------------------------

const users = new Map(cfg.users.map((u) => [u.id, { ...u }]));
const tenants = new Map(cfg.tenants.map((t) => [t.account_number, t]));

function findUser(login) {
  if (typeof login !== 'string') return undefined;
  const wanted = login.trim().toLowerCase();
  for (const user of users.values()) {
    if (user.id.toLowerCase() === wanted || user.login.toLowerCase() === wanted) return user;
  }
  return undefined;
}

function userTenants(user) {
  const numbers = [...new Set(user.accounts.map((a) => a.account_number))];
  return numbers.map((n) => tenants.get(n)).filter(Boolean);
}

function sameSecret(a, b) {
  const ha = createHash('sha256').update(String(a ?? ''), 'utf8').digest();
  const hb = createHash('sha256').update(String(b ?? ''), 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

// Failed passwords and codes per login; `lockout_threshold` failures lock for `lockout_seconds`.
const failures = new Map();

function lockKey(user, typed) {
  return user ? `user:${user.id}` : `unknown:${String(typed ?? '').trim().toLowerCase()}`;
}

/** Seconds until the lock on `key` ends, or 0 when not locked. */
function lockedFor(key) {
  const entry = failures.get(key);
  if (!entry?.lockedUntil) return 0;
  const left = entry.lockedUntil - Date.now();
  if (left <= 0) {
    failures.delete(key);
    return 0;
  }
  return Math.ceil(left / 1000);
}

/** Count a failure; returns the seconds of lock it caused (0 when not locked yet). */
function recordFailure(key) {
  const entry = failures.get(key) || { count: 0, lockedUntil: 0 };
  entry.count += 1;
  if (entry.count >= settings.lockout_threshold) {
    entry.lockedUntil = Date.now() + settings.lockout_seconds * 1000;
    entry.count = 0;
  }
  failures.set(key, entry);
  return lockedFor(key);
}

function lockMessage(seconds) {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

// One-time provisioning tokens: token -> { userId, account, expiresAt (ms), usedAt }
const oneTimeTokens = new Map();

// Sign-ins between the password and the end of the interaction: uid -> { userId, stage, amr }
const pending = new Map();
const lastTotpStep = new Map();

// ---- OpenID Provider ---------------------------------------------------------------------------

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const stamp = randomBytes(4).toString('hex');
  return [
    { ...rsa, kid: `lab-rs256-${stamp}`, use: 'sig', alg: 'RS256' },
    { ...ec, kid: `lab-es256-${stamp}`, use: 'sig', alg: 'ES256' },
  ];
}

const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

const provider = new Provider(issuer, {
  adapter: MemoryStore,
  clients: [{
    client_id: cfg.client.client_id,
    client_name: 'Sidetone',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: cfg.client.redirect_uris,
    post_logout_redirect_uris: cfg.client.post_logout_redirect_uris || [],
  }],
  jwks: { keys: signingKeys() },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: SCOPES,
  responseTypes: ['code'],
  claims: {
    openid: ['sub', 'amr'], // amr (RFC 8176): pwd, otp, mfa
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  clientBasedCORS: () => false,
  rotateRefreshToken: () => true,
  // Like the common enterprise IdPs, the native client gets a refresh token on every code
  // exchange, lasting beyond the browser session: strict OpenID Connect would drop
  // offline_access unless the request also said prompt=consent, which desktop apps avoid.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: () => settings.access_token_ttl,
    IdToken: () => settings.id_token_ttl,
    RefreshToken: () => settings.refresh_token_ttl,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 86400,
    Grant: () => settings.refresh_token_ttl,
  },
  async findAccount(ctx, sub) {
    const user = users.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: user.name,
          preferred_username: user.login,
          email: user.login,
          email_verified: true,
        };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage(out);
  },
});

// ---- helpers -----------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

async function readBody(ctx, limit) {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new HttpError(413, 'body_too_large', 'request body too large');
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'body_too_large', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readForm(ctx) {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'unsupported_media_type', 'expected a form');
  }
  return new URLSearchParams(await readBody(ctx, FORM_LIMIT));
}

async function readJson(ctx) {
  const text = await readBody(ctx, JSON_LIMIT);
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'bad_json', 'expected a JSON object');
}

function sendJson(ctx, status, body, type = 'application/json') {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.type = type;
  ctx.body = JSON.stringify(body, null, 2) + '\n';
}

function sendHtml(ctx, status, html) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = html;
}

function singleQuery(ctx, name) {
  const values = new URLSearchParams(ctx.querystring).getAll(name);
  if (values.length > 1) throw new HttpError(400, 'bad_request', `repeated parameter ${name}`);
  return values[0];
}

// ---- WebFinger (RFC 7033) ----------------------------------------------------------------------

function webfinger(ctx) {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'GET only');
  ctx.set('Access-Control-Allow-Origin', '*');
  const resource = singleQuery(ctx, 'resource');
  if (!resource) throw new HttpError(400, 'bad_request', 'resource is required');
  const match = /^acct:([^@/?#\s]+)@([^@/?#\s]+)$/i.exec(resource);
  if (!match || match[2].toLowerCase() !== cfg.domain.toLowerCase()) {
    throw new HttpError(404, 'unknown_resource', 'no such user');
  }
  const user = findUser(`${match[1]}@${match[2]}`);
  if (!user) throw new HttpError(404, 'unknown_resource', 'no such user');
  const links = [];
  if (user.sign_in === 'oidc') links.push({ rel: REL_ISSUER, href: issuer });
  for (const tenant of userTenants(user)) {
    const properties = {
      [PROP_ACCOUNT_NUMBER]: tenant.account_number,
      [PROP_SIGN_IN]: user.sign_in,
    };
    if (user.sign_in === 'oidc') properties[PROP_ISSUER] = issuer;
    links.push({
      rel: REL_PROVISIONING,
      href: documentUrl(issuer, tenant),
      titles: { und: tenant.name },
      properties,
    });
  }
  const rels = new URLSearchParams(ctx.querystring).getAll('rel');
  const body = {
    subject: `acct:${user.login}`,
    links: rels.length ? links.filter((l) => rels.includes(l.rel)) : links,
  };
  sendJson(ctx, 200, body, 'application/jrd+json');
}

// ---- provisioning endpoint ---------------------------------------------------------------------

const CHALLENGE = 'Basic realm="Sidetone provisioning", charset="UTF-8", Bearer realm="Sidetone provisioning"';

function unauthorized(code, message, extra = {}, challenge = CHALLENGE) {
  return new HttpError(401, code, message, { ...extra, headers: { 'WWW-Authenticate': challenge } });
}

async function authenticate(ctx) {
  const token = singleQuery(ctx, 'token');
  const authorization = ctx.get('authorization');
  if (token !== undefined) {
    if (authorization) throw new HttpError(400, 'bad_request', 'send a token or credentials, not both');
    const canonical = canonicalToken(token);
    const record = canonical && oneTimeTokens.get(canonical);
    if (!record) throw new HttpError(404, 'unknown_token', 'this link or code is not valid');
    if (record.usedAt) throw new HttpError(410, 'token_used', 'this link or code has been used already');
    if (record.expiresAt <= Date.now()) throw new HttpError(410, 'token_expired', 'this link or code has expired');
    // Spent only when the document is sent: a 300 (account picker) keeps it for the retry.
    return { user: users.get(record.userId), account: record.account, via: 'token', record };
  }
  const [scheme, value] = authorization.split(/\s+/, 2);
  if (/^basic$/i.test(scheme || '') && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new HttpError(400, 'bad_request', 'malformed Basic credentials');
    const login = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const user = findUser(login);
    const key = lockKey(user, login);
    const locked = lockedFor(key);
    if (locked) {
      throw new HttpError(429, 'locked', lockMessage(locked), {
        retry_after: locked, headers: { 'Retry-After': String(locked) },
      });
    }
    if (user && user.sign_in === 'oidc') {
      throw unauthorized('use_single_sign_on', 'this account signs in with single sign-on', { issuer });
    }
    if (!user || !sameSecret(user.password, password)) {
      const lockedNow = recordFailure(key);
      if (lockedNow) {
        throw new HttpError(429, 'locked', lockMessage(lockedNow), {
          retry_after: lockedNow, headers: { 'Retry-After': String(lockedNow) },
        });
      }
      throw unauthorized('invalid_credentials', 'wrong username or password');
    }
    if (user.must_change_password) {
      throw new HttpError(403, 'password_expired', 'change your password first', {
        change_password_url: providerUrls(issuer).change_password_url,
      });
    }
    failures.delete(key);
    return { user, account: undefined, via: 'password' };
  }
  if (/^bearer$/i.test(scheme || '') && value) {
    const accessToken = await provider.AccessToken.find(value);
    const ok = accessToken
      && accessToken.clientId === cfg.client.client_id
      && String(accessToken.scope || '').split(' ').includes('openid')
      && users.has(accessToken.accountId);
    if (!ok) {
      throw unauthorized('invalid_token', 'the access token is not valid', {},
        'Bearer realm="Sidetone provisioning", error="invalid_token"');
    }
    return { user: users.get(accessToken.accountId), account: undefined, via: 'bearer' };
  }
  throw unauthorized('credentials_required', 'sign in to get your provisioning document');
}

async function provisioning(ctx) {
  if (ctx.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET only');
  const { user, account: bound, record } = await authenticate(ctx);
  const asked = singleQuery(ctx, 'account');
  const mine = userTenants(user);
  let tenant;
  if (bound !== undefined && asked !== undefined && asked !== bound) {
    throw new HttpError(404, 'unknown_account', 'this link or code is for another account');
  }
  const wanted = bound ?? asked;
  if (wanted !== undefined) {
    tenant = mine.find((t) => t.account_number === wanted);
    if (!tenant) throw new HttpError(404, 'unknown_account', 'no such account for this user');
  } else if (mine.length === 1) {
    [tenant] = mine;
  } else {
    throw new HttpError(300, 'multiple_accounts', 'choose one of your accounts', {
      accounts: mine.map((t) => ({
        account_number: t.account_number, name: t.name, href: documentUrl(issuer, t),
      })),
    });
  }
  const document = buildDocument({ cfg, user, tenant, issuer, caPem });
  if (record) record.usedAt = Date.now();
  sendJson(ctx, 200, document, MEDIA_TYPE);
}

// ---- admin API (tests only) --------------------------------------------------------------------

const SETTING_LIMITS = {
  access_token_ttl: [1, 86400],
  id_token_ttl: [1, 86400],
  refresh_token_ttl: [1, 365 * 86400],
  token_ttl: [0, 30 * 86400],
  lockout_threshold: [1, 1000],
  lockout_seconds: [1, 86400],
};

async function admin(ctx) {
  const [scheme, value] = (ctx.get('authorization') || '').split(/\s+/, 2);
  if (!/^bearer$/i.test(scheme || '') || !value || !sameSecret(value, adminKey.toString('utf8'))) {
    throw new HttpError(401, 'admin_key_required', 'admin key required',
      { headers: { 'WWW-Authenticate': 'Bearer realm="Sidetone lab admin"' } });
  }
  const route = ctx.path.slice('/admin'.length);
  if (route === '/settings' && ctx.method === 'GET') return sendJson(ctx, 200, settings);
  if (ctx.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'POST only');
  const body = await readJson(ctx);
  const userOf = () => {
    const user = findUser(body.login);
    if (!user) throw new HttpError(404, 'unknown_user', `no such user: ${body.login}`);
    return user;
  };
  switch (route) {
    case '/tokens': {
      const user = userOf();
      if (body.account !== undefined && !userTenants(user).some((t) => t.account_number === body.account)) {
        throw new HttpError(404, 'unknown_account', 'no such account for this user');
      }
      const ttl = body.ttl ?? settings.token_ttl;
      if (!Number.isInteger(ttl) || ttl < 0) throw new HttpError(400, 'bad_request', 'ttl must be an integer >= 0');
      const token = newToken();
      const expiresAt = Date.now() + ttl * 1000;
      oneTimeTokens.set(token, { userId: user.id, account: body.account, expiresAt, usedAt: 0 });
      const url = `${issuer}${DOCUMENT_PATH}`;
      const server = new URL(issuer).host;
      return sendJson(ctx, 201, {
        token,
        login: user.login,
        expires_at: new Date(expiresAt).toISOString(),
        provisioning_url: url,
        server,
        url_link: urlLink(url, token),
        server_link: serverLink(server, token),
        code: authenticationCode(server, token),
      });
    }
    case '/lockouts/reset': {
      let count = 0;
      if (body.login === undefined) {
        count = failures.size;
        failures.clear();
      } else {
        const key = lockKey(findUser(body.login), body.login);
        count = failures.delete(key) ? 1 : 0;
      }
      return sendJson(ctx, 200, { reset: count });
    }
    case '/settings': {
      for (const [name, v] of Object.entries(body)) {
        const limits = SETTING_LIMITS[name];
        if (!limits) throw new HttpError(400, 'bad_request', `unknown setting ${name}`);
        if (!Number.isInteger(v) || v < limits[0] || v > limits[1]) {
          throw new HttpError(400, 'bad_request', `${name} must be an integer in ${limits.join('..')}`);
        }
      }
      Object.assign(settings, body);
      return sendJson(ctx, 200, settings);
    }
    case '/sessions/revoke': {
      const user = userOf();
      return sendJson(ctx, 200, { revoked: forgetAccount(user.id) });
    }
    case '/users/expire-password': {
      const user = userOf();
      user.must_change_password = true;
      return sendJson(ctx, 200, { login: user.login, must_change_password: true });
    }
    case '/reload': {
      const fresh = JSON.parse(readFileSync(configPath, 'utf8'));
      cfg.services = fresh.services;
      for (const u of fresh.users) {
        const known = users.get(u.id);
        if (known) known.accounts = u.accounts;
        else users.set(u.id, { ...u });
      }
      return sendJson(ctx, 200, { reloaded: true });
    }
    default:
      throw new HttpError(404, 'not_found', 'no such admin route');
  }
}

// ---- interaction (sign-in pages) ---------------------------------------------------------------

function allowedScopes(requested) {
  return String(requested || '').split(' ').filter((s) => SCOPES.includes(s)).join(' ');
}

async function finishLogin(ctx, details, user, amr) {
  const { params } = details;
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant || grant.accountId !== user.id) {
    grant = new provider.Grant({ accountId: user.id, clientId: params.client_id });
  }
  grant.addOIDCScope(allowedScopes(params.scope));
  const grantId = await grant.save();
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: user.id, amr, remember: true },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
  pending.delete(details.uid);
  ctx.status = 303;
  ctx.redirect(returnTo);
}

async function nextStep(ctx, details, user, amr) {
  if (user.must_change_password) {
    pending.set(details.uid, { userId: user.id, stage: 'change', amr });
    return sendHtml(ctx, 200, changePasswordPage({
      uid: details.uid, reason: 'Your password has expired. Choose a new one to continue.',
    }));
  }
  if (user.totp_secret && !amr.includes('otp')) {
    pending.set(details.uid, { userId: user.id, stage: 'totp', amr });
    return sendHtml(ctx, 200, totpPage({ uid: details.uid }));
  }
  return finishLogin(ctx, details, user, amr);
}

function renderLogin(ctx, status, details, { login, error } = {}) {
  const clientName = 'Sidetone';
  return sendHtml(ctx, status, loginPage({
    uid: details.uid,
    clientName,
    login: login ?? details.params.login_hint ?? '',
    error,
    resetUrl: providerUrls(issuer).password_reset_url,
  }));
}

async function interaction(ctx, uid, action) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new HttpError(400, 'bad_request', 'interaction mismatch');
  const state = pending.get(uid);
  const prompt = details.prompt.name;

  if (ctx.method === 'GET' && !action) {
    if (prompt === 'consent') {
      // First-party client: consent is implied; grant what it asked for within its scopes.
      const accountId = details.session.accountId;
      let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      if (!grant) grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(allowedScopes(details.params.scope));
      const grantId = await grant.save();
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } });
      ctx.status = 303;
      return ctx.redirect(returnTo);
    }
    if (state?.stage === 'change') return sendHtml(ctx, 200, changePasswordPage({ uid, reason: 'Your password has expired. Choose a new one to continue.' }));
    if (state?.stage === 'totp') return sendHtml(ctx, 200, totpPage({ uid }));
    return renderLogin(ctx, 200, details);
  }
  if (ctx.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'POST only');

  if (action === 'abort') {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
      error: 'access_denied', error_description: 'the user cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
    pending.delete(uid);
    ctx.status = 303;
    return ctx.redirect(returnTo);
  }

  const form = await readForm(ctx);

  if (action === 'login') {
    if (prompt !== 'login') throw new HttpError(400, 'bad_request', 'not signing in');
    const login = form.get('login') || '';
    const user = findUser(login);
    const key = lockKey(user, login);
    const locked = lockedFor(key);
    if (locked) {
      ctx.set('Retry-After', String(locked));
      return renderLogin(ctx, 429, details, { login, error: lockMessage(locked) });
    }
    if (!user || !sameSecret(user.password, form.get('password'))) {
      const lockedNow = recordFailure(key);
      if (lockedNow) {
        ctx.set('Retry-After', String(lockedNow));
        return renderLogin(ctx, 429, details, { login, error: lockMessage(lockedNow) });
      }
      return renderLogin(ctx, 401, details, { login, error: 'Wrong username or password.' });
    }
    failures.delete(key);
    return nextStep(ctx, details, user, ['pwd']);
  }

  const user = state && users.get(state.userId);
  if (!user) return renderLogin(ctx, 400, details, { error: 'Your sign-in expired. Sign in again.' });

  if (action === 'password' && state.stage === 'change') {
    const fresh = form.get('new_password') || '';
    let error;
    if (fresh !== (form.get('confirm_password') || '')) error = 'The passwords do not match.';
    else if ([...fresh].length < PASSWORD_MIN) error = `Use at least ${PASSWORD_MIN} characters.`;
    else if (sameSecret(fresh, user.password)) error = 'Choose a password you have not used before.';
    if (error) {
      return sendHtml(ctx, 400, changePasswordPage({ uid, error, reason: 'Your password has expired. Choose a new one to continue.' }));
    }
    user.password = fresh;
    user.must_change_password = false;
    return nextStep(ctx, details, user, state.amr);
  }

  if (action === 'totp' && state.stage === 'totp') {
    const key = lockKey(user);
    const locked = lockedFor(key);
    if (locked) {
      ctx.set('Retry-After', String(locked));
      pending.delete(uid);
      return renderLogin(ctx, 429, details, { login: user.login, error: lockMessage(locked) });
    }
    const step = verifyTotp(user.totp_secret, form.get('code') || '', Date.now() / 1000,
      lastTotpStep.get(user.id) ?? -1);
    if (step === null) {
      const lockedNow = recordFailure(key);
      if (lockedNow) {
        ctx.set('Retry-After', String(lockedNow));
        pending.delete(uid);
        return renderLogin(ctx, 429, details, { login: user.login, error: lockMessage(lockedNow) });
      }
      return sendHtml(ctx, 401, totpPage({ uid, error: 'That code is not right. Enter the current code from your app.' }));
    }
    lastTotpStep.set(user.id, step);
    failures.delete(key);
    return nextStep(ctx, details, user, [...state.amr, 'otp', 'mfa']);
  }
  throw new HttpError(400, 'bad_request', 'unexpected step');
}

// ---- static pages the provisioning documents link to --------------------------------------------

const PAGES = {
  '/support': ['Support', 'Sidetone Lab support: this is a test server.'],
  '/account/reset-password': ['Reset your password', 'Password reset is not available in the lab.'],
  '/account/change-password': ['Change your password', 'Sign in to change your password.'],
  '/portal': ['Account portal', 'The Sidetone Lab account portal.'],
};

// ---- routing -----------------------------------------------------------------------------------

provider.use(async (ctx, next) => {
  const started = Date.now();
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  try {
    const p = ctx.path;
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|password|totp|abort))?$/.exec(p);
    if (p === '/.well-known/webfinger') webfinger(ctx);
    else if (p === DOCUMENT_PATH) await provisioning(ctx);
    else if (p === '/admin' || p.startsWith('/admin/')) await admin(ctx);
    else if (m) await interaction(ctx, m[1], m[2]);
    else if (PAGES[p] && ctx.method === 'GET') sendHtml(ctx, 200, messagePage(...PAGES[p]));
    else if (p.startsWith('/terms/') && ctx.method === 'GET') {
      const name = p.slice('/terms/'.length);
      const text = cfg.pages?.[name];
      if (!text) throw new HttpError(404, 'not_found', 'no such page');
      sendHtml(ctx, 200, messagePage('Terms', text, 'terms'));
    } else await next();
  } catch (err) {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.extra.headers || {})) ctx.set(k, v);
      const { headers, ...extra } = err.extra;
      sendJson(ctx, err.status, { error: err.code, message: err.message, ...extra });
    } else if (err instanceof oidcErrors.SessionNotFound) {
      sendHtml(ctx, 400, errorPage({ error: 'session_not_found', error_description: 'This sign-in has expired or was opened in another browser. Start again from the app.' }));
    } else {
      console.error(err);
      sendHtml(ctx, 500, errorPage({ error: 'server_error', error_description: 'unexpected error' }));
    }
  } finally {
    // The path only: queries may carry one-time tokens.
    console.log(`${new Date().toISOString()} ${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms`);
  }
});

// ---- start -------------------------------------------------------------------------------------

const server = createServer({
  cert: readFileSync(cfg.tls.cert),
  key: readFileSync(cfg.tls.key),
  minVersion: 'TLSv1.2',
}, provider.callback());

server.on('error', (err) => {
  console.error(`listen failed: ${err.code || ''} ${err.message}`);
  process.exit(err.code === 'EADDRINUSE' ? 98 : 1);
});

server.listen(cfg.listen.port, cfg.listen.host, () => {
  console.log(`sidetone-lab-idp listening on ${issuer} (pid ${process.pid})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
