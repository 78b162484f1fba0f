import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

/**
 * How a launch got past the OIDC state check:
 * - `cookie`: ltijs's own state cookie (the LMS page and Laurel share cookies, or a top-level launch);
 * - `new-window`: the same cookie path, continued in a top-level window Laurel opened because the
 *   browser kept its cookies out of the LMS's iframe;
 * - `platform-storage`: the state kept in the LMS's own storage through postMessage (1EdTech
 *   "LTI OIDC Login with LTI Client Side postMessages"), checked by Laurel;
 * - `storage-access`: the browser granted Laurel its cookies inside the iframe (Storage Access
 *   API), and a cookie of Laurel's binds the state to this browser.
 */
export type LaunchPath = 'cookie' | 'new-window' | 'platform-storage' | 'storage-access';
export const LAUNCH_PATHS: readonly LaunchPath[] = [
  'cookie',
  'new-window',
  'platform-storage',
  'storage-access',
];

/** The paths whose state Laurel checks itself (ltijs never sees these launches). */
export type CookielessPath = Extract<LaunchPath, 'platform-storage' | 'storage-access'>;

/** A login's state lives this long: the LMS answers a login in seconds. */
export const LOGIN_STATE_TTL_S = 300;
/** Once the id_token arrived, the launch page has this long to prove the state. */
export const LAUNCH_PAGE_TTL_S = 120;

export const COLLECTION = 'lti_login_states';

/**
 * binding (storage access: cookie set, not yet read back) → login (sent to the LMS) → posted (the
 * id_token arrived, verified) → used. Every step is one atomic conditional update, so a state
 * passes each step once.
 */
type Stage = 'binding' | 'login' | 'posted' | 'used';

export type LoginStateDoc = {
  /** sha256 of the state: the state itself is never stored. */
  _id: string;
  path: LaunchPath;
  /**
   * Who checks the state at launch: always Laurel (platform storage, storage access) now; ltijs's
   * own states (its cookie) are no longer recorded (windowCookieName), older records said 'ltijs'.
   */
  verifier: 'ltijs' | 'laurel';
  stage: Stage;
  issuer: string;
  clientId: string;
  nonceHash?: string;
  /** The origin the platform storage must answer from (its OIDC authorisation endpoint's). */
  platformOrigin?: string;
  storageTarget?: string;
  bindingHash?: string;
  completionHash?: string;
  /** The verified id_token payload, between its arrival and the proof of the state. */
  claims?: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
};

export type IssuedState = { state: string; nonce: string; id: string; binding?: string };

export type StateProof = { state?: unknown; origin?: unknown; binding?: unknown };

/** Why a proof failed; for logs and the page, never the values. */
export type ProofFailure = 'unknown_or_used' | 'state_mismatch' | 'wrong_origin' | 'no_binding';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
const secret = () => randomBytes(32).toString('base64url');

function sameHash(given: string, expectedHash: string | undefined): boolean {
  if (!expectedHash) return false;
  const a = Buffer.from(sha256(given), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export const stateId = (state: string) => sha256(state);
/** The cookie that binds a storage-access login to this browser. */
export const bindingCookieName = (id: string) => `laurel_sa_${id.slice(0, 16)}`;
/** The key of the state in the platform's storage (the key carries the value, as Canvas suggests). */
export const storageKeyFor = (state: string) => `laurel_state_${state}`;

/**
 * The OIDC states of Laurel's cookieless logins, server-side in MongoDB with a TTL index: the nonce
 * and what proves the state (the platform's origin, or a binding cookie), each state used once. The
 * cookie paths' states are ltijs's (its signed cookie); Laurel keeps nothing of them here.
 */
export class LoginStateStore {
  constructor(
    private readonly database: () => Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get collection(): Collection<LoginStateDoc> {
    return this.database().collection<LoginStateDoc>(COLLECTION);
  }

  async setup(): Promise<void> {
    await this.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
  }

  private live() {
    // The TTL monitor sweeps only every minute: expiry is checked on every read too.
    return { expiresAt: { $gt: this.now() } };
  }

  private expiry(seconds: number): Date {
    return new Date(this.now().getTime() + seconds * 1000);
  }

  /**
   * A new state and nonce for a cookieless login. Storage-access logins also get a binding secret
   * (for a cookie) and wait in `binding` until the cookie is read back.
   */
  async issue(login: {
    path: CookielessPath;
    issuer: string;
    clientId: string;
    platformOrigin?: string;
    storageTarget?: string;
  }): Promise<IssuedState> {
    const state = secret();
    const nonce = secret();
    const binding = login.path === 'storage-access' ? secret() : undefined;
    const id = stateId(state);
    const now = this.now();
    await this.collection.insertOne({
      _id: id,
      path: login.path,
      verifier: 'laurel',
      stage: binding ? 'binding' : 'login',
      issuer: login.issuer,
      clientId: login.clientId,
      nonceHash: sha256(nonce),
      ...(login.platformOrigin ? { platformOrigin: login.platformOrigin } : {}),
      ...(login.storageTarget ? { storageTarget: login.storageTarget } : {}),
      ...(binding ? { bindingHash: sha256(binding) } : {}),
      createdAt: now,
      expiresAt: this.expiry(LOGIN_STATE_TTL_S),
    });
    return { state, nonce, id, ...(binding ? { binding } : {}) };
  }

  /** A live state, or null (unknown, expired). */
  async find(state: unknown): Promise<LoginStateDoc | null> {
    if (typeof state !== 'string' || state === '') return null;
    return this.collection.findOne({ _id: stateId(state), ...this.live() });
  }

  /** Storage access: the binding cookie came back, so the login may go on to the LMS (once). */
  async confirmBinding(state: unknown, binding: unknown): Promise<LoginStateDoc | null> {
    const doc = await this.find(state);
    if (!doc || doc.stage !== 'binding' || typeof binding !== 'string') return null;
    if (!sameHash(binding, doc.bindingHash)) return null;
    return this.collection.findOneAndUpdate(
      { _id: doc._id, stage: 'binding', ...this.live() },
      { $set: { stage: 'login' } },
      { returnDocument: 'after' },
    );
  }

  /**
   * The id_token of a cookieless login arrived: moves its state to `posted` (once) and hands out the
   * one-time completion token that only this launch page holds. Null when the state is unknown,
   * expired or was already used.
   */
  async markPosted(state: unknown): Promise<{ doc: LoginStateDoc; completion: string } | null> {
    if (typeof state !== 'string' || state === '') return null;
    const completionSecret = secret();
    const doc = await this.collection.findOneAndUpdate(
      { _id: stateId(state), verifier: 'laurel', stage: 'login', ...this.live() },
      {
        $set: {
          stage: 'posted',
          completionHash: sha256(completionSecret),
          expiresAt: this.expiry(LAUNCH_PAGE_TTL_S),
        },
      },
      { returnDocument: 'after' },
    );
    return doc ? { doc, completion: `${doc._id}.${completionSecret}` } : null;
  }

  async attachClaims(id: string, claims: Record<string, unknown>): Promise<void> {
    await this.collection.updateOne({ _id: id, stage: 'posted' }, { $set: { claims } });
  }

  /** A refused launch ends its state at once. */
  async discard(id: string): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { stage: 'used' }, $unset: { claims: '' } });
  }

  /**
   * The launch page's proof of the state: the state read back from the platform's storage (and the
   * origin it answered from), or the binding cookie. The state is used up whatever the outcome, so
   * a second attempt (a replay) is refused.
   */
  async complete(
    completion: unknown,
    proof: StateProof,
  ): Promise<{ ok: true; doc: LoginStateDoc } | { ok: false; reason: ProofFailure; doc?: LoginStateDoc }> {
    if (typeof completion !== 'string') return { ok: false, reason: 'unknown_or_used' };
    const dot = completion.indexOf('.');
    const id = completion.slice(0, dot);
    const given = completion.slice(dot + 1);
    if (dot < 1 || given === '') return { ok: false, reason: 'unknown_or_used' };
    const candidate = await this.collection.findOne({ _id: id, stage: 'posted', ...this.live() });
    if (!candidate || !sameHash(given, candidate.completionHash))
      return { ok: false, reason: 'unknown_or_used' };
    const doc = await this.collection.findOneAndUpdate(
      { _id: id, stage: 'posted', completionHash: candidate.completionHash, ...this.live() },
      { $set: { stage: 'used' }, $unset: { claims: '' } },
      { returnDocument: 'before' },
    );
    if (!doc) return { ok: false, reason: 'unknown_or_used' };
    if (doc.path === 'platform-storage') {
      if (typeof proof.state !== 'string' || stateId(proof.state) !== doc._id)
        return { ok: false, reason: 'state_mismatch', doc };
      if (typeof proof.origin !== 'string' || proof.origin !== doc.platformOrigin)
        return { ok: false, reason: 'wrong_origin', doc };
      return { ok: true, doc };
    }
    if (typeof proof.binding !== 'string' || !sameHash(proof.binding, doc.bindingHash))
      return { ok: false, reason: 'no_binding', doc };
    return { ok: true, doc };
  }

  /** Whether a nonce is the one issued with this state. */
  static nonceMatches(doc: LoginStateDoc, nonce: unknown): boolean {
    return typeof nonce === 'string' && sameHash(nonce, doc.nonceHash);
  }
}
