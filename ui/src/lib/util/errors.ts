// Turns a command error into the sentence to show. Matches on codes only; for codes without
// a sentence of our own, the shell's message (written to be shown) is used as it is.

import { ErrorCode, toIpcError } from '../api';
import { t } from '../i18n';

export interface ErrorContext {
  /** The server the user was connecting to, for "can't reach …". */
  server?: string;
  /** The login ID or e-mail that discovery looked up. */
  user?: string;
}

export function lockedText(retryAfterSecs: number | undefined): string {
  if (retryAfterSecs === undefined || !Number.isFinite(retryAfterSecs)) return t('err.lockedLater');
  const minutes = Math.max(1, Math.ceil(retryAfterSecs / 60));
  return minutes === 1 ? t('err.lockedOne') : t('err.locked', { minutes });
}

export function describeError(reason: unknown, ctx: ErrorContext = {}): string {
  const error = toIpcError(reason);
  switch (error.code) {
    case ErrorCode.WrongPassword:
      return t('onb.password.wrong');
    case ErrorCode.Locked:
      return lockedText(error.retryAfterSecs);
    case ErrorCode.Unreachable:
    case ErrorCode.Timeout:
      return ctx.server ? t('err.unreachable', { server: ctx.server }) : t('err.unreachableGeneric');
    case ErrorCode.Tls:
      return t('err.tls');
    case ErrorCode.PasswordExpired:
      return t('err.passwordExpired');
    case ErrorCode.LinkExpired:
      return t('err.linkExpired');
    case ErrorCode.CodeExpired:
      return t('err.codeExpired');
    case ErrorCode.InputUnrecognised:
    case ErrorCode.LinkInvalid:
    case ErrorCode.CodeInvalid:
      return t('err.notRecognised');
    case ErrorCode.QrNotFound:
    case ErrorCode.QrInvalid:
      return t('err.qrNotFound');
    case ErrorCode.DiscoveryNotFound:
      return t('err.discoveryNotFound', { user: ctx.user ?? '' });
    case ErrorCode.SsoFailed:
    case ErrorCode.SsoTimeout:
      return t('err.ssoFailed');
    case ErrorCode.ImageTooLarge:
      return t('onb.welcome.imageTooLarge');
    case ErrorCode.IpcUnavailable:
      return t('err.unavailable');
    case ErrorCode.NotRegistered:
      return t('err.notRegistered');
    case ErrorCode.DtmfUnavailable:
      return t('err.dtmfUnavailable');
    default:
      return error.message;
  }
}
