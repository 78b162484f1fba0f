/**
 * What a replica-set member adds around every command (replica-set mode only): awaitable hello,
 * retryable writes
 * (txnNumber) answered once, writes and primary reads refused while stepped down, change-stream
 * getMore and killCursors, error labels drivers act on, and $clusterTime/operationTime gossip.
 */
import { Long, type Document } from 'bson';
import { fail, CommandError } from '../errors.js';
import type { ChangeStreams } from '../change-streams.js';
import type { ReplicaSet } from '../replica-set.js';
import { nonNegative } from '../validate.js';
import { checkGetMore } from './read.js';

export interface ReplicaServices {
  set: ReplicaSet;
  streams: ChangeStreams;
}

/** Commands that change data: refused with NotWritablePrimary while stepped down. */
const WRITES = new Set([
  'insert',
  'update',
  'delete',
  'findAndModify',
  'create',
  'drop',
  'dropDatabase',
  'createIndexes',
  'dropIndexes',
  'collMod',
  'renameCollection',
]);
/** Reads refused on a secondary unless the read preference allows one. */
const READS = new Set(['find', 'aggregate', 'count', 'distinct', 'listCollections', 'listIndexes']);
/** The only commands a retryable write's txnNumber may come with outside a transaction. */
const RETRYABLE = new Set(['insert', 'update', 'delete', 'findAndModify']);
/** Codes mongod labels RetryableWriteError on a retryable write (and the driver retries once). */
const RETRYABLE_WRITE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
/** Codes mongod labels ResumableChangeStreamError on a change stream's aggregate or getMore. */
const RESUMABLE_STREAM_CODES = new Set([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13388, 13435, 13436, 63, 150, 234, 133, 43,
]);

function isChangeStream(name: string, body: Document, streams: ChangeStreams): boolean {
  if (name === 'getMore') return streams.owns(body.getMore);
  const first = Array.isArray(body.pipeline) ? (body.pipeline[0] as Document | undefined) : undefined;
  return name === 'aggregate' && first !== undefined && '$changeStream' in first;
}

/** hello with topologyVersion and maxAwaitTimeMS, as drivers' streaming monitors send it. */
export function isAwaitableHello(name: string, body: Document): boolean {
  return (
    (name === 'hello' || name === 'isMaster' || name === 'ismaster') &&
    typeof body.topologyVersion === 'object' &&
    body.topologyVersion !== null &&
    body.maxAwaitTimeMS !== undefined &&
    body.maxAwaitTimeMS !== null
  );
}

function readsPrimaryOnly(body: Document): boolean {
  const pref = body.$readPreference as { mode?: unknown } | undefined;
  return !pref || pref.mode === undefined || pref.mode === 'primary';
}

/** Checks made before the command runs; a failure is answered like any other command error. */
function admit(name: string, body: Document, replica: ReplicaServices): void {
  if (
    'autocommit' in body ||
    'startTransaction' in body ||
    name === 'commitTransaction' ||
    name === 'abortTransaction'
  )
    fail(115, 'multi-document transactions are not supported by the Laurel test engine (test equipment)');
  if ('txnNumber' in body && !RETRYABLE.has(name)) {
    fail(
      50768,
      `txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and ${name} is not a retryable write command.`,
    );
  }
  if (!replica.set.isPrimary) {
    if (WRITES.has(name)) fail(10107, 'not primary');
    if (READS.has(name) && readsPrimaryOnly(body)) fail(13435, 'not primary and secondaryOk=false');
  }
}

function labelled(reply: Document, name: string, body: Document, stream: boolean): Document {
  if (reply.ok === 1) return reply;
  const code = Number(reply.code);
  const labels: string[] = [];
  if ('txnNumber' in body && RETRYABLE_WRITE_CODES.has(code)) labels.push('RetryableWriteError');
  if (stream && RESUMABLE_STREAM_CODES.has(code)) labels.push('ResumableChangeStreamError');
  // mongod's NonResumableChangeStreamError category: ChangeStreamFatalError, ChangeStreamHistoryLost.
  if (stream && (code === 280 || code === 286)) labels.push('NonResumableChangeStreamError');
  return labels.length ? { ...reply, errorLabels: labels } : reply;
}

function errorReply(error: unknown, name: string): Document {
  if (error instanceof CommandError) return error.toReply();
  const message = error instanceof Error ? error.message : String(error);
  return new CommandError(1, `${name} failed inside the Laurel test engine: ${message}`).toReply();
}

/** getMore on a change-stream cursor: answered when events come or maxTimeMS runs out. */
async function streamGetMore(body: Document, streams: ChangeStreams): Promise<Document> {
  checkGetMore(body);
  const batchSize = nonNegative('batchSize', body.batchSize);
  const maxTimeMS = nonNegative('maxTimeMS', body.maxTimeMS);
  return streams.more(
    body.getMore as Long,
    `${String(body.$db)}.${String(body.collection)}`,
    batchSize,
    maxTimeMS,
  );
}

/**
 * Runs one command as a replica-set member. `run` is the standalone dispatcher; what it answers
 * gets the replica set's additions. Only a change stream's getMore answers later (a promise).
 */
export function runOnReplicaSet(
  body: Document,
  replica: ReplicaServices,
  run: (body: Document) => Document,
): Document | Promise<Document> {
  const name = Object.keys(body)[0] ?? '';
  const stream = isChangeStream(name, body, replica.streams);
  const finish = (reply: Document) => ({ ...labelled(reply, name, body, stream), ...replica.set.gossip() });
  try {
    admit(name, body, replica);
    const earlier = 'txnNumber' in body ? replica.set.answered(body) : undefined;
    if (earlier) return finish(earlier);
    // An awaitable hello (a driver's streaming monitor) answers when the role changes or at maxAwaitTimeMS.
    if (isAwaitableHello(name, body)) {
      const wait = Math.max(0, Number(body.maxAwaitTimeMS));
      return replica.set
        .awaitTopologyChange(body.topologyVersion as Document, wait)
        .then(() => finish(run(body)));
    }
    if (name === 'getMore' && stream) {
      return streamGetMore(body, replica.streams).then(finish, (error: unknown) =>
        finish(errorReply(error, name)),
      );
    }
    if (name === 'killCursors' && Array.isArray(body.cursors)) {
      const { killed, others } = replica.streams.kill(body.cursors as unknown[]);
      const reply = run({ ...body, cursors: others });
      if (reply.ok === 1) reply.cursorsKilled = [...killed, ...(reply.cursorsKilled as Long[])];
      return finish(reply);
    }
    const reply = run(body);
    if ('txnNumber' in body) replica.set.remember(body, reply);
    return finish(reply);
  } catch (error) {
    return finish(errorReply(error, name));
  }
}
