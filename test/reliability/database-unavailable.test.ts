/** Which database errors mean "unavailable for a moment" (answered 503), and which do not (500). */
import { MongoServerError } from 'mongodb';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';

describe('isDatabaseUnavailable', () => {
  it('counts a replica set without a primary for a moment', () => {
    for (const [code, codeName] of [
      [10107, 'NotWritablePrimary'],
      [13435, 'NotPrimaryNoSecondaryOk'],
      [189, 'PrimarySteppedDown'],
      [11602, 'InterruptedDueToReplStateChange'],
      [91, 'ShutdownInProgress'],
    ] as const) {
      expect(isDatabaseUnavailable(new MongoServerError({ code, codeName, errmsg: 'not primary' }))).toBe(
        true,
      );
    }
  });

  it('counts a socket the server or the network broke, also as the cause of another error', () => {
    const reset = Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' });
    const ended = Object.assign(new Error('This socket has been ended by the other party'), {
      code: 'EPIPE',
    });
    expect(isDatabaseUnavailable(reset)).toBe(true);
    expect(isDatabaseUnavailable(ended)).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: reset }))).toBe(true);
  });

  it('does not count errors of the request itself', () => {
    expect(isDatabaseUnavailable(new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' }))).toBe(
      false,
    );
    expect(isDatabaseUnavailable(new MongoServerError({ code: 2, errmsg: 'BadValue' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('nope'), { code: 'ENOENT' }))).toBe(false);
  });
});
