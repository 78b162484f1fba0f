import { idTokenTimeRefusal, TOKEN_MAX_AGE_S } from '../../src/lti/id-token.js';
import { checkTokenTimes, DEFAULT_CLOCK_SKEW_S } from '../../src/security/tokenTimes.js';

const NOW = new Date('2026-11-02T10:00:00Z');
const now = NOW.getTime() / 1000;

describe('checkTokenTimes', () => {
  it('accepts a token issued now that expires later, and one without any time claim', () => {
    expect(checkTokenTimes({ iat: now, exp: now + 60 }, NOW)).toBeUndefined();
    expect(checkTokenTimes({ iat: now, nbf: now, exp: now + 3600 }, NOW.getTime())).toBeUndefined();
    expect(checkTokenTimes({}, NOW)).toBeUndefined();
  });

  it('allows a minute of clock skew by default, both ways, and not a second more', () => {
    expect(DEFAULT_CLOCK_SKEW_S).toBe(60);
    // iat and nbf ahead of now.
    expect(checkTokenTimes({ iat: now + 30 }, NOW)).toBeUndefined();
    expect(checkTokenTimes({ iat: now + 60 }, NOW)).toBeUndefined();
    expect(checkTokenTimes({ iat: now + 61 }, NOW)).toMatchObject({ code: 'issued_in_future', claim: 'iat' });
    expect(checkTokenTimes({ nbf: now + 60 }, NOW)).toBeUndefined();
    expect(checkTokenTimes({ nbf: now + 61 }, NOW)).toMatchObject({ code: 'not_yet_valid', claim: 'nbf' });
    // exp behind now.
    expect(checkTokenTimes({ exp: now - 59 }, NOW)).toBeUndefined();
    expect(checkTokenTimes({ exp: now - 60 }, NOW)).toMatchObject({ code: 'expired', claim: 'exp' });
  });

  it('refuses a token issued five minutes in the future and says by how much', () => {
    const problem = checkTokenTimes({ iat: now + 300, exp: now + 360 }, NOW);
    expect(problem).toMatchObject({ code: 'issued_in_future', claim: 'iat', bySeconds: 300 });
    expect(problem!.message).toBe(
      'The token was issued 300 s in the future (at most 60 s of clock difference is accepted).',
    );
  });

  it('takes another skew, never a negative one', () => {
    expect(checkTokenTimes({ iat: now + 200 }, NOW, 300)).toBeUndefined();
    expect(checkTokenTimes({ iat: now + 1 }, NOW, 0)).toMatchObject({ code: 'issued_in_future' });
    expect(checkTokenTimes({ exp: now }, NOW, 0)).toMatchObject({ code: 'expired' });
    expect(checkTokenTimes({ iat: now }, NOW, -10)).toBeUndefined();
  });

  it('refuses missing required claims, and present ones that are not times', () => {
    expect(checkTokenTimes({ exp: now + 60 }, NOW, 60, { require: ['iat', 'exp'] })).toMatchObject({
      code: 'missing',
      claim: 'iat',
    });
    expect(checkTokenTimes({ iat: now }, NOW, 60, { require: ['iat', 'exp'] })).toMatchObject({
      code: 'missing',
      claim: 'exp',
    });
    for (const bad of [String(now), NaN, Infinity, -1, 1e15, true, {}, [now]])
      expect(checkTokenTimes({ iat: bad }, NOW)).toMatchObject({ code: 'malformed', claim: 'iat' });
    expect(checkTokenTimes({ exp: 'tomorrow' }, NOW)).toMatchObject({ code: 'malformed', claim: 'exp' });
    expect(checkTokenTimes({ nbf: null }, NOW)).toBeUndefined();
    // Fractions of a second are NumericDates too (RFC 7519 §2).
    expect(checkTokenTimes({ iat: now + 0.5, exp: now + 60.25 }, NOW)).toBeUndefined();
  });

  it('refuses a token that expires before it was issued or became valid', () => {
    expect(checkTokenTimes({ iat: now, exp: now - 10 }, NOW)).toMatchObject({ code: 'inconsistent' });
    expect(checkTokenTimes({ nbf: now + 30, exp: now + 20 }, NOW)).toMatchObject({ code: 'inconsistent' });
  });

  it('refuses an iat older than maxAgeSeconds, without adding the skew to it', () => {
    expect(checkTokenTimes({ iat: now - 60 }, NOW, 60, { maxAgeSeconds: 60 })).toBeUndefined();
    expect(checkTokenTimes({ iat: now - 61 }, NOW, 60, { maxAgeSeconds: 60 })).toMatchObject({
      code: 'too_old',
      claim: 'iat',
    });
    expect(checkTokenTimes({ iat: now - 3600 }, NOW)).toBeUndefined();
  });
});

describe('idTokenTimeRefusal (the LTI id_token)', () => {
  const token = (over: Record<string, unknown>) => ({ iat: now, exp: now + 60, ...over });

  it('accepts an id_token within a minute either way', () => {
    expect(idTokenTimeRefusal(token({}), NOW)).toBeUndefined();
    expect(idTokenTimeRefusal(token({ iat: now + 30, exp: now + 90 }), NOW)).toBeUndefined();
    expect(idTokenTimeRefusal(token({ iat: now - TOKEN_MAX_AGE_S }), NOW)).toBeUndefined();
  });

  it('refuses an iat or nbf more than a minute ahead as a launch dated in the future', () => {
    for (const over of [{ iat: now + 300, exp: now + 360 }, { nbf: now + 300 }]) {
      const refused = idTokenTimeRefusal(token(over), NOW);
      expect(refused).toMatchObject({ status: 401, code: 'clock_skew' });
      expect(refused!.title).toBe('The launch is dated in the future');
      expect(refused!.message).toContain('300 seconds ahead');
    }
  });

  it('refuses an expired or too old id_token as expired, and one without iat or exp as invalid', () => {
    expect(idTokenTimeRefusal(token({ exp: now - 60 }), NOW)).toMatchObject({ code: 'expired' });
    expect(idTokenTimeRefusal(token({ iat: now - 120, exp: now + 3600 }), NOW)).toMatchObject({
      code: 'expired',
    });
    expect(idTokenTimeRefusal(token({ iat: undefined }), NOW)).toMatchObject({ code: 'invalid_launch' });
    expect(idTokenTimeRefusal(token({ exp: undefined }), NOW)).toMatchObject({ code: 'invalid_launch' });
    expect(idTokenTimeRefusal(token({ iat: 'now' }), NOW)).toMatchObject({ code: 'invalid_launch' });
  });
});
