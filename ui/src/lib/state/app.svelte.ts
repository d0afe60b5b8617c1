// The app's state: what the shell told us (accounts, calls, counts, settings) and where the
// user is. Updated from command results and shell events; components read it and call actions.

import {
  api,
  on,
  toIpcError,
  type Account,
  type AppInfo,
  type CallState,
  type IncomingCall,
  type IpcError,
  type Settings,
  type SettingsPatch,
} from '../api';
import { t } from '../i18n';
import { describeError } from '../util/errors';
import { applyTheme } from './theme';

export type View = 'phone' | 'history' | 'voicemail' | 'settings' | 'about';

/** Why the onboarding flow is open, when accounts exist already. */
export interface OnboardingRequest {
  /** A link or code to parse straight away (a clicked sidetone:// link). */
  input?: string;
  /** Signed in but terms not accepted: resume at the terms for this account. */
  resumeAccountId?: string;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

const ENDED_CALL_LINGER_MS = 1500;
const DIAL_SCHEMES = /^(tel|callto|sip|sips):/i;

class AppState {
  info = $state<AppInfo | null>(null);
  accounts = $state<Account[]>([]);
  settings = $state<Settings>({
    theme: 'system',
    inputDeviceId: null,
    outputDeviceId: null,
    ringerDeviceId: null,
  });
  status = $state<'loading' | 'ready' | 'failed'>('loading');
  loadError = $state<IpcError | null>(null);

  view = $state<View>('phone');
  /** The in-call screen is in front (while calls exist); false when the user looks elsewhere. */
  callInFront = $state(true);
  onboarding = $state<OnboardingRequest | null>(null);

  calls = $state<CallState[]>([]);
  focusedCallId = $state<string | null>(null);
  incoming = $state<IncomingCall | null>(null);
  /** An attended transfer in progress: `callId` waits on hold while the user talks on `consultCallId`. */
  consult = $state<{ callId: string; consultCallId: string } | null>(null);
  mwi = $state<Record<string, number>>({});
  dialDraft = $state('');
  /** Bumped when history may have changed (a call ended), so lists refetch. */
  historyVersion = $state(0);
  notice = $state<Notice | null>(null);

  unheard = $derived(Object.values(this.mwi).reduce((sum, n) => sum + n, 0));
  liveCalls = $derived(this.calls.filter((c) => c.state !== 'ended'));
  primaryAccount = $derived<Account | null>(this.accounts[0] ?? null);
  showOnboarding = $derived(this.accounts.length === 0 || this.onboarding !== null);
  focusedCall = $derived<CallState | null>(
    this.calls.find((c) => c.callId === this.focusedCallId) ?? this.calls[0] ?? null,
  );

  private subscribed = false;
  private noticeSeq = 0;

  async init(): Promise<void> {
    this.status = 'loading';
    this.loadError = null;
    try {
      await this.subscribe();
      const [info, settings, accounts] = await Promise.all([
        api.appInfo(),
        api.settingsGet(),
        api.accountsList(),
      ]);
      this.info = info;
      this.settings = settings;
      applyTheme(settings.theme);
      this.setAccounts(accounts);
      this.status = 'ready';
      for (const url of await api.deepLinkPending()) this.handleDeepLink(url);
      void this.refreshVoicemailCounts();
    } catch (reason) {
      this.loadError = toIpcError(reason);
      this.status = 'failed';
    }
  }

  private async subscribe(): Promise<void> {
    if (this.subscribed) return;
    this.subscribed = true;
    await Promise.all([
      on('registration_changed', (e) => {
        const account = this.accounts.find((a) => a.id === e.accountId);
        if (!account) {
          void this.refreshAccounts();
          return;
        }
        account.registration = e.state;
        if (e.reason) account.registrationReason = e.reason;
        else delete account.registrationReason;
      }),
      on('call_state', (c) => this.onCallState(c)),
      on('incoming_call', (c) => {
        this.incoming = c;
      }),
      on('mwi', (m) => {
        this.mwi[m.accountId] = m.unheard;
      }),
      on('deep_link', (d) => this.handleDeepLink(d.url)),
      on('accounts_changed', () => void this.refreshAccounts()),
      on('session_expired', (e) => {
        const account = this.accounts.find((a) => a.id === e.accountId);
        if (account) account.signInAgain = true;
        this.showError(t('session.expired', { provider: e.providerName }));
      }),
    ]);
  }

  private onCallState(c: CallState): void {
    const index = this.calls.findIndex((x) => x.callId === c.callId);
    if (this.incoming?.callId === c.callId && c.state !== 'ringing') this.incoming = null;
    // An incoming call that is still ringing lives in `incoming` only.
    if (c.direction === 'incoming' && c.state === 'ringing' && index === -1) return;
    if (index === -1) {
      if (c.state === 'ended') {
        this.historyVersion++;
        return;
      }
      this.calls.push(c);
      this.focusedCallId = c.callId;
      this.callInFront = true;
    } else {
      this.calls[index] = c;
    }
    if (c.state === 'ended') {
      this.historyVersion++;
      if (this.consult && (this.consult.callId === c.callId || this.consult.consultCallId === c.callId)) {
        this.consult = null;
      }
      setTimeout(() => {
        this.calls = this.calls.filter((x) => x.callId !== c.callId || x.state !== 'ended');
        if (this.focusedCallId === c.callId) this.focusedCallId = this.liveCalls[0]?.callId ?? null;
      }, ENDED_CALL_LINGER_MS);
    }
  }

  setAccounts(accounts: Account[]): void {
    this.accounts = accounts;
    const pending = accounts.find((a) => a.termsPending);
    if (pending && !this.onboarding) this.onboarding = { resumeAccountId: pending.id };
  }

  async refreshAccounts(): Promise<void> {
    try {
      this.setAccounts(await api.accountsList());
    } catch (reason) {
      this.showError(describeError(reason));
    }
  }

  async refreshVoicemailCounts(): Promise<void> {
    try {
      const messages = await api.voicemailList();
      const counts: Record<string, number> = {};
      for (const a of this.accounts) counts[a.id] = 0;
      for (const m of messages) if (!m.heard) counts[m.accountId] = (counts[m.accountId] ?? 0) + 1;
      this.mwi = counts;
    } catch {
      // Counts arrive with the next mwi event; the list screen shows its own errors.
    }
  }

  /** A clicked link: dial links prefill the dial field (never dial by themselves). */
  handleDeepLink(url: string): void {
    const trimmed = url.trim();
    if (DIAL_SCHEMES.test(trimmed)) {
      this.dialDraft = trimmed.replace(/^(tel|callto):(\/\/)?/i, '');
      this.view = 'phone';
      this.callInFront = false;
      return;
    }
    this.onboarding = { input: trimmed };
  }

  /** The onboarding finished (or was closed while accounts exist). */
  async finishOnboarding(): Promise<void> {
    this.onboarding = null;
    this.view = 'phone';
    await this.refreshAccounts();
    void this.refreshVoicemailCounts();
  }

  startAddAccount(): void {
    this.onboarding = {};
  }

  navigate(view: View): void {
    this.view = view;
    this.callInFront = false;
  }

  async updateSettings(patch: SettingsPatch): Promise<void> {
    if (patch.theme) applyTheme(patch.theme);
    try {
      this.settings = await api.settingsSet(patch);
      applyTheme(this.settings.theme);
    } catch (reason) {
      applyTheme(this.settings.theme);
      this.showError(describeError(reason));
    }
  }

  /** Places a call; resolves to its id, or null when it failed (the error is shown). */
  async dial(target: string): Promise<string | null> {
    try {
      const { callId } = await api.dial(target, this.primaryAccount?.id ?? null);
      this.focusedCallId = callId;
      this.callInFront = true;
      return callId;
    } catch (reason) {
      this.showError(describeError(reason));
      return null;
    }
  }

  /** Runs a call action; shows its error, if any. */
  async act(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (reason) {
      this.showError(describeError(reason));
      return false;
    }
  }

  showError(text: string): void {
    this.notice = { id: ++this.noticeSeq, kind: 'error', text };
  }

  showInfo(text: string): void {
    this.notice = { id: ++this.noticeSeq, kind: 'info', text };
  }
}

export const app = new AppState();
