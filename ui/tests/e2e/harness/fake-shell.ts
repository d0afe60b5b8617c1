// A fake Rust shell for the flow tests. It is bundled into one script (see vite.config.ts
// here) and injected before the built app loads, where it replaces Tauri's IPC with
// `mockIPC` from @tauri-apps/api/mocks. The app itself is the production build, unchanged.
//
// It implements every command of the contract with the contract's own types, so a change in
// src/lib/api that the fake does not follow fails `npm run check`. Every call is recorded in
// `window.__fake.calls` for the tests to assert on; `window.__fake.emit` sends shell events.

import { emit } from '@tauri-apps/api/event';
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type {
  Account,
  CallState,
  CommandArgs,
  CommandError,
  CommandName,
  CommandResult,
  Deployment,
  EventName,
  Events,
  HistoryRow,
  ParsedInput,
  Settings,
  SignInResult,
  VoicemailMessage,
} from '../../../src/lib/api';

export interface Scenario {
  /** 'none': first run (onboarding); 'registered': one signed-in, registered account. */
  accounts?: 'none' | 'registered';
  /** Links the shell received before the UI was ready. */
  pendingLinks?: string[];
  /** A one-time link whose owner has two accounts (the token sign-in asks to pick one). */
  tokenAccounts?: boolean;
  /** A one-time link that was used already. */
  tokenUsed?: boolean;
}

export interface RecordedCall {
  cmd: string;
  args: Record<string, unknown>;
}

declare global {
  interface Window {
    __SIDETONE_SCENARIO__?: Scenario;
    __fake: {
      calls: RecordedCall[];
      emit: <K extends EventName>(event: K, payload: Events[K]) => Promise<void>;
      /** An incoming call from `remote`: incoming_call plus call_state 'ringing'. */
      ring: (remote: string, displayName: string | null) => string;
      state: State;
    };
  }
}

const PERSIST_KEY = 'sidetone-fake-shell';
const PASSWORD = 'correct-horse';
const MINUTE = 60_000;

interface State {
  settings: Settings;
  accounts: Account[];
}

const scenario: Scenario = window.__SIDETONE_SCENARIO__ ?? {};

const ANN: Account = {
  id: 'acc-1',
  displayName: 'Ann Lee',
  loginId: 'ann@northwind.example',
  extension: '204',
  providerName: 'Northwind Voice',
  serverHost: 'voice.northwind.example',
  method: 'password',
  registration: 'registered',
  termsPending: false,
  signInAgain: false,
};

function loadState(): State {
  try {
    const saved = sessionStorage.getItem(PERSIST_KEY);
    if (saved) return JSON.parse(saved) as State;
  } catch {
    // fall through to a fresh state
  }
  return {
    settings: { theme: 'system', inputDeviceId: null, outputDeviceId: null, ringerDeviceId: null },
    accounts: scenario.accounts === 'registered' ? [{ ...ANN }] : [],
  };
}

const state = loadState();
function persist() {
  sessionStorage.setItem(PERSIST_KEY, JSON.stringify(state));
}
persist();

class Rejection {
  constructor(readonly error: CommandError) {}
}
function fail(code: string, message: string, extra: Partial<CommandError> = {}): never {
  throw new Rejection({ code, message, ...extra });
}

function fire<K extends EventName>(event: K, payload: Events[K]): Promise<void> {
  return emit(event, payload);
}
function later(ms: number, f: () => void) {
  setTimeout(f, ms);
}

// --- onboarding -------------------------------------------------------------------------

const LINK_DEPLOYMENT: Deployment = {
  id: 'dep-link',
  providerName: 'Northwind Voice',
  serverHost: 'voice.northwind.example',
  method: 'password',
  loginId: 'ann@northwind.example',
};

const TOKEN_DEPLOYMENT: Deployment = {
  id: 'dep-token',
  providerName: 'voice.northwind.example',
  serverHost: 'voice.northwind.example',
  method: 'token',
};

const SSO_DEPLOYMENT: Deployment = {
  id: 'dep-sso',
  providerName: 'Contoso Cloud PBX',
  serverHost: 'pbx.contoso.example',
  method: 'sso',
  loginId: 'ann@contoso.example',
};

function discover(user: string): Deployment {
  if (user.startsWith('nobody')) fail('onboarding.discovery_not_found', `No account for ${user}`);
  if (user.startsWith('two') || user.includes('multi')) {
    return {
      id: 'dep-multi',
      providerName: 'Northwind Voice',
      serverHost: 'voice.northwind.example',
      method: 'password',
      accounts: [
        { id: 'na-sales', label: 'Northwind Sales', loginId: user, detail: 'Extension 204' },
        { id: 'na-support', label: 'Northwind Support', loginId: user, detail: 'Extension 318' },
      ],
    };
  }
  return { ...LINK_DEPLOYMENT, id: 'dep-discovered', loginId: user };
}

function parseInput(input: string): ParsedInput {
  const value = input.trim();
  if (/^sidetone:\/\//i.test(value)) {
    if (value.includes('expired')) fail('onboarding.link_expired', 'This link has expired.');
    const deployment = value.includes('sso')
      ? SSO_DEPLOYMENT
      : value.includes('token=')
        ? TOKEN_DEPLOYMENT
        : LINK_DEPLOYMENT;
    return { kind: 'deployment', source: 'link', deployment };
  }
  if (/^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(value)) {
    return { kind: 'deployment', source: 'code', deployment: { ...LINK_DEPLOYMENT, id: 'dep-code' } };
  }
  if (/^[\w.+-]+(@[\w.-]+)?$/.test(value)) return { kind: 'login_id', user: value };
  fail('onboarding.input_unrecognised', 'Not a link, code or login ID.');
}

function signIn(password: string, loginId: string): SignInResult {
  if (password === 'locked') fail('auth.locked', 'Account locked.', { retryAfterSecs: 14 * 60 + 5 });
  if (password === 'offline') fail('net.unreachable', 'Connection refused.');
  if (password !== PASSWORD) fail('auth.wrong_password', 'Wrong password.');
  const account: Account = {
    ...ANN,
    loginId,
    registration: 'unregistered',
    termsPending: true,
    signInAgain: false,
  };
  state.accounts = [account];
  persist();
  return { accountId: account.id, termsRequired: true };
}

let ssoPending: ((e: Rejection) => void) | null = null;

function setRegistration(accountId: string, registration: Account['registration']) {
  const account = state.accounts.find((a) => a.id === accountId);
  if (account) account.registration = registration;
  persist();
  void fire('registration_changed', { accountId, state: registration });
}

// --- calls -------------------------------------------------------------------------------

let callSeq = 0;
const calls = new Map<string, CallState>();

function update(callId: string, patch: Partial<CallState>) {
  const current = calls.get(callId);
  if (!current) fail('call.not_found', 'No such call.');
  const next = { ...current, ...patch };
  calls.set(callId, next);
  void fire('call_state', next);
  if (next.state === 'ended') calls.delete(callId);
}

const CONTACTS: Record<string, string> = {
  '200': 'Front Desk',
  '201': 'Marcus Chen',
  '204': 'Ann Lee',
  '210': 'Olivia Brooks',
  '+1 555 0142': 'Priya Natarajan',
};

// --- history and voicemail ---------------------------------------------------------------

const now = Date.now();
let history: HistoryRow[] = [
  ['201', 'outgoing', false, 12, 184],
  ['+1 555 0142', 'incoming', false, 55, 612],
  ['+1 555 0199', 'incoming', true, 95, 0],
  ['210', 'incoming', false, 60 * 20, 95],
  ['200', 'outgoing', false, 60 * 26, 47],
  ['201', 'incoming', true, 60 * 30, 0],
  ['+1 555 0142', 'outgoing', false, 60 * 50, 1325],
  ['210', 'outgoing', false, 60 * 74, 302],
].map(([remote, direction, missed, minutesAgo, durationSecs], i) => ({
  id: `h${i + 1}`,
  accountId: 'acc-1',
  direction: direction as HistoryRow['direction'],
  missed: missed as boolean,
  remote: remote as string,
  displayName: CONTACTS[remote as string] ?? null,
  startedAt: now - (minutesAgo as number) * MINUTE,
  durationSecs: durationSecs as number,
  transferredTo: i === 4 ? '201' : null,
}));
// A longer tail so paging has something to page.
for (let i = 0; i < 30; i++) {
  history.push({
    id: `h-old-${i}`,
    accountId: 'acc-1',
    direction: i % 3 === 0 ? 'incoming' : 'outgoing',
    missed: i % 7 === 0,
    remote: String(220 + i),
    displayName: null,
    startedAt: now - (6 + i) * 24 * 60 * MINUTE,
    durationSecs: 30 + i * 11,
    transferredTo: null,
  });
}

let voicemail: VoicemailMessage[] = [
  { id: 'vm1', accountId: 'acc-1', from: '+1 555 0142', displayName: 'Priya Natarajan', receivedAt: now - 40 * MINUTE, durationSecs: 34, heard: false },
  { id: 'vm2', accountId: 'acc-1', from: '+1 555 0199', displayName: null, receivedAt: now - 300 * MINUTE, durationSecs: 12, heard: false },
  { id: 'vm3', accountId: 'acc-1', from: '201', displayName: 'Marcus Chen', receivedAt: now - 3 * 24 * 60 * MINUTE, durationSecs: 71, heard: true },
];

function sendMwi() {
  void fire('mwi', {
    accountId: 'acc-1',
    unheard: voicemail.filter((m) => !m.heard).length,
    total: voicemail.length,
  });
}

function findVoicemail(id: string): VoicemailMessage {
  const m = voicemail.find((x) => x.id === id);
  if (!m) fail('voicemail.not_found', 'No such message.');
  return m;
}

// --- the command table ---------------------------------------------------------------------

type Handlers = {
  [K in CommandName]: (args: CommandArgs<K>) => CommandResult<K> | Promise<CommandResult<K>>;
};

const handlers: Handlers = {
  app_info: () => ({ version: '0.1.0', demoMode: false, platform: 'linux' }),
  deep_link_pending: () => scenario.pendingLinks ?? [],

  onboarding_parse_input: ({ input }) => parseInput(input),
  onboarding_decode_qr_image: ({ imageBase64 }) => {
    if (!imageBase64) fail('onboarding.qr_not_found', 'No QR code in the image.');
    return { kind: 'deployment', source: 'qr', deployment: { ...LINK_DEPLOYMENT, id: 'dep-qr' } };
  },
  onboarding_discover: ({ user }) => discover(user),
  onboarding_sign_in_password: ({ password, loginId, deploymentId }) =>
    signIn(password, loginId ?? (deploymentId === 'dep-multi' ? 'two@northwind.example' : ANN.loginId)),
  onboarding_sign_in_token: ({ deploymentId, accountId }) => {
    if (deploymentId === 'dep-token' && scenario.tokenAccounts && !accountId) {
      return {
        kind: 'choose_account',
        deployment: {
          ...TOKEN_DEPLOYMENT,
          accounts: [
            { id: '100200', label: 'Northwind Sales', loginId: ANN.loginId, detail: 'Account 100200' },
            { id: '100300', label: 'Northwind Annex', loginId: ANN.loginId, detail: 'Account 100300' },
          ],
        },
      };
    }
    if (scenario.tokenUsed) fail('onboarding.link_expired', 'This link was used already.');
    return { kind: 'signed_in', result: signIn(PASSWORD, ANN.loginId) };
  },
  onboarding_sign_in_sso: () =>
    new Promise<SignInResult>((resolve, reject) => {
      ssoPending = reject;
      void resolve;
    }),
  onboarding_cancel_sso: () => {
    ssoPending?.(new Rejection({ code: 'onboarding.sso_cancelled', message: 'Cancelled.' }));
    ssoPending = null;
    return null;
  },
  onboarding_manual: ({ password, loginId }) => signIn(password, loginId),

  terms_get: () => ({
    providerName: 'Northwind Voice',
    licenceVersion: '2024-03',
    licenceText:
      'Northwind Voice grants you a personal, non-transferable licence to use this service for your organisation’s business calls.\n\nYou agree not to misuse the service, resell it, or use it to place unlawful or abusive calls. Call records are kept for 13 months for billing and support.',
    emergencyVersion: '2023-11',
    emergencyText:
      'Emergency calls (911) from this app are routed using the registered address below, not your physical location. If you move, update your address before calling emergency services.\n\nEmergency calling will not work during a power or internet outage, or when this app is signed out.',
    emergencyAddress: null,
  }),
  terms_accept: ({ accountId, emergencyAddress }) => {
    if (!emergencyAddress.street) fail('terms.address_invalid', 'The address is incomplete.');
    const account = state.accounts.find((a) => a.id === accountId);
    if (account) account.termsPending = false;
    persist();
    later(50, () => setRegistration(accountId, 'registering'));
    later(350, () => setRegistration(accountId, 'registered'));
    return null;
  },

  accounts_list: () => state.accounts.map((a) => ({ ...a })),
  account_refresh: ({ accountId }) => {
    const account = state.accounts.find((a) => a.id === accountId);
    if (!account) fail('profile.unknown_account', 'No such account.');
    return account.signInAgain ? 'sign_in_again' : 'refreshed';
  },
  account_sign_out: ({ accountId }) => {
    state.accounts = state.accounts.filter((a) => a.id !== accountId);
    persist();
    return null;
  },

  call_dial: ({ target }) => {
    const callId = `call-${++callSeq}`;
    const call: CallState = {
      callId,
      accountId: 'acc-1',
      state: 'dialing',
      direction: 'outgoing',
      remote: target,
      displayName: CONTACTS[target] ?? null,
      startedAt: Date.now(),
      answeredAt: null,
      held: false,
      muted: false,
      quality: null,
    };
    calls.set(callId, call);
    later(0, () => void fire('call_state', call));
    later(150, () => calls.has(callId) && update(callId, { state: 'ringing' }));
    later(500, () =>
      calls.has(callId) &&
      update(callId, { state: 'connected', answeredAt: Date.now(), quality: { level: 'good', mos: 4.3 } }),
    );
    return { callId };
  },
  call_answer: ({ callId }) => {
    later(0, () => update(callId, { state: 'connected', answeredAt: Date.now(), quality: { level: 'good', mos: 4.2 } }));
    return null;
  },
  call_decline: ({ callId }) => {
    later(0, () => update(callId, { state: 'ended' }));
    return null;
  },
  call_hangup: ({ callId }) => {
    later(0, () => update(callId, { state: 'ended' }));
    return null;
  },
  call_hold: ({ callId, hold }) => {
    later(0, () => update(callId, { held: hold }));
    return null;
  },
  call_mute: ({ callId, mute }) => {
    later(0, () => update(callId, { muted: mute }));
    return null;
  },
  call_dtmf: ({ callId }) => {
    if (!calls.has(callId)) fail('call.not_found', 'No such call.');
    return null;
  },
  call_transfer_blind: ({ callId }) => {
    later(0, () => update(callId, { state: 'ended' }));
    return null;
  },
  call_transfer_attended: ({ callId, consultCallId }) => {
    later(0, () => update(callId, { state: 'ended' }));
    later(0, () => update(consultCallId, { state: 'ended' }));
    return null;
  },

  history_query: ({ filter, search, from, to, page, pageSize }) => {
    const needle = search.trim().toLowerCase();
    const rows = history
      .filter((r) =>
        filter === 'all'
          ? true
          : filter === 'missed'
            ? r.missed
            : r.direction === filter && !r.missed,
      )
      .filter((r) => !needle || r.remote.toLowerCase().includes(needle) || (r.displayName ?? '').toLowerCase().includes(needle))
      .filter((r) => (from === null || r.startedAt >= from) && (to === null || r.startedAt < to))
      .sort((a, b) => b.startedAt - a.startedAt);
    const start = (page - 1) * pageSize;
    return { rows: rows.slice(start, start + pageSize), total: rows.length };
  },
  history_export: () => ({ path: '/home/ann/Documents/sidetone-calls.csv', count: history.length }),
  history_delete: ({ ids }) => {
    history = history.filter((r) => !ids.includes(r.id));
    return null;
  },

  voicemail_list: () => voicemail.map((m) => ({ ...m })),
  voicemail_play: ({ id }) => {
    findVoicemail(id);
    later(0, () => void fire('voicemail_playback', { id, playing: true }));
    return null;
  },
  voicemail_stop: () => null,
  voicemail_mark_heard: ({ id, heard }) => {
    findVoicemail(id).heard = heard;
    later(0, sendMwi);
    return null;
  },
  voicemail_delete: ({ id }) => {
    findVoicemail(id);
    voicemail = voicemail.filter((m) => m.id !== id);
    later(0, sendMwi);
    return null;
  },
  voicemail_sync: () => ({ synced: ['acc-1'], offline: [], failed: [] }),
  voicemail_export: ({ id, path }) => {
    findVoicemail(id);
    return { path: path ?? `/home/user/Downloads/voicemail-${id}.wav` };
  },

  settings_get: () => ({ ...state.settings }),
  settings_set: ({ patch }) => {
    state.settings = { ...state.settings, ...patch };
    persist();
    return { ...state.settings };
  },
  devices_list: () => ({
    inputs: [
      { id: 'in-default', name: 'Built-in Microphone', isDefault: true },
      { id: 'in-headset', name: 'Jabra Evolve2 65', isDefault: false },
    ],
    outputs: [
      { id: 'out-default', name: 'Built-in Speakers', isDefault: true },
      { id: 'out-headset', name: 'Jabra Evolve2 65', isDefault: false },
    ],
  }),
};

// --- wiring --------------------------------------------------------------------------------

const recorded: RecordedCall[] = [];

mockWindows('main');
mockIPC(
  async (cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    recorded.push({ cmd, args: JSON.parse(JSON.stringify(args)) as Record<string, unknown> });
    const handler = (handlers as unknown as Record<string, ((a: unknown) => unknown) | undefined>)[cmd];
    if (!handler) throw { code: 'ipc.failed', message: `command ${cmd} not found` } satisfies CommandError;
    try {
      return await handler(args);
    } catch (e) {
      if (e instanceof Rejection) throw e.error;
      throw e;
    }
  },
  { shouldMockEvents: true },
);

function ring(remote: string, displayName: string | null): string {
  const callId = `call-${++callSeq}`;
  const call: CallState = {
    callId,
    accountId: 'acc-1',
    state: 'ringing',
    direction: 'incoming',
    remote,
    displayName,
    startedAt: Date.now(),
    answeredAt: null,
    held: false,
    muted: false,
    quality: null,
  };
  calls.set(callId, call);
  void fire('call_state', call);
  void fire('incoming_call', { callId, accountId: 'acc-1', remote, displayName, startedAt: call.startedAt });
  return callId;
}

window.__fake = { calls: recorded, emit: fire, ring, state };
