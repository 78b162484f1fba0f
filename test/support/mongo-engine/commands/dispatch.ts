/**
 * Command dispatch: finds the handler for a command body and turns every failure into the
 * reply mongod would give. Anything not carried is CommandNotFound, never a guess.
 */
import type { Document } from 'bson';
import type { Cursors } from '../cursors.js';
import { CommandError, fail } from '../errors.js';
import type { Store } from '../store.js';
import { aggregateCommands } from './aggregate.js';
import { findAndModifyCommands } from './find-and-modify.js';
import { handshakeCommands } from './handshake.js';
import { indexCommands } from './indexes.js';
import { namespaceCommands } from './namespaces.js';
import { runOnReplicaSet, type ReplicaServices } from './replica.js';
import { readCommands } from './read.js';
import type { Handler } from './types.js';
import { writeCommands } from './write.js';

const HANDLERS: Record<string, Handler> = {
  ...handshakeCommands,
  ...readCommands,
  ...writeCommands,
  ...findAndModifyCommands,
  ...aggregateCommands,
  ...indexCommands,
  ...namespaceCommands,
};

const STANDALONE_TXN = 'Transaction numbers are only allowed on a replica set member or mongos';

export interface DispatchTarget {
  store: Store;
  cursors: Cursors;
  connectionId: number;
  /** Replica-set mode (commands/replica.ts); absent, the engine is a standalone mongod. */
  replica?: ReplicaServices;
}

function execute(body: Document, target: DispatchTarget): Document {
  const name = Object.keys(body)[0] ?? '';
  const db = body.$db;
  if (typeof db !== 'string' || db === '') fail(40571, 'OP_MSG requests require a $db argument');
  // A standalone mongod has no transactions and no retryable writes: it refuses txnNumber.
  if (!target.replica) {
    if ('txnNumber' in body || 'autocommit' in body || 'startTransaction' in body) fail(20, STANDALONE_TXN);
    if (name === 'commitTransaction' || name === 'abortTransaction') fail(20, STANDALONE_TXN);
  }
  const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
  if (!handler) fail(59, `no such command: '${name}'`);
  return handler({
    name,
    db,
    body,
    store: target.store,
    cursors: target.cursors,
    connectionId: target.connectionId,
    replica: target.replica,
  });
}

/** The reply to one command; in replica-set mode a change stream's getMore answers later. */
export function runCommand(body: Document, target: DispatchTarget & { replica?: undefined }): Document;
export function runCommand(body: Document, target: DispatchTarget): Document | Promise<Document>;
export function runCommand(body: Document, target: DispatchTarget): Document | Promise<Document> {
  const { replica } = target;
  if (replica) return runOnReplicaSet(body, replica, (command) => runStandalone(command, target));
  return runStandalone(body, target);
}

function runStandalone(body: Document, target: DispatchTarget): Document {
  try {
    return execute(body, target);
  } catch (error) {
    if (error instanceof CommandError) return error.toReply();
    const message = error instanceof Error ? error.message : String(error);
    const name = Object.keys(body)[0] ?? '';
    return new CommandError(1, `${name} failed inside the Laurel test engine: ${message}`).toReply();
  }
}
