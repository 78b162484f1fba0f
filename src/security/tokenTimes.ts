/**
 * The time claims of a JWT (RFC 7519 §4.1.4–4.1.6), checked the same way for every token Laurel
 * accepts: an LTI id_token, and any other signed token it takes from outside. Clocks disagree, so
 * each bound allows `skewSeconds` either way (a minute by default), and never more.
 *
 * Pure: the caller passes the time; nothing is read from the clock here.
 */

/** How far another system's clock may be from Laurel's, either way. */
export const DEFAULT_CLOCK_SKEW_S = 60;

export type TokenTimeClaim = 'iat' | 'exp' | 'nbf';

export type TokenTimeProblem =
  | { code: 'missing'; claim: TokenTimeClaim; message: string }
  | { code: 'malformed'; claim: TokenTimeClaim; message: string }
  | { code: 'issued_in_future'; claim: 'iat'; message: string; bySeconds: number }
  | { code: 'not_yet_valid'; claim: 'nbf'; message: string; bySeconds: number }
  | { code: 'expired'; claim: 'exp'; message: string; bySeconds: number }
  | { code: 'too_old'; claim: 'iat'; message: string; bySeconds: number }
  | { code: 'inconsistent'; claim: 'exp'; message: string };

export type TokenTimeOptions = {
  /** Claims the token must carry (an OIDC id_token: `iat` and `exp`). Present ones are always checked. */
  require?: readonly TokenTimeClaim[];
  /** The oldest `iat` accepted, in seconds before now (the skew is not added on top of it). */
  maxAgeSeconds?: number;
};

/** A NumericDate (seconds since the epoch) within what a date can hold; fractions are allowed. */
const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 253402300800; // 9999-12-31

const seconds = (n: number) => `${Math.round(n)} s`;

/**
 * Why a token's time claims make it unacceptable at `now`, or undefined when they are fine:
 * - `iat` and `nbf` may lie at most `skewSeconds` ahead of now;
 * - `exp` may lie at most `skewSeconds` behind now (the token is refused from exp + skew on);
 * - with `maxAgeSeconds`, `iat` may lie at most that far behind now;
 * - a present claim must be a number, and `exp` must not come before `iat` or `nbf`.
 */
export function checkTokenTimes(
  claims: Readonly<Record<string, unknown>>,
  now: Date | number,
  skewSeconds: number = DEFAULT_CLOCK_SKEW_S,
  options: TokenTimeOptions = {},
): TokenTimeProblem | undefined {
  const nowS = (typeof now === 'number' ? now : now.getTime()) / 1000;
  const skew = Math.max(0, skewSeconds);
  const values: Partial<Record<TokenTimeClaim, number>> = {};
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    const value = claims[claim];
    if (value === undefined || value === null) {
      if (options.require?.includes(claim))
        return { code: 'missing', claim, message: `The token carries no ${claim} claim.` };
      continue;
    }
    if (!isNumericDate(value))
      return {
        code: 'malformed',
        claim,
        message: `The token's ${claim} claim is not a time (seconds since 1970).`,
      };
    values[claim] = value;
  }
  const { iat, nbf, exp } = values;
  if (iat !== undefined && iat - nowS > skew)
    return {
      code: 'issued_in_future',
      claim: 'iat',
      bySeconds: iat - nowS,
      message: `The token was issued ${seconds(iat - nowS)} in the future (at most ${seconds(skew)} of clock difference is accepted).`,
    };
  if (nbf !== undefined && nbf - nowS > skew)
    return {
      code: 'not_yet_valid',
      claim: 'nbf',
      bySeconds: nbf - nowS,
      message: `The token is not valid for another ${seconds(nbf - nowS)} (at most ${seconds(skew)} of clock difference is accepted).`,
    };
  if (exp !== undefined && nowS - exp >= skew)
    return {
      code: 'expired',
      claim: 'exp',
      bySeconds: nowS - exp,
      message: `The token expired ${seconds(nowS - exp)} ago.`,
    };
  if (exp !== undefined && ((iat !== undefined && exp < iat) || (nbf !== undefined && exp < nbf)))
    return {
      code: 'inconsistent',
      claim: 'exp',
      message: 'The token expires before it was issued or became valid.',
    };
  if (iat !== undefined && options.maxAgeSeconds !== undefined && nowS - iat > options.maxAgeSeconds)
    return {
      code: 'too_old',
      claim: 'iat',
      bySeconds: nowS - iat,
      message: `The token was issued ${seconds(nowS - iat)} ago (at most ${seconds(options.maxAgeSeconds)} is accepted).`,
    };
  return undefined;
}
