import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { BSON, type Document } from 'mongodb';
import { connectUpstream } from './tcp-proxy.js';

/**
 * A TCP proxy in front of the test database that reads the MongoDB wire protocol (OP_MSG) going to
 * the server, so a test can stop a process at a chosen write: `freeze(match)` holds the first command
 * the predicate matches (it never reaches the database, and nothing more is read from that
 * connection), then resolves. The process is then demonstrably mid-way, at a known step, and the test
 * kills it. `freezeEvery(match)` holds every matching command until lifted, so a process stopped at a
 * write gets no later write of that kind through on another connection (a retry, another run).
 * Everything else passes untouched, both ways.
 */
export type WireCommand = {
  /** The command's name (`update`, `insert`, `find` …) and its collection. */
  name: string;
  collection: unknown;
  body: Document;
  /** Document sequences (OP_MSG kind 1), e.g. `updates` or `documents` of a bulk write. */
  sequences: Record<string, Document[]>;
};

export type WireGate = {
  port: number;
  /** The same database URI, reached through the gate (one server, so the driver never looks past it). */
  uri(original: string): string;
  freeze(match: (command: WireCommand) => boolean): Promise<WireCommand>;
  /**
   * Holds every command the predicate matches, each on its own connection, until `lift()` (held ones
   * stay held); `first` resolves at the first.
   */
  freezeEvery(match: (command: WireCommand) => boolean): { first: Promise<WireCommand>; lift(): void };
  /** How many messages passed to the database untouched (a test's diagnostics). */
  readonly passed: number;
  close(): Promise<void>;
};

const OP_MSG = 2013;

/** The command of one OP_MSG message; null for anything else. */
export function readOpMsg(message: Buffer): WireCommand | null {
  if (message.readInt32LE(12) !== OP_MSG) return null;
  const flags = message.readUInt32LE(16);
  const end = message.length - (flags & 1 ? 4 : 0);
  let at = 20;
  let body: Document | null = null;
  const sequences: Record<string, Document[]> = {};
  while (at < end) {
    const kind = message[at]!;
    at += 1;
    const size = message.readInt32LE(at);
    if (kind === 0) {
      body = BSON.deserialize(message.subarray(at, at + size));
      at += size;
      continue;
    }
    const sectionEnd = at + size;
    let p = at + 4;
    const nameEnd = message.indexOf(0, p);
    const identifier = message.toString('utf8', p, nameEnd);
    p = nameEnd + 1;
    const docs: Document[] = [];
    while (p < sectionEnd) {
      const docSize = message.readInt32LE(p);
      docs.push(BSON.deserialize(message.subarray(p, p + docSize)));
      p += docSize;
    }
    sequences[identifier] = docs;
    at = sectionEnd;
  }
  if (!body) return null;
  const name = Object.keys(body)[0] ?? '';
  return { name, collection: body[name], body, sequences };
}

export async function startWireGate(target: { host: string; port: number }): Promise<WireGate> {
  type Rule = { match: (c: WireCommand) => boolean; found: (c: WireCommand) => void; stays: boolean };
  const rules: Rule[] = [];
  const sockets = new Set<net.Socket>();
  let passed = 0;
  const server = net.createServer((client) => {
    const upstream = connectUpstream(client, target, sockets);
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    let frozen = false;
    client.on('data', (chunk: Buffer) => {
      if (frozen) return;
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        const command = rules.length ? readOpMsg(message) : null;
        const rule = command ? rules.findIndex((r) => r.match(command)) : -1;
        if (command && rule >= 0) {
          frozen = true;
          const { found, stays } = rules[rule]!;
          if (!stays) rules.splice(rule, 1);
          found(command);
          return;
        }
        passed++;
        upstream.write(message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    uri(original) {
      const url = new URL(original);
      url.host = `127.0.0.1:${port}`;
      url.searchParams.set('directConnection', 'true');
      return url.toString();
    },
    freeze(match) {
      return new Promise((found) => rules.push({ match, found, stays: false }));
    },
    freezeEvery(match) {
      let rule: Rule | undefined;
      const first = new Promise<WireCommand>((found) => {
        rule = { match, found, stays: true };
        rules.push(rule);
      });
      return {
        first,
        lift() {
          const at = rules.indexOf(rule!);
          if (at >= 0) rules.splice(at, 1);
        },
      };
    },
    get passed() {
      return passed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
