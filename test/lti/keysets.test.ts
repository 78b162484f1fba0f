import { jest } from '@jest/globals';
import type { JWK } from 'jose';
import { KEYSET_MAX_AGE_MS, KEYSET_REFETCH_COOLDOWN_MS, KeysetCache } from '../../src/lti/keysets.js';
import { platformKeysets } from '../../src/lti/platformKeys.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch } from '../support/lms-platform/index.js';
import { PlatformKeys } from '../support/lms-platform/keys.js';
import {
  expectHumanPage,
  startLaurelForLti,
  startRegisteredPlatform,
  type RegisteredPlatform,
} from './helpers.js';

describe('the LMS key set cache', () => {
  const URL_A = 'https://lms.example.edu/jwks';
  let clock = 0;
  let published: JWK[] = [];
  let fetched: string[] = [];
  let failNext = false;
  const cache = () =>
    new KeysetCache(
      async (url) => {
        fetched.push(url);
        await Promise.resolve();
        if (failNext) {
          failNext = false;
          throw new Error('the LMS did not answer');
        }
        return published.map((k) => ({ ...k }));
      },
      () => clock,
    );
  beforeEach(() => {
    clock = 1_000_000;
    published = [{ kty: 'RSA', kid: 'k1' }];
    fetched = [];
    failNext = false;
  });

  it('fetches once for many launches, concurrent ones included, until the set is too old', async () => {
    const keys = cache();
    const answers = await Promise.all([keys.keys(URL_A, 'k1'), keys.keys(URL_A, 'k1'), keys.keys(URL_A)]);
    for (const answer of answers) expect(answer.map((k) => k.kid)).toEqual(['k1']);
    expect(fetched).toEqual([URL_A]);
    clock += KEYSET_MAX_AGE_MS - 1;
    await keys.keys(URL_A, 'k1');
    expect(fetched).toHaveLength(1);
    clock += 1;
    await keys.keys(URL_A, 'k1');
    expect(fetched).toHaveLength(2);
  });

  it('fetches again at once for a key id it lacks (a rotated key), but not again within the cool-down', async () => {
    const keys = cache();
    await keys.keys(URL_A, 'k1');
    clock += 1; // just after a fetch: a rotation is followed all the same
    published = [
      { kty: 'RSA', kid: 'k1' },
      { kty: 'RSA', kid: 'k2' },
    ];
    expect((await keys.keys(URL_A, 'k2')).map((k) => k.kid)).toEqual(['k1', 'k2']);
    expect(fetched).toHaveLength(2);
    // Forged key ids do not make Laurel ask the LMS on every request.
    for (const kid of ['x1', 'x2', 'x3'])
      expect((await keys.keys(URL_A, kid)).map((k) => k.kid)).toEqual(['k1', 'k2']);
    expect(fetched).toHaveLength(2);
    clock += KEYSET_REFETCH_COOLDOWN_MS;
    await keys.keys(URL_A, 'x4');
    expect(fetched).toHaveLength(3);
  });

  it('keeps no failed fetch, and answers stored sets only while fresh', async () => {
    const keys = cache();
    failNext = true;
    await expect(keys.keys(URL_A, 'k1')).rejects.toThrow('the LMS did not answer');
    expect(keys.stored(URL_A)).toBeUndefined();
    expect((await keys.keys(URL_A, 'k1')).map((k) => k.kid)).toEqual(['k1']);
    expect(fetched).toHaveLength(2);
    expect(keys.stored(URL_A)?.map((k) => k.kid)).toEqual(['k1']);
    clock += KEYSET_MAX_AGE_MS;
    expect(keys.stored(URL_A)).toBeUndefined();
  });
});

describe('launches with the cached key set', () => {
  let t: TestLaurel;
  let moodle: RegisteredPlatform;
  beforeAll(async () => {
    t = await startLaurelForLti();
    moodle = await startRegisteredPlatform(t, 'moodle');
  });
  afterAll(async () => {
    await moodle?.platform.close();
    await t?.stop();
  });
  const learnerLaunch = (extra: Partial<Parameters<typeof launch>[1]> = {}) =>
    launch(moodle.platform, {
      courseId: moodle.platform.demo!.courses.chemistry.id,
      sub: moodle.platform.demo!.users.ada.sub,
      ...extra,
    });

  it('asks the LMS for its keys once, follows a key rotation at once, and still refuses a forged signature', async () => {
    const stats = platformKeysets(t.laurel.ctx).stats;
    // What the LMS itself serves: neither Laurel nor ltijs asks again while the set is fresh.
    const served = jest.spyOn(PlatformKeys.prototype, 'jwks');
    for (let i = 0; i < 3; i++) {
      const page = await learnerLaunch();
      expect(page.status).toBe(200);
      expect(new URL(page.url).pathname).toBe('/course/learner');
    }
    expect(stats.fetches).toBe(1);
    expect(served).toHaveBeenCalledTimes(1);

    // The LMS signs with a new key from now on: the first launch with it fetches the set again.
    moodle.platform.rotateKeys();
    const rotated = await learnerLaunch();
    expect(rotated.status).toBe(200);
    expect(new URL(rotated.url).pathname).toBe('/course/learner');
    expect(stats.fetches).toBe(2);

    // The cached keys verify: a token signed with another key under the current kid is refused.
    const forged = await learnerLaunch({ tamper: 'bad-signature' });
    expect(forged.status).toBe(401);
    expectHumanPage(forged.body);
    expect(forged.body).toContain('(bad_signature)');
    expect(stats.fetches).toBe(2);
    expect(served).toHaveBeenCalledTimes(2);
    served.mockRestore();
  });
});
