/**
 * An in-memory MongoDB wire-protocol engine for tests: real drivers (mongodb, mongoose,
 * Agenda's backend, ltijs) talk to it over TCP as to a standalone mongod 7.0.
 * Test equipment only: nothing is persisted, and it must never serve production.
 */
import { appendFileSync } from 'node:fs';
import { ChangeStreams } from './change-streams.js';
import { Cursors } from './cursors.js';
import { ReplicaSet } from './replica-set.js';
import { EngineServer, type CommandEvent } from './server.js';
import { Store } from './store.js';
import { startTtlMonitor } from './ttl.js';

export type { CommandEvent } from './server.js';

export interface EngineOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** How often expired TTL documents are removed; mongod's 60 s would make tests slow. */
  ttlIntervalMs?: number;
  /** Called after every command with its body and reply (for logging in tests). */
  onCommand?: (event: CommandEvent) => void;
  /**
   * Answer as the primary of a single-member replica set of this name, with an oplog and change
   * streams (replica-set.ts). Off by default: the engine is then a standalone mongod.
   */
  replicaSet?: string;
}

export interface Engine {
  uri: string;
  port: number;
  /**
   * Resets client connections at once (a network fault): those `which` picks by the connection id
   * that `onCommand` reports, or all. The engine keeps listening.
   */
  dropConnections(which?: (connectionId: number) => boolean): void;
  /** Replica-set mode only: the member steps down for `ms`, then is elected primary again. */
  stepDown(ms: number): void;
  close(): Promise<void>;
}

/**
 * With LAUREL_ENGINE_LOG=<file>, every command is also appended to that file as one line
 * (database, command, outcome), to see what a client really sends.
 */
function withLogFile(onCommand?: (event: CommandEvent) => void): ((event: CommandEvent) => void) | undefined {
  const file = process.env.LAUREL_ENGINE_LOG;
  if (!file) return onCommand;
  return (event) => {
    const outcome =
      event.reply.ok === 1 ? 'ok' : `error ${String(event.reply.code)} ${String(event.reply.errmsg)}`;
    appendFileSync(file, `${event.db}\t${event.name}\t${outcome}\n`);
    onCommand?.(event);
  };
}

export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  const store = new Store();
  const cursors = new Cursors();
  let replica: { set: ReplicaSet; streams: ChangeStreams } | undefined;
  if (options.replicaSet) {
    const set = new ReplicaSet(options.replicaSet);
    store.onChange = (change) => void set.changes.append(change);
    replica = { set, streams: new ChangeStreams(set.changes, store) };
  }
  const server = new EngineServer(store, cursors, withLogFile(options.onCommand), replica);
  const port = await server.listen(options.port ?? 0);
  if (replica) replica.set.host = `127.0.0.1:${port}`;
  const stopTtl = startTtlMonitor(store, options.ttlIntervalMs ?? 1000);
  let closed: Promise<void> | undefined;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    dropConnections: (which) => server.dropConnections(which),
    stepDown: (ms) => {
      if (!replica) throw new Error('stepDown needs an engine started with replicaSet');
      replica.set.stepDown(ms);
    },
    close: () => {
      closed ??= (async () => {
        stopTtl();
        cursors.clear();
        replica?.streams.clear();
        replica?.set.close();
        await server.close();
      })();
      return closed;
    },
  };
}
