/**
 * Change streams over the replica set's oplog (change-log.ts), as mongod 7.0 serves them to
 * drivers (mongodb/specifications, change-streams): `aggregate` with `$changeStream` first opens a
 * cursor on a collection or a database; getMore waits up to maxTimeMS (1 s without it) for the
 * next events (awaitData); every batch carries a postBatchResumeToken; resumeAfter, startAfter and
 * startAtOperationTime start where the driver left off. Events: insert, update, replace, delete,
 * and on a collection's stream drop then invalidate (a database's: drop, dropDatabase, invalidate).
 * The stages mongod allows after $changeStream run on each event (mingo).
 */
import { randomBytes } from 'node:crypto';
import { Long, Timestamp, type Document } from 'bson';
import { bsonTypeName, cloneDoc, isPlainObject, sameValue } from './bson.js';
import type { ChangeEntry, ChangeLog } from './change-log.js';
import { fail } from './errors.js';
import { formatDocument } from './format.js';
import { candidates } from './planner.js';
import { aggregateDocs, type QueryContext } from './query.js';
import { decodeToken, encodeToken } from './resume-token.js';
import { describeUpdate } from './update-description.js';
import type { Store } from './store.js';
import { checkFields } from './validate.js';

/** The stages mongod allows after $changeStream (Pipeline::validateCommon, isAllowedInChangeStream). */
const ALLOWED_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
]);

/** mongod's default awaitData wait for a getMore without maxTimeMS. */
const DEFAULT_AWAIT_MS = 1000;
const DEFAULT_FIRST_BATCH = 101;

interface Stream {
  id: Long;
  /** The cursor's namespace: `db.coll`, or `db.$cmd.aggregate` for a database's stream. */
  ns: string;
  db: string;
  coll?: string;
  /** Everything up to this time has been looked at. */
  position: Timestamp;
  pipeline: Document[];
  fullDocument: 'default' | 'updateLookup';
  qctx: QueryContext;
  /** Set once the drop that ends the stream was returned: the invalidate comes next. */
  invalidateAt?: Timestamp;
  closed: boolean;
  /** A waiting getMore's wake-up (new entry, kill, close). */
  interrupt?: (reason?: 'killed') => void;
  busy: boolean;
}

const STAGE_FIELDS = {
  resumeAfter: 'any',
  startAfter: 'any',
  startAtOperationTime: 'any',
  fullDocument: 'string',
  fullDocumentBeforeChange: 'string',
  allChangesForCluster: 'bool',
  showExpandedEvents: 'bool',
  showSystemEvents: 'bool',
  showMigrationEvents: 'bool',
  showRawUpdateDescription: 'bool',
  allowToRunOnConfigDB: 'bool',
  allowToRunOnSystemNS: 'bool',
} as const;

function unsupported(what: string): never {
  fail(115, `${what} is not supported by the Laurel test engine's change streams (test equipment)`);
}

/** The time just before `ts`, so that a stream positioned there returns the entry written at `ts`. */
function justBefore(ts: Timestamp): Timestamp {
  return ts.i > 0 ? new Timestamp({ t: ts.t, i: ts.i - 1 }) : new Timestamp({ t: ts.t - 1, i: 0xffffffff });
}

export class ChangeStreams {
  private readonly open = new Map<string, Stream>();

  constructor(
    private readonly log: ChangeLog,
    private readonly store: Store,
  ) {}

  owns(id: unknown): boolean {
    return Long.isLong(id) && this.open.has(id.toString());
  }

  /** The reply to `aggregate` whose first stage is $changeStream. */
  openStream(
    db: string,
    coll: string | undefined,
    pipeline: Document[],
    batchSize: number | undefined,
    qctx: QueryContext,
  ): Document {
    const spec = pipeline[0].$changeStream as unknown;
    if (!isPlainObject(spec))
      fail(50808, `$changeStream stage expects a document as argument, got ${bsonTypeName(spec)}`);
    checkFields('$changeStream', spec, STAGE_FIELDS);
    if (spec.allChangesForCluster === true) unsupported('allChangesForCluster');
    if (spec.showExpandedEvents === true) unsupported('showExpandedEvents');
    const fullDocument = spec.fullDocument ?? 'default';
    if (fullDocument === 'whenAvailable' || fullDocument === 'required')
      unsupported(`fullDocument: '${fullDocument}' (pre- and post-images)`);
    if (fullDocument !== 'default' && fullDocument !== 'updateLookup')
      fail(2, `Enumeration value '${String(fullDocument)}' for field 'fullDocument' is not a valid value.`);
    const before = spec.fullDocumentBeforeChange ?? 'off';
    if (before !== 'off') unsupported(`fullDocumentBeforeChange: '${String(before)}'`);
    const rest = pipeline.slice(1);
    for (const stage of rest) {
      const name = Object.keys(stage)[0] ?? '';
      if (name === '$changeStream')
        fail(40602, '$changeStream is only valid as the first stage in a pipeline');
      if (name === '$changeStreamSplitLargeEvent') unsupported('$changeStreamSplitLargeEvent');
      if (!ALLOWED_STAGES.has(name)) fail(20, `${name} is not permitted in a $changeStream pipeline`);
    }
    const starts = (['resumeAfter', 'startAfter', 'startAtOperationTime'] as const).filter(
      (k) => spec[k] !== undefined && spec[k] !== null,
    );
    if (starts.length > 1) {
      fail(
        starts.includes('startAtOperationTime') ? 40674 : 50865,
        starts.includes('startAtOperationTime')
          ? 'Only one type of resume option is allowed, but multiple were found.'
          : "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage",
      );
    }
    const position = this.startingPoint(starts[0], starts[0] ? spec[starts[0]] : undefined);
    const stream: Stream = {
      id: this.newId(),
      ns: coll ? `${db}.${coll}` : `${db}.$cmd.aggregate`,
      db,
      coll,
      position,
      pipeline: rest,
      fullDocument,
      qctx,
      closed: false,
      busy: false,
    };
    const { batch, token } = this.collect(stream, batchSize ?? DEFAULT_FIRST_BATCH);
    const id = stream.closed ? Long.ZERO : stream.id;
    if (!stream.closed) this.open.set(stream.id.toString(), stream);
    return { cursor: { firstBatch: batch, postBatchResumeToken: token, id, ns: stream.ns }, ok: 1 };
  }

  private startingPoint(option: string | undefined, value: unknown): Timestamp {
    if (!option) return this.log.clock.now();
    if (option === 'startAtOperationTime') {
      if (!(value instanceof Timestamp))
        fail(
          14,
          `BSON field '$changeStream.startAtOperationTime' is the wrong type '${bsonTypeName(value)}', expected type 'timestamp'`,
        );
      const position = justBefore(value);
      if (this.log.lostAfter(position)) this.historyLost();
      return position;
    }
    const point = decodeToken(option, value);
    if (point.kind === 'invalidate' && option === 'resumeAfter') {
      fail(
        260,
        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.",
      );
    }
    if (this.log.lostAfter(point.ts)) this.historyLost();
    if (point.kind !== 'highWaterMark' && !this.log.at(point.ts))
      fail(280, `cannot resume stream; the resume token was not found. ${formatDocument(value as Document)}`);
    return point.ts;
  }

  private historyLost(): never {
    fail(286, 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
  }

  private newId(): Long {
    for (;;) {
      const id = Long.fromBytesLE([...randomBytes(8)]).and(Long.MAX_VALUE);
      if (!id.isZero() && !this.open.has(id.toString())) return id;
    }
  }

  private relevant(stream: Stream, entry: ChangeEntry): boolean {
    if (entry.db !== stream.db) return false;
    if (entry.op === 'dropDatabase') return true;
    return !stream.coll || entry.coll === stream.coll;
  }

  private lookUp(db: string, coll: string, key: unknown): Document | null {
    const collection = this.store.get(db, coll);
    if (!collection) return null;
    const found = candidates(collection, { _id: key }).find(([, doc]) => sameValue(doc._id, key));
    return found ? cloneDoc(found[1]) : null;
  }

  private event(stream: Stream, entry: ChangeEntry): Document {
    const head = {
      _id: encodeToken({ ts: entry.ts, kind: 'event' }),
      operationType: entry.op,
      clusterTime: entry.ts,
      wallTime: entry.wall,
    };
    const ns = { db: entry.db, coll: entry.coll };
    const key = { _id: (entry.after ?? entry.before)?._id };
    switch (entry.op) {
      case 'insert':
      case 'replace':
        return { ...head, fullDocument: cloneDoc(entry.after!), ns, documentKey: key };
      case 'update': {
        const lookup =
          stream.fullDocument === 'updateLookup'
            ? { fullDocument: this.lookUp(entry.db, entry.coll!, key._id) }
            : {};
        return {
          ...head,
          ...lookup,
          ns,
          documentKey: key,
          updateDescription: cloneDoc(describeUpdate(entry.before!, entry.after!) as unknown as Document),
        };
      }
      case 'delete':
        return { ...head, ns, documentKey: key };
      case 'drop':
        return { ...head, ns };
      case 'dropDatabase':
        return { ...head, ns: { db: entry.db } };
    }
  }

  /** Runs the stages after $changeStream on one event; undefined when they filter it out. */
  private transform(stream: Stream, event: Document): Document | undefined {
    if (!stream.pipeline.length) return event;
    const [out] = aggregateDocs([event], stream.pipeline, stream.qctx);
    if (!out) return undefined;
    if (!sameValue(out._id, event._id)) {
      fail(
        280,
        'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
      );
    }
    return out;
  }

  /** The events after the stream's position (at most `max`) and the batch's postBatchResumeToken. */
  private collect(stream: Stream, max: number): { batch: Document[]; token: Document } {
    const batch: Document[] = [];
    let lastReturned: Document | undefined;
    while (batch.length < max && !stream.closed) {
      if (stream.invalidateAt) {
        const ts = stream.invalidateAt;
        const invalidate = {
          _id: encodeToken({ ts, kind: 'invalidate' }),
          operationType: 'invalidate',
          clusterTime: ts,
          wallTime: new Date(ts.t * 1000),
        };
        const out = this.transform(stream, invalidate);
        if (out) batch.push(out);
        lastReturned = out ? invalidate._id : undefined;
        stream.closed = true;
        break;
      }
      const entry = this.log.entry(this.log.indexAfter(stream.position));
      if (!entry) break;
      stream.position = entry.ts;
      lastReturned = undefined;
      if (!this.relevant(stream, entry)) continue;
      const out = this.transform(stream, this.event(stream, entry));
      if (out) {
        batch.push(out);
        lastReturned = encodeToken({ ts: entry.ts, kind: 'event' });
      }
      const ends = entry.op === 'dropDatabase' || (stream.coll !== undefined && entry.op === 'drop');
      if (ends) stream.invalidateAt = entry.ts;
    }
    const token = lastReturned ?? encodeToken({ ts: stream.position, kind: 'highWaterMark' });
    return { batch, token };
  }

  /** getMore on a change stream: the next events, waiting up to maxTimeMS for the first one. */
  async more(idValue: Long, ns: string, batchSize: number | undefined, maxTimeMS: number | undefined) {
    const key = idValue.toString();
    const stream = this.open.get(key);
    if (!stream) fail(43, `cursor id ${key} not found`);
    if (stream.ns !== ns) {
      fail(
        13,
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${stream.ns}`,
      );
    }
    if (stream.busy) fail(292, `Cursor id ${key} is already in use`);
    stream.busy = true;
    try {
      const deadline = Date.now() + (maxTimeMS || DEFAULT_AWAIT_MS);
      let result = this.collect(stream, batchSize || Number.MAX_SAFE_INTEGER);
      while (!result.batch.length && !stream.closed && Date.now() < deadline) {
        const reason = await this.waitForEntry(stream, deadline - Date.now());
        if (reason === 'killed') fail(237, `cursor id ${key} was killed while a getMore waited on it`);
        result = this.collect(stream, batchSize || Number.MAX_SAFE_INTEGER);
      }
      const id = stream.closed ? Long.ZERO : idValue;
      if (stream.closed) this.open.delete(key);
      return { cursor: { nextBatch: result.batch, postBatchResumeToken: result.token, id, ns }, ok: 1 };
    } finally {
      stream.busy = false;
      stream.interrupt = undefined;
    }
  }

  private waitForEntry(stream: Stream, ms: number): Promise<'entry' | 'timeout' | 'killed'> {
    return new Promise((resolve) => {
      const cancel = this.log.onAppend(() => finish('entry'));
      const timer = setTimeout(() => finish('timeout'), Math.max(0, ms));
      const finish = (reason: 'entry' | 'timeout' | 'killed') => {
        clearTimeout(timer);
        cancel();
        stream.interrupt = undefined;
        resolve(reason);
      };
      stream.interrupt = (reason) => finish(reason ?? 'timeout');
    });
  }

  /** killCursors: the ids that were change streams; the rest is left to the other cursors. */
  kill(ids: unknown[]): { killed: Long[]; others: unknown[] } {
    const killed: Long[] = [];
    const others: unknown[] = [];
    for (const id of ids) {
      const stream = Long.isLong(id) ? this.open.get(id.toString()) : undefined;
      if (!stream) {
        others.push(id);
        continue;
      }
      this.open.delete(stream.id.toString());
      stream.interrupt?.('killed');
      killed.push(stream.id);
    }
    return { killed, others };
  }

  /** Ends every waiting getMore (engine shutdown). */
  clear(): void {
    for (const stream of this.open.values()) stream.interrupt?.('killed');
    this.open.clear();
  }
}
