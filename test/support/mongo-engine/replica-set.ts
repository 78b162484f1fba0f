/**
 * Replica-set mode: the engine answers as the only member of a replica set (hello with setName,
 * hosts, primary, electionId...), keeps an oplog for change streams (change-log.ts), gossips
 * $clusterTime and operationTime, streams hello to monitors (topologyVersion, awaitable hello),
 * accepts retryable writes (lsid + txnNumber, answered once) and
 * can step down for a while, as a failover looks to a driver.
 */
import { Binary, Long, ObjectId, type Document } from 'bson';
import { ChangeLog } from './change-log.js';
import { ClusterClock } from './cluster-clock.js';

/** The fields of a retryable write's reply kept to answer its retry, as mongod's session table does. */
const RETRY_MEMORY = 100_000;

export class ReplicaSet {
  readonly clock = new ClusterClock();
  readonly changes = new ChangeLog(this.clock);
  host = '';
  /** Each election raises the term; electionId carries it, so drivers see a newer primary. */
  private term = 1;
  private primary = true;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private readonly retries = new Map<string, Document>();
  /** topologyVersion: this process, and a counter raised by every change of role. */
  private readonly processId = new ObjectId();
  private counter = 0;
  private readonly topologyWaiters = new Set<() => void>();

  constructor(readonly setName: string) {}

  get isPrimary(): boolean {
    return this.primary;
  }

  electionId(): ObjectId {
    return new ObjectId(`7fffffff${this.term.toString(16).padStart(16, '0')}`);
  }

  topologyVersion(): { processId: ObjectId; counter: Long } {
    return { processId: this.processId, counter: Long.fromNumber(this.counter) };
  }

  /**
   * For an awaitable hello: resolves when the role changes after the given topologyVersion, or after
   * `ms`; at once when the version is not the current one (another process, or an older counter).
   */
  awaitTopologyChange(version: Document, ms: number): Promise<void> {
    const processId = version.processId as ObjectId | undefined;
    const counter = Number(version.counter);
    if (!(processId instanceof ObjectId) || !processId.equals(this.processId) || counter !== this.counter)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.topologyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.topologyWaiters.add(done);
    });
  }

  private topologyChanged(): void {
    this.counter++;
    for (const done of [...this.topologyWaiters]) done();
  }

  /** The replica-set fields of hello, as a single-member set's primary (or, stepped down, secondary). */
  helloFields(): Document {
    const ts = this.clock.now();
    const lastWriteDate = new Date(ts.t * 1000);
    return {
      topologyVersion: this.topologyVersion(),
      hosts: [this.host],
      setName: this.setName,
      setVersion: 1,
      ...(this.primary
        ? { isWritablePrimary: true, secondary: false, primary: this.host }
        : { isWritablePrimary: false, secondary: true }),
      me: this.host,
      ...(this.primary ? { electionId: this.electionId() } : {}),
      lastWrite: {
        opTime: { ts, t: Long.fromNumber(this.term) },
        lastWriteDate,
        majorityOpTime: { ts, t: Long.fromNumber(this.term) },
        majorityWriteDate: lastWriteDate,
      },
    };
  }

  /** $clusterTime and operationTime, which a replica-set member adds to every reply. */
  gossip(): Document {
    const clusterTime = this.clock.now();
    return {
      $clusterTime: {
        clusterTime,
        // Without keyfile auth mongod signs with an all-zero hash and key id 0.
        signature: { hash: new Binary(Buffer.alloc(20), 0), keyId: Long.ZERO },
      },
      operationTime: clusterTime,
    };
  }

  /**
   * Steps down for `ms`, then is elected again with a new term. While stepped down, hello says
   * secondary, writes answer NotWritablePrimary and primary reads NotPrimaryNoSecondaryOk.
   * Connections stay open: mongod stopped closing them on stepdown in 4.2 (SERVER-38755).
   */
  stepDown(ms: number): void {
    clearTimeout(this.stepDownTimer);
    if (this.primary) this.topologyChanged();
    this.primary = false;
    this.stepDownTimer = setTimeout(() => this.stepUp(), ms);
    this.stepDownTimer.unref();
  }

  stepUp(): void {
    clearTimeout(this.stepDownTimer);
    if (!this.primary) {
      this.term++;
      this.primary = true;
      this.topologyChanged();
    }
  }

  private static retryKey(body: Document): string | undefined {
    const lsid = body.lsid as { id?: unknown } | undefined;
    const txn = body.txnNumber;
    if (!(lsid?.id instanceof Binary) || txn === undefined || txn === null) return undefined;
    return `${Buffer.from(lsid.id.buffer).toString('hex')}:${String(txn)}`;
  }

  /** The reply already given to this retryable write (same session and txnNumber), if any. */
  answered(body: Document): Document | undefined {
    const key = ReplicaSet.retryKey(body);
    return key ? this.retries.get(key) : undefined;
  }

  remember(body: Document, reply: Document): void {
    const key = ReplicaSet.retryKey(body);
    if (!key || reply.ok !== 1) return;
    this.retries.set(key, reply);
    if (this.retries.size > RETRY_MEMORY) this.retries.delete(this.retries.keys().next().value!);
  }

  close(): void {
    clearTimeout(this.stepDownTimer);
    for (const done of [...this.topologyWaiters]) done();
  }
}
