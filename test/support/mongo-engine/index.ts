/**
 * An in-memory MongoDB wire-protocol engine for tests: real drivers (mongodb, mongoose,
 * Agenda's backend, ltijs) talk to it over TCP as to a standalone mongod 7.0.
 * Test equipment only: nothing is persisted, and it must never serve production.
 */
import { appendFileSync } from 'node:fs';
import { Cursors } from './cursors.js';
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
}

export interface Engine {
  uri: string;
  port: number;
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
  const server = new EngineServer(store, cursors, withLogFile(options.onCommand));
  const port = await server.listen(options.port ?? 0);
  const stopTtl = startTtlMonitor(store, options.ttlIntervalMs ?? 1000);
  let closed: Promise<void> | undefined;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    close: () => {
      closed ??= (async () => {
        stopTtl();
        cursors.clear();
        await server.close();
      })();
      return closed;
    },
  };
}
