import { describe, expect, it } from 'vitest';
import { ErrorCode, IpcError, hasCode, toIpcError } from '../../src/lib/api';
import { describeError, lockedText } from '../../src/lib/util/errors';

describe('toIpcError', () => {
  it('keeps a CommandError from the shell', () => {
    const e = toIpcError({ code: 'auth.locked', message: 'Locked', retryAfterSecs: 300 });
    expect(e).toBeInstanceOf(IpcError);
    expect(e.code).toBe('auth.locked');
    expect(e.retryAfterSecs).toBe(300);
  });
  it('wraps Tauri’s plain-string rejections', () => {
    const e = toIpcError('command foo not found');
    expect(e.code).toBe(ErrorCode.IpcFailed);
    expect(e.message).toBe('command foo not found');
  });
});

describe('describeError', () => {
  it('branches on codes, not on messages', () => {
    const wrong = new IpcError({ code: 'auth.wrong_password', message: 'locked' });
    expect(describeError(wrong)).toMatch(/password is not right/);
    expect(hasCode(wrong, ErrorCode.WrongPassword)).toBe(true);
    expect(hasCode(wrong, ErrorCode.Locked)).toBe(false);
  });
  it('says how long an account stays locked', () => {
    expect(lockedText(600)).toBe('This account is locked. Try again in 10 minutes.');
    expect(lockedText(61)).toBe('This account is locked. Try again in 2 minutes.');
    expect(lockedText(30)).toBe('This account is locked. Try again in a minute.');
    expect(lockedText(undefined)).toBe('This account is locked. Try again later.');
  });
  it('names the unreachable server', () => {
    const e = { code: 'net.unreachable', message: 'x' };
    expect(describeError(e, { server: 'pbx.example.com' })).toContain('pbx.example.com');
  });
  it('explains keypad tones that cannot be sent instead of the engine’s wording', () => {
    const e = { code: 'call.dtmf_unavailable', message: 'DTMF cannot be sent on this call: the call is on hold' };
    expect(describeError(e)).toMatch(/Keypad tones cannot be sent/);
  });
  it('shows the shell’s message for codes it has no sentence for', () => {
    expect(describeError({ code: 'sip.busy_here', message: 'The line is busy.' })).toBe('The line is busy.');
  });
});
