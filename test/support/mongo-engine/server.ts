/**
 * The TCP side: one connection per socket, messages answered in order. OP_MSG carries every
 * command; OP_QUERY is answered only for the legacy handshake, as mongod 6+ does.
 */
import net from 'node:net';
import type { Document } from 'bson';
import { cloneDoc } from './bson.js';
import { runCommand } from './commands/dispatch.js';
import { isAwaitableHello, type ReplicaServices } from './commands/replica.js';
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
  private readonly sockets = new Map<net.Socket, number>();
  private connections = 0;

  constructor(
    private readonly store: Store,
    private readonly cursors: Cursors,
    private readonly onCommand?: (event: CommandEvent) => void,
    private readonly replica?: ReplicaServices,
  ) {}

  /**
   * Resets client connections (TCP RST: a network fault, as drivers see one): those `which` picks
   * by connection id, or all. The server keeps listening.
   */
  dropConnections(which?: (connectionId: number) => boolean): void {
    for (const [socket, id] of this.sockets) if (!which || which(id)) socket.resetAndDestroy();
  }

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
    for (const socket of this.sockets.keys()) socket.destroy();
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private accept(socket: net.Socket): void {
    const connectionId = ++this.connections;
    const buffer = new MessageBuffer();
    this.sockets.set(socket, connectionId);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    // A client that vanishes mid-write is not the engine's problem.
    socket.on('error', () => socket.destroy());
    // Requests are answered in order; one answered later (a change stream's getMore) holds the rest.
    const waiting: Buffer[] = [];
    let held = false;
    const next = () => {
      while (waiting.length && !held && !socket.destroyed) {
        const raw = waiting.shift()!;
        const later = this.answerOne(socket, connectionId, raw);
        if (later) {
          held = true;
          void later.then(() => {
            held = false;
            next();
          });
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        waiting.push(...buffer.push(chunk));
      } catch {
        // A stream with a bad length prefix cannot be resynchronised: mongod closes it too.
        socket.destroy();
        return;
      }
      next();
    });
  }

  /** Answers one request; a promise when the answer comes later. */
  private answerOne(socket: net.Socket, connectionId: number, raw: Buffer): Promise<void> | undefined {
    const failed = (error: unknown) => {
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
    };
    try {
      return this.answer(socket, connectionId, parseMessage(raw))?.catch(failed);
    } catch (error) {
      failed(error);
      return undefined;
    }
  }

  private run(connectionId: number, body: Document, opCode: number): Document | Promise<Document> {
    const start = performance.now();
    const target = { store: this.store, cursors: this.cursors, connectionId, replica: this.replica };
    const reply = runCommand(body, target);
    engineStats.commandMicros += (performance.now() - start) * 1000;
    engineStats.commands++;
    if (reply instanceof Promise) return reply.then((later) => this.told(connectionId, body, later, opCode));
    return this.told(connectionId, body, reply, opCode);
  }

  private told(connectionId: number, body: Document, reply: Document, opCode: number): Document {
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

  private answer(socket: net.Socket, connectionId: number, message: Message): Promise<void> | undefined {
    switch (message.kind) {
      case 'msg': {
        if (
          this.replica &&
          message.exhaustAllowed &&
          isAwaitableHello(Object.keys(message.body)[0] ?? '', message.body)
        )
          return this.streamHello(socket, connectionId, message.header.requestId, message.body);
        const reply = this.run(connectionId, message.body, OP_MSG);
        // moreToCome from the client means "do not answer" (unacknowledged writes).
        const send = (answer: Document) => {
          if (!message.moreToCome && !socket.destroyed)
            socket.write(buildOpMsg(message.header.requestId, answer));
        };
        if (reply instanceof Promise) return reply.then(send);
        send(reply);
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

  /**
   * A streaming monitor's hello (exhaustAllowed): one reply after another on this connection, each
   * marked moreToCome and answering the previous one, each sent when the role changes or
   * maxAwaitTimeMS has passed, until the connection closes (mongod's exhaust hello).
   */
  private async streamHello(socket: net.Socket, connectionId: number, requestId: number, first: Document) {
    let responseTo = requestId;
    let body = first;
    while (!socket.destroyed) {
      const reply = await this.run(connectionId, body, OP_MSG);
      if (socket.destroyed) return;
      const more = reply.ok === 1;
      const message = buildOpMsg(responseTo, reply, more);
      socket.write(message);
      if (!more) return;
      // The next reply answers this one, and waits on the topology version it carried.
      responseTo = message.readInt32LE(4);
      body = { ...body, topologyVersion: reply.topologyVersion as Document };
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
    // Only the handshake comes this way, and it is answered at once.
    return this.run(connectionId, { ...command, $db: db }, 2004) as Document;
  }
}
