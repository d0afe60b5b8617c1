// Builds Sidetone provisioning documents (docs/provisioning.md) for the lab's users from the
// endpoints of the lab's Kamailio, Dovecot and coturn. Every document carries secrets, so it
// is only ever sent in answer to an authenticated HTTPS request.

import { DOCUMENT_PATH } from './codes.js';

export const MEDIA_TYPE = 'application/json';

function hostPort(value) {
  // "127.0.0.1:5060" -> { host, port }
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

function sipTransports(kamailio, profile) {
  if (profile === 'webrtc') {
    return [{ type: 'wss', url: kamailio.wss }];
  }
  return [
    { type: 'tls', ...hostPort(kamailio.tls) },
    { type: 'tcp', ...hostPort(kamailio.tcp) },
    { type: 'udp', ...hostPort(kamailio.udp) },
  ];
}

function iceServers(coturn) {
  if (!coturn) return undefined;
  const turn = [coturn.turn, coturn.turn_tcp];
  if (coturn.turns) turn.push(coturn.turns);
  return [
    { urls: [coturn.stun] },
    { urls: turn, username: coturn.username, credential_id: 'turn' },
  ];
}

function voicemail(dovecot, account, credentialId) {
  if (!dovecot || !account.voicemail_user) return undefined;
  const secure = Boolean(dovecot.imaps);
  const { host, port } = hostPort(secure ? dovecot.imaps : dovecot.imap);
  return {
    imap: { host, port, tls: secure ? 'implicit' : 'none' },
    mailbox: dovecot.mailbox || 'INBOX',
    username: account.voicemail_user,
    credential_id: credentialId,
  };
}

export function providerUrls(issuer) {
  return {
    support_url: `${issuer}/support`,
    password_reset_url: `${issuer}/account/reset-password`,
    change_password_url: `${issuer}/account/change-password`,
    portal_url: `${issuer}/portal`,
  };
}

export function documentUrl(issuer, tenant) {
  return `${issuer}${DOCUMENT_PATH}?account=${encodeURIComponent(tenant.account_number)}`;
}

/**
 * The document for `user` in `tenant`: `cfg` is the server's config (client, services),
 * `caPem` the lab CA the client must trust for this provider's servers.
 */
export function buildDocument({ cfg, user, tenant, issuer, caPem, now = new Date() }) {
  const { kamailio, dovecot, coturn } = cfg.services;
  const credentials = [];
  const accounts = [];
  for (const account of user.accounts.filter((a) => a.account_number === tenant.account_number)) {
    const id = `${tenant.account_number}-${account.sip_user}`;
    const profile = account.profile || 'rtp';
    credentials.push({ id: `sip-${id}`, password: account.sip_password, per_device: false });
    const entry = {
      id,
      display_name: account.display_name || user.name,
      account_number: tenant.account_number,
      aor: `sip:${account.sip_user}@${kamailio.domain}`,
      auth_username: account.sip_user,
      realm: kamailio.realm || kamailio.domain,
      credential_id: `sip-${id}`,
      registrar: `sip:${kamailio.domain}`,
      transports: sipTransports(kamailio, profile),
      registration_expires: 600,
      media: {
        profile,
        srtp: profile === 'webrtc' ? 'required' : (account.srtp || 'optional'),
        codecs: ['opus', 'pcmu', 'pcma'],
      },
      mwi: true,
    };
    const ice = iceServers(coturn);
    if (ice) entry.media.ice_servers = ice;
    const vm = voicemail(dovecot, account, `vm-${id}`);
    if (vm) {
      entry.voicemail = vm;
      credentials.push({ id: `vm-${id}`, password: account.voicemail_password, per_device: false });
    }
    accounts.push(entry);
  }
  if (coturn) credentials.push({ id: 'turn', password: coturn.password, per_device: false });

  const signIn = user.sign_in === 'oidc'
    ? {
      method: 'oidc',
      login_id: user.login,
      issuer,
      client_id: cfg.client.client_id,
      scopes: cfg.client.scopes,
    }
    : { method: 'password', login_id: user.login };

  let terms;
  if (tenant.terms) {
    terms = structuredClone(tenant.terms);
    // Paths in the config are pages of this server.
    if (terms.licence?.url?.startsWith('/')) terms.licence.url = `${issuer}${terms.licence.url}`;
    if (terms.emergency?.address_url?.startsWith('/')) {
      terms.emergency.address_url = `${issuer}${terms.emergency.address_url}`;
    }
  }
  const doc = {
    sidetone_provisioning: 1,
    generated_at: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    provider: { name: tenant.name, ...providerUrls(issuer) },
    sign_in: signIn,
    provisioning: { url: documentUrl(issuer, tenant), refresh_interval: 86400 },
    ...(terms ? { terms } : {}),
    accounts,
    credentials,
    trust: { ca_certificates: [caPem] },
  };
  return doc;
}
