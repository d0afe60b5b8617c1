// The typed boundary between the front end and the Rust shell (src-tauri).
//
// Every command and event the UI uses is declared here, once, with its argument and payload
// types. Components never call `invoke` or `listen` directly: they call `api.*` and `on()`.
// The contract is documented for the shell in ./README.md; keep the two in step.
//
// Conventions
// - Command names are snake_case; argument keys are camelCase (Tauri 2 maps them onto the
//   Rust parameters' snake_case names). Result and payload fields are camelCase
//   (`#[serde(rename_all = "camelCase")]` on the Rust side).
// - Times are milliseconds since the Unix epoch (UTC), durations are whole seconds.
// - A failed command rejects with a `CommandError` `{ code, message }`. Branch on `code`
//   only; `message` is for people (safe to show, never parsed).

import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen as tauriListen, type UnlistenFn } from '@tauri-apps/api/event';

// ---------------------------------------------------------------------------------------------
// Errors

/** What a failed command rejects with, as the shell serialises it. */
export interface CommandError {
  /** Stable, machine-readable code, e.g. `auth.wrong_password`. The only thing to match on. */
  code: string;
  /** Human-readable explanation, safe to show. Never parsed. */
  message: string;
  /** With `auth.locked` (and any "try later" error): seconds until a retry may succeed. */
  retryAfterSecs?: number;
}

/** The codes the UI reacts to specifically. Anything else is shown with its message. */
export const ErrorCode = {
  /** UI-side: there is no Tauri runtime (page opened outside the desktop app). */
  IpcUnavailable: 'ipc.unavailable',
  /** UI-side: the shell rejected with something that is not a CommandError. */
  IpcFailed: 'ipc.failed',
  /** UI-side: a picked or pasted image is larger than the UI will send. */
  ImageTooLarge: 'ui.image_too_large',

  InputUnrecognised: 'onboarding.input_unrecognised',
  LinkInvalid: 'onboarding.link_invalid',
  LinkExpired: 'onboarding.link_expired',
  CodeInvalid: 'onboarding.code_invalid',
  CodeExpired: 'onboarding.code_expired',
  QrNotFound: 'onboarding.qr_not_found',
  QrInvalid: 'onboarding.qr_invalid',
  DiscoveryNotFound: 'onboarding.discovery_not_found',
  SsoCancelled: 'onboarding.sso_cancelled',
  SsoFailed: 'onboarding.sso_failed',
  SsoTimeout: 'onboarding.sso_timeout',
  AlreadyAdded: 'onboarding.already_added',

  WrongPassword: 'auth.wrong_password',
  Locked: 'auth.locked',
  PasswordExpired: 'auth.password_expired',

  Unreachable: 'net.unreachable',
  Timeout: 'net.timeout',
  Tls: 'net.tls',

  AddressInvalid: 'terms.address_invalid',
  TermsOutdated: 'terms.outdated',

  NotRegistered: 'call.not_registered',
  InvalidTarget: 'call.invalid_target',
  CallNotFound: 'call.not_found',
  DtmfUnavailable: 'call.dtmf_unavailable',

  ExportFailed: 'history.export_failed',
  VoicemailNotFound: 'voicemail.not_found',
  DeviceNotFound: 'audio.device_not_found',
  Internal: 'internal',
} as const;

export type KnownErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A rejected command, as an `Error` (so it has a stack) that carries the `CommandError`. */
export class IpcError extends Error implements CommandError {
  readonly code: string;
  readonly retryAfterSecs?: number;
  constructor(error: CommandError) {
    super(error.message);
    this.name = 'IpcError';
    this.code = error.code;
    if (typeof error.retryAfterSecs === 'number') this.retryAfterSecs = error.retryAfterSecs;
  }
}

function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Turns whatever a rejected `invoke` gave into an `IpcError` with a code. */
export function toIpcError(reason: unknown): IpcError {
  if (reason instanceof IpcError) return reason;
  if (isCommandError(reason)) return new IpcError(reason);
  // Tauri itself rejects with plain strings (unknown command, denied by capabilities, ...).
  const message =
    typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'Unknown error';
  return new IpcError({ code: ErrorCode.IpcFailed, message });
}

/** True when `error` is a command error with the given code. */
export function hasCode(error: unknown, code: KnownErrorCode): boolean {
  return error instanceof IpcError && error.code === code;
}

// ---------------------------------------------------------------------------------------------
// Shared types

export type Platform = 'linux' | 'macos' | 'windows' | (string & {});
/** `token`: the link or code carries a one-time token that signs the user in by itself. */
export type SignInMethod = 'password' | 'sso' | 'token';
export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';
export type CallDirection = 'incoming' | 'outgoing';
export type Theme = 'dark' | 'light' | 'system';
export type HistoryFilter = 'all' | 'incoming' | 'outgoing' | 'missed';

export interface AppInfo {
  version: string;
  demoMode: boolean;
  platform: Platform;
}

/** One account offered by a deployment (the "Multiple accounts located" picker). */
export interface DeploymentAccount {
  id: string;
  /** What the user recognises: company or line name, e.g. "Northwind Sales". */
  label: string;
  loginId: string;
  /** Extra line, e.g. "Extension 204". */
  detail?: string;
}

/**
 * What a link, code, QR image or discovery resolved to. Nothing is stored yet: the shell
 * keeps it under `id` until a sign-in command uses it (or the app quits).
 */
export interface Deployment {
  id: string;
  providerName: string;
  serverHost: string;
  method: SignInMethod;
  /** Login ID when the link, code or discovery carried one. */
  loginId?: string;
  /** More than one: the user picks one before signing in. */
  accounts?: DeploymentAccount[];
}

export type DeploymentSource = 'link' | 'code' | 'qr';

/**
 * `onboarding_parse_input` classifies what the user typed: a deployment (link, code) that
 * needs the user's confirmation, or a login ID / e-mail to look up with `onboarding_discover`.
 */
export type ParsedInput =
  | { kind: 'deployment'; source: DeploymentSource; deployment: Deployment }
  | { kind: 'login_id'; user: string };

export interface SignInResult {
  accountId: string;
  /** True when the provider's licence / emergency terms must be accepted before use. */
  termsRequired: boolean;
}

/** `onboarding_sign_in_token`: signed in, or the token's owner has several accounts to pick from. */
export type TokenSignIn =
  | { kind: 'signed_in'; result: SignInResult }
  | { kind: 'choose_account'; deployment: Deployment };

export interface EmergencyAddress {
  street: string;
  /** Suite, floor, building; may be empty. */
  unit: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
}

export interface Terms {
  providerName: string;
  licenceVersion: string;
  licenceText: string;
  emergencyVersion: string;
  emergencyText: string;
  /** The address on file, if any, to prefill the form. */
  emergencyAddress: EmergencyAddress | null;
}

export interface Account {
  id: string;
  displayName: string;
  loginId: string;
  /** The line's own number or extension, when known. */
  extension?: string;
  providerName: string;
  serverHost: string;
  method: SignInMethod;
  registration: RegistrationState;
  registrationReason?: CommandError;
  /** Signed in, but the terms are not accepted yet: the onboarding resumes at the terms. */
  termsPending: boolean;
  /** The provider ended the sign-in (or nothing is kept to refresh with): sign in again. */
  signInAgain: boolean;
}

export interface SessionExpired {
  accountId: string;
  loginId: string;
  providerName: string;
}

export interface CallQuality {
  level: 'good' | 'fair' | 'poor';
  /** Estimated MOS, 1–5. */
  mos?: number;
  lossPercent?: number;
  jitterMs?: number;
  rttMs?: number;
}

export type CallStateName =
  | 'dialing' // outgoing, request sent
  | 'ringing' // outgoing: the far end rings; incoming: we ring
  | 'connected'
  | 'ended';

export interface CallState {
  callId: string;
  accountId: string;
  state: CallStateName;
  direction: CallDirection;
  /** The far end's address or number as dialled/received, e.g. "204" or "sip:ann@host". */
  remote: string;
  displayName: string | null;
  /** When the call was placed or began ringing. */
  startedAt: number;
  /** When it was answered (connected). */
  answeredAt?: number | null;
  /** We put it on hold. */
  held: boolean;
  /** The far end put us on hold. */
  remoteHeld?: boolean;
  muted: boolean;
  quality?: CallQuality | null;
  /** With state `ended`: why, when it was not a normal hang-up (busy, declined, failed ...). */
  endReason?: CommandError | null;
}

export interface IncomingCall {
  callId: string;
  accountId: string;
  remote: string;
  displayName: string | null;
  startedAt: number;
}

export interface HistoryQuery {
  filter: HistoryFilter;
  /** Free text matched against name and number; empty for none. */
  search: string;
  /** Inclusive lower bound of `startedAt`, or null. */
  from: number | null;
  /** Exclusive upper bound of `startedAt`, or null. */
  to: number | null;
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface HistoryRow {
  id: string;
  accountId: string;
  direction: CallDirection;
  missed: boolean;
  remote: string;
  displayName: string | null;
  startedAt: number;
  durationSecs: number;
  /** Where our blind transfer sent the call, when it ended that way. */
  transferredTo: string | null;
}

export interface HistoryPage {
  rows: HistoryRow[];
  total: number;
}

export interface HistoryExportResult {
  path: string;
  count: number;
}

export interface VoicemailMessage {
  id: string;
  accountId: string;
  from: string;
  displayName: string | null;
  receivedAt: number;
  durationSecs: number;
  heard: boolean;
}

export interface VoicemailSyncResult {
  /** Accounts synced from their server. */
  synced: string[];
  /** Accounts whose server could not be reached: their cached messages are shown. */
  offline: string[];
  /** Accounts that failed otherwise (wrong password, certificate). */
  failed: CommandError[];
}

export interface VoicemailExportResult {
  path: string;
}

export interface AudioDevice {
  id: string;
  name: string;
  isDefault: boolean;
}

export interface AudioDevices {
  inputs: AudioDevice[];
  outputs: AudioDevice[];
}

export interface Settings {
  theme: Theme;
  /** null: the system default device. */
  inputDeviceId: string | null;
  outputDeviceId: string | null;
  ringerDeviceId: string | null;
}

export type SettingsPatch = Partial<Settings>;

// ---------------------------------------------------------------------------------------------
// Commands: name -> [args, result]

export interface Commands {
  app_info: [undefined, AppInfo];
  deep_link_pending: [undefined, string[]];

  onboarding_parse_input: [{ input: string }, ParsedInput];
  onboarding_decode_qr_image: [{ imageBase64: string }, ParsedInput];
  onboarding_discover: [{ user: string }, Deployment];
  onboarding_sign_in_password: [
    {
      deploymentId: string;
      accountId: string | null;
      loginId: string | null;
      password: string;
      staySignedIn: boolean;
    },
    SignInResult,
  ];
  onboarding_sign_in_token: [{ deploymentId: string; accountId: string | null }, TokenSignIn];
  onboarding_sign_in_sso: [{ deploymentId: string; accountId: string | null }, SignInResult];
  onboarding_cancel_sso: [{ deploymentId: string }, null];
  onboarding_manual: [{ server: string; loginId: string; password: string }, SignInResult];

  terms_get: [{ accountId: string }, Terms];
  terms_accept: [
    {
      accountId: string;
      licenceVersion: string;
      emergencyVersion: string;
      emergencyAddress: EmergencyAddress;
    },
    null,
  ];

  accounts_list: [undefined, Account[]];
  account_sign_out: [{ accountId: string; forgetData: boolean }, null];
  account_refresh: [{ accountId: string }, 'refreshed' | 'sign_in_again'];

  call_dial: [{ target: string; accountId: string | null }, { callId: string }];
  call_answer: [{ callId: string }, null];
  call_decline: [{ callId: string }, null];
  call_hangup: [{ callId: string }, null];
  call_hold: [{ callId: string; hold: boolean }, null];
  call_mute: [{ callId: string; mute: boolean }, null];
  call_dtmf: [{ callId: string; digits: string }, null];
  call_transfer_blind: [{ callId: string; target: string }, null];
  call_transfer_attended: [{ callId: string; consultCallId: string }, null];

  history_query: [HistoryQuery, HistoryPage];
  history_export: [
    { path: string | null; filter: HistoryFilter; search: string; from: number | null; to: number | null },
    HistoryExportResult | null,
  ];
  history_delete: [{ ids: string[] }, null];

  voicemail_list: [undefined, VoicemailMessage[]];
  voicemail_play: [{ id: string }, null];
  voicemail_stop: [undefined, null];
  voicemail_mark_heard: [{ id: string; heard: boolean }, null];
  voicemail_delete: [{ id: string }, null];
  voicemail_sync: [undefined, VoicemailSyncResult];
  voicemail_export: [{ id: string; path: string | null }, VoicemailExportResult];

  settings_get: [undefined, Settings];
  settings_set: [{ patch: SettingsPatch }, Settings];
  devices_list: [undefined, AudioDevices];
}

export type CommandName = keyof Commands;
export type CommandArgs<K extends CommandName> = Commands[K][0];
export type CommandResult<K extends CommandName> = Commands[K][1];

/** Calls a shell command; rejects with an `IpcError`. */
export async function call<K extends CommandName>(
  command: K,
  ...args: CommandArgs<K> extends undefined ? [] : [CommandArgs<K>]
): Promise<CommandResult<K>> {
  if (typeof window === 'undefined' || !('__TAURI_INTERNALS__' in window)) {
    throw new IpcError({
      code: ErrorCode.IpcUnavailable,
      message: 'Sidetone’s window runs inside the desktop app only.',
    });
  }
  try {
    return await tauriInvoke<CommandResult<K>>(command, args[0] as Record<string, unknown> | undefined);
  } catch (reason) {
    throw toIpcError(reason);
  }
}

/** The commands as functions, one per command. */
export const api = {
  appInfo: () => call('app_info'),
  deepLinkPending: () => call('deep_link_pending'),

  parseInput: (input: string) => call('onboarding_parse_input', { input }),
  decodeQrImage: (imageBase64: string) => call('onboarding_decode_qr_image', { imageBase64 }),
  discover: (user: string) => call('onboarding_discover', { user }),
  signInPassword: (a: CommandArgs<'onboarding_sign_in_password'>) =>
    call('onboarding_sign_in_password', a),
  signInToken: (deploymentId: string, accountId: string | null) =>
    call('onboarding_sign_in_token', { deploymentId, accountId }),
  signInSso: (deploymentId: string, accountId: string | null) =>
    call('onboarding_sign_in_sso', { deploymentId, accountId }),
  cancelSso: (deploymentId: string) => call('onboarding_cancel_sso', { deploymentId }),
  signInManual: (server: string, loginId: string, password: string) =>
    call('onboarding_manual', { server, loginId, password }),

  termsGet: (accountId: string) => call('terms_get', { accountId }),
  termsAccept: (a: CommandArgs<'terms_accept'>) => call('terms_accept', a),

  accountsList: () => call('accounts_list'),
  signOut: (accountId: string, forgetData = false) =>
    call('account_sign_out', { accountId, forgetData }),
  accountRefresh: (accountId: string) => call('account_refresh', { accountId }),

  dial: (target: string, accountId: string | null = null) => call('call_dial', { target, accountId }),
  answer: (callId: string) => call('call_answer', { callId }),
  decline: (callId: string) => call('call_decline', { callId }),
  hangup: (callId: string) => call('call_hangup', { callId }),
  hold: (callId: string, hold: boolean) => call('call_hold', { callId, hold }),
  mute: (callId: string, mute: boolean) => call('call_mute', { callId, mute }),
  dtmf: (callId: string, digits: string) => call('call_dtmf', { callId, digits }),
  transferBlind: (callId: string, target: string) => call('call_transfer_blind', { callId, target }),
  transferAttended: (callId: string, consultCallId: string) =>
    call('call_transfer_attended', { callId, consultCallId }),

  historyQuery: (q: HistoryQuery) => call('history_query', q),
  historyExport: (a: CommandArgs<'history_export'>) => call('history_export', a),
  historyDelete: (ids: string[]) => call('history_delete', { ids }),

  voicemailList: () => call('voicemail_list'),
  voicemailPlay: (id: string) => call('voicemail_play', { id }),
  voicemailStop: () => call('voicemail_stop'),
  voicemailMarkHeard: (id: string, heard: boolean) => call('voicemail_mark_heard', { id, heard }),
  voicemailDelete: (id: string) => call('voicemail_delete', { id }),
  voicemailSync: () => call('voicemail_sync'),
  voicemailExport: (id: string, path: string | null = null) => call('voicemail_export', { id, path }),

  settingsGet: () => call('settings_get'),
  settingsSet: (patch: SettingsPatch) => call('settings_set', { patch }),
  devicesList: () => call('devices_list'),
};

// ---------------------------------------------------------------------------------------------
// Events: name -> payload

export interface RegistrationChanged {
  accountId: string;
  state: RegistrationState;
  reason?: CommandError | null;
}

export interface Mwi {
  accountId: string;
  unheard: number;
  total: number;
}

export interface DeepLink {
  url: string;
}

export interface VoicemailPlayback {
  id: string;
  playing: boolean;
}

export interface AudioLevel {
  /** 0..1, peak of the last ~50 ms. */
  input: number;
  output: number;
}

export interface Events {
  registration_changed: RegistrationChanged;
  call_state: CallState;
  incoming_call: IncomingCall;
  mwi: Mwi;
  deep_link: DeepLink;
  voicemail_playback: VoicemailPlayback;
  audio_level: AudioLevel;
  accounts_changed: null;
  session_expired: SessionExpired;
}

export type EventName = keyof Events;

/** Subscribes to a shell event; resolves to the function that unsubscribes. */
export async function on<K extends EventName>(
  event: K,
  handler: (payload: Events[K]) => void,
): Promise<UnlistenFn> {
  if (typeof window === 'undefined' || !('__TAURI_INTERNALS__' in window)) return () => {};
  return tauriListen<Events[K]>(event, (e) => handler(e.payload));
}
