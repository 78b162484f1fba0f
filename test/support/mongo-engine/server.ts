/**
 * The TCP side: one connection per socket, messages answered in order. OP_MSG carries every
 * command; OP_QUERY is answered only for the legacy handshake, as mongod 6+ does.
 */
import net from 'node:net';
import type { Document } from 'bson';
import { cloneDoc } from './bson.js';
import { runCommand } from './commands/dispatch.js';
import { engineStats } from './planner.js';
import type { Cursors } from './cursors.js';
import { CommandError } from './errors.js';
import type { Store } from './store.js';
import {
  MessageBuffer,
  WireError,
  buildOpMsg,
  buildOpReply,
  parseMessage,
  OP_MSG,
  type Message,
} from './wire.js';

export interface CommandEvent {
  connectionId: number;
  db: string;
  name: string;
  body: Document;
  reply: Document;
  opCode: number;
}

const HANDSHAKE = new Set(['hello', 'isMaster', 'ismaster']);

export class EngineServer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private connections = 0;

  constructor(
    private readonly store: Store,
    private readonly cursors: Cursors,
    private readonly onCommand?: (event: CommandEvent) => void,
  ) {}

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private accept(socket: net.Socket): void {
    const connectionId = ++this.connections;
    const buffer = new MessageBuffer();
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    // A client that vanishes mid-write is not the engine's problem.
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = buffer.push(chunk);
      } catch {
        // A stream with a bad length prefix cannot be resynchronised: mongod closes it too.
        socket.destroy();
        return;
      }
      for (const raw of messages) {
        try {
          this.answer(socket, connectionId, parseMessage(raw));
        } catch (error) {
          if ((error instanceof WireError && error.fatal) || socket.destroyed) {
            socket.destroy();
            return;
          }
          // Unreadable requests, and replies that cannot be written (e.g. over 16 MiB),
          // are answered with an error instead of taking the test process down.
          const failure =
            error instanceof WireError
              ? new CommandError(error.code, error.message)
              : new CommandError(1, `the Laurel test engine could not answer: ${String(error)}`);
          socket.write(buildOpMsg(raw.readInt32LE(4), failure.toReply()));
        }
      }
    });
  }

  private run(connectionId: number, body: Document, opCode: number): Document {
    const start = performance.now();
    const reply = runCommand(body, { store: this.store, cursors: this.cursors, connectionId });
    engineStats.commandMicros += (performance.now() - start) * 1000;
    engineStats.commands++;
    if (this.onCommand) {
      // Copies: replies hold stored documents, which nothing outside the store may touch.
      const event = { body: cloneDoc(body), reply: cloneDoc(reply) };
      this.onCommand({
        connectionId,
        db: String(body.$db),
        name: Object.keys(body)[0] ?? '',
        opCode,
        ...event,
      });
    }
    return reply;
  }

  private answer(socket: net.Socket, connectionId: number, message: Message): void {
    switch (message.kind) {
      case 'msg': {
        const reply = this.run(connectionId, message.body, OP_MSG);
        // moreToCome from the client means "do not answer" (unacknowledged writes).
        if (!message.moreToCome) socket.write(buildOpMsg(message.header.requestId, reply));
        return;
      }
      case 'query': {
        socket.write(
          buildOpReply(
            message.header.requestId,
            this.legacyQuery(connectionId, message.namespace, message.query),
          ),
        );
        return;
      }
      case 'compressed': {
        const error = new CommandError(
          17,
          'OP_COMPRESSED is not supported: the Laurel test engine offers no compressors',
        );
        if (message.originalOpCode === OP_MSG)
          socket.write(buildOpMsg(message.header.requestId, error.toReply()));
        else socket.destroy();
        return;
      }
      default:
        // Legacy opcodes (OP_INSERT, OP_GET_MORE, ...) were removed in MongoDB 6.0; mongod drops the connection.
        socket.destroy();
    }
  }

  private legacyQuery(connectionId: number, namespace: string, query: Document): Document {
    const [db, collection] = [
      namespace.slice(0, namespace.indexOf('.')),
      namespace.slice(namespace.indexOf('.') + 1),
    ];
    // Drivers may wrap the command as {$query: {...}, $readPreference: ...}.
    const command = (query.$query as Document | undefined) ?? query;
    const name = Object.keys(command)[0] ?? '';
    if (collection !== '$cmd' || !HANDSHAKE.has(name)) {
      return new CommandError(
        352,
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
      ).toReply();
    }
    return this.run(connectionId, { ...command, $db: db }, 2004);
  }
}
