import { MongoClient, type Db } from 'mongodb';
import {
  COLLECTION,
  LAUNCH_PAGE_TTL_S,
  LOGIN_STATE_TTL_S,
  LoginStateStore,
  stateId,
} from '../../src/lti/login-states.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';

/** The server-side OIDC state store of the cookieless launch paths. */
describe('LoginStateStore', () => {
  let database: TestDatabase;
  let client: MongoClient;
  let db: Db;
  // The store's clock is fixed per test but starts at the real time: the database's TTL monitor
  // removes documents by the real clock, and must not sweep away a state a test is still using.
  let now = new Date();
  let store: LoginStateStore;
  const origin = 'https://sso.lms.example.edu';

  beforeAll(async () => {
    database = await startTestDatabase();
    client = await MongoClient.connect(database.uri);
    db = client.db();
    store = new LoginStateStore(
      () => db,
      () => now,
    );
    await store.setup();
  });
  afterAll(async () => {
    await client?.close();
    await database?.stop();
  });
  beforeEach(() => {
    now = new Date();
  });

  const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
  const issueStored = () =>
    store.issue({ path: 'platform-storage', issuer: 'https://lms', clientId: 'c1', platformOrigin: origin });

  it('keeps states under a TTL index, and never the state itself', async () => {
    const indexes = await db.collection(COLLECTION).indexes();
    expect(indexes.find((i) => i.key.expiresAt === 1)?.expireAfterSeconds).toBe(0);
    const issued = await issueStored();
    const doc = await db.collection(COLLECTION).findOne({ _id: stateId(issued.state) as never });
    expect(JSON.stringify(doc)).not.toContain(issued.state);
    expect(JSON.stringify(doc)).not.toContain(issued.nonce);
    expect(doc?.expiresAt).toEqual(new Date(now.getTime() + LOGIN_STATE_TTL_S * 1000));
    expect(LoginStateStore.nonceMatches(doc as never, issued.nonce)).toBe(true);
    expect(LoginStateStore.nonceMatches(doc as never, 'another nonce')).toBe(false);
  });

  it('lets a platform-storage state through once, read back from the platform origin', async () => {
    const issued = await issueStored();
    const posted = await store.markPosted(issued.state);
    expect(posted?.doc.path).toBe('platform-storage');
    // The id_token comes once: a second post of the same state is refused.
    expect(await store.markPosted(issued.state)).toBeNull();
    const ok = await store.complete(posted!.completion, { state: issued.state, origin });
    expect(ok.ok).toBe(true);
    // And the proof counts once: a replayed completion is refused.
    expect(await store.complete(posted!.completion, { state: issued.state, origin })).toEqual({
      ok: false,
      reason: 'unknown_or_used',
    });
  });

  it('refuses a state read back from another origin, or not the one issued, and uses it up', async () => {
    for (const [proof, reason] of [
      [{ state: 'ignored', origin: 'https://evil.example' }, 'state_mismatch'],
      [{ origin: 'https://evil.example' }, 'state_mismatch'],
    ] as const) {
      const issued = await issueStored();
      const posted = await store.markPosted(issued.state);
      const result = await store.complete(posted!.completion, proof);
      expect(result).toMatchObject({ ok: false, reason });
    }
    const issued = await issueStored();
    const posted = await store.markPosted(issued.state);
    for (const wrong of ['https://evil.example', `${origin}/`, origin.replace('https', 'http'), null]) {
      const again = await issueStored();
      const p = await store.markPosted(again.state);
      expect(await store.complete(p!.completion, { state: again.state, origin: wrong })).toMatchObject({
        ok: false,
        reason: 'wrong_origin',
      });
      // The honest answer after a wrong one no longer counts.
      expect(await store.complete(p!.completion, { state: again.state, origin })).toMatchObject({
        ok: false,
        reason: 'unknown_or_used',
      });
    }
    expect((await store.complete(posted!.completion, { state: issued.state, origin })).ok).toBe(true);
  });

  it('refuses a forged completion token', async () => {
    const issued = await issueStored();
    const posted = await store.markPosted(issued.state);
    const [id] = posted!.completion.split('.');
    for (const forged of [`${id}.forged`, 'nothing', `.${posted!.completion}`, 42, undefined])
      expect(await store.complete(forged, { state: issued.state, origin })).toMatchObject({ ok: false });
    expect((await store.complete(posted!.completion, { state: issued.state, origin })).ok).toBe(true);
  });

  it('lets states expire: at login, and between the launch and its proof', async () => {
    const stale = await issueStored();
    later(LOGIN_STATE_TTL_S + 1);
    expect(await store.find(stale.state)).toBeNull();
    expect(await store.markPosted(stale.state)).toBeNull();

    const slow = await issueStored();
    const posted = await store.markPosted(slow.state);
    later(LAUNCH_PAGE_TTL_S + 1);
    expect(await store.complete(posted!.completion, { state: slow.state, origin })).toMatchObject({
      ok: false,
      reason: 'unknown_or_used',
    });
  });

  it('binds a storage-access state to its cookie: confirmed once, proven by the cookie only', async () => {
    const issued = await store.issue({ path: 'storage-access', issuer: 'https://lms', clientId: 'c1' });
    expect(issued.binding).toBeDefined();
    // Not confirmed yet: the LMS's answer is not accepted.
    expect(await store.markPosted(issued.state)).toBeNull();
    expect(await store.confirmBinding(issued.state, 'not the cookie')).toBeNull();
    expect(await store.confirmBinding(issued.state, issued.binding)).not.toBeNull();
    expect(await store.confirmBinding(issued.state, issued.binding)).toBeNull();
    const posted = await store.markPosted(issued.state);
    expect(await store.complete(posted!.completion, { state: issued.state, origin })).toMatchObject({
      ok: false,
      reason: 'no_binding',
    });

    const second = await store.issue({ path: 'storage-access', issuer: 'https://lms', clientId: 'c1' });
    await store.confirmBinding(second.state, second.binding);
    const p2 = await store.markPosted(second.state);
    expect((await store.complete(p2!.completion, { binding: second.binding })).ok).toBe(true);
  });
});
