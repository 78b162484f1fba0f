import type { CookieOptions, Request, Response } from 'express';
import { stateId, type LaunchPath } from './login-states.js';

/** Like ltijs's state cookie (which Laurel's login cookies stand beside): only what it does survives. */
export const clearLaunchCookieOptions: CookieOptions = {
  httpOnly: true,
  secure: true,
  sameSite: 'none',
  path: '/lti',
};
export const launchCookieOptions = (maxAgeMs: number): CookieOptions => ({
  ...clearLaunchCookieOptions,
  maxAge: maxAgeMs,
});

/** ltijs's state cookie lives a minute; the mark of its login no longer. */
const WINDOW_MARK_MS = 60_000;

/**
 * The cookie that marks an ltijs login continued in a window Laurel opened (`new-window`), set
 * beside ltijs's own state cookie and read back with it at the launch: which cookie path a launch
 * took is counted (launch-paths.ts) without a database write and read per login. It decides no
 * check: a forged one only miscounts one's own launch.
 */
export const windowCookieName = (state: string) => `laurel_nw_${stateId(state).slice(0, 16)}`;

export function markNewWindowLogin(res: Response, state: string): void {
  res.cookie(windowCookieName(state), '1', launchCookieOptions(WINDOW_MARK_MS));
}

/**
 * Which cookie path an ltijs-checked launch took: `new-window` when its login left the mark, else
 * `cookie`. The mark is cleared, so it counts once.
 */
export function takeCookiePath(
  req: Request,
  res: Response,
  state: unknown,
): Extract<LaunchPath, 'cookie' | 'new-window'> {
  if (typeof state !== 'string' || state === '') return 'cookie';
  const name = windowCookieName(state);
  if ((req.cookies as Record<string, unknown> | undefined)?.[name] !== '1') return 'cookie';
  res.clearCookie(name, clearLaunchCookieOptions);
  return 'new-window';
}

/**
 * Whether the browser holds ltijs's own (signed) state cookie for this state: then the state is
 * ltijs's, made by its login, and never one of Laurel's cookieless states (both are random; only
 * ltijs's login signs that cookie), so Laurel need not look it up.
 */
export function hasLtijsStateCookie(req: Request, state: unknown): boolean {
  if (typeof state !== 'string' || state === '') return false;
  const signed = req.signedCookies as Record<string, unknown> | undefined;
  return typeof signed?.[`state${state}`] === 'string';
}
