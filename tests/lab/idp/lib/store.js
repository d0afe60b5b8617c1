// An in-memory oidc-provider adapter that can also forget everything of one account
// (the admin endpoint's "revoke sessions"). One Map for all models of one server.

const entries = new Map(); // "Model:id" -> { payload, expiresAt (ms) | Infinity }

function now() {
  return Date.now();
}

function live(key) {
  const entry = entries.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= now()) {
    entries.delete(key);
    return undefined;
  }
  return entry;
}

export class MemoryStore {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? now() + expiresIn * 1000 : Infinity;
    entries.set(this.key(id), { payload, expiresAt });
  }

  async find(id) {
    return live(this.key(id))?.payload;
  }

  async findByUid(uid) {
    for (const [key, entry] of entries) {
      if (key.startsWith(`${this.model}:`) && entry.payload.uid === uid && live(key)) {
        return entry.payload;
      }
    }
    return undefined;
  }

  async findByUserCode(userCode) {
    for (const [key, entry] of entries) {
      if (key.startsWith(`${this.model}:`) && entry.payload.userCode === userCode && live(key)) {
        return entry.payload;
      }
    }
    return undefined;
  }

  async consume(id) {
    const entry = live(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of entries) {
      if (entry.payload.grantId === grantId) entries.delete(key);
    }
  }
}

/** Delete every session, grant, code and token of `accountId`; returns how many. */
export function forgetAccount(accountId) {
  let count = 0;
  for (const [key, entry] of entries) {
    if (entry.payload.accountId === accountId) {
      entries.delete(key);
      count += 1;
    }
  }
  return count;
}
