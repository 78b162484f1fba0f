/**
 * MongoDB wire-protocol framing: splitting a TCP stream into messages, reading
 * OP_MSG / OP_QUERY / OP_COMPRESSED, and writing OP_MSG and OP_REPLY answers.
 * https://github.com/mongodb/specifications (message/OP_MSG.md) describes the layout.
 */
import type { Document } from 'bson';
import { decode, encode } from './bson.js';

const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

/** The largest message this engine accepts; the same figure it reports in hello. */
export const MAX_MESSAGE_SIZE = 48_000_000;

const FLAG_CHECKSUM_PRESENT = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;
const FLAG_EXHAUST_ALLOWED = 1 << 16;
/**
 * Bits 0-15 are "required": a receiver must refuse bits it does not know. exhaustAllowed
 * (bit 16) is optional: only a replica-set member's awaitable hello answers it with a stream of replies.
 */
const KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME;

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export type Message =
  | { kind: 'msg'; header: Header; body: Document; moreToCome: boolean; exhaustAllowed: boolean }
  | { kind: 'query'; header: Header; namespace: string; query: Document }
  | { kind: 'compressed'; header: Header; originalOpCode: number }
  | { kind: 'unknown'; header: Header };

/**
 * A message that cannot be taken as a request. `fatal` ones (bad framing, unknown required
 * flags) close the connection, as mongod does; the others are answered with an error reply.
 */
export class WireError extends Error {
  constructor(
    message: string,
    readonly code = 17,
    readonly fatal = false,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

/** Collects socket chunks and hands out whole messages. */
export class MessageBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    while (this.size >= 4) {
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [all];
      const length = all.readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE_SIZE) {
        throw new WireError(`message length ${length} is outside 16..${MAX_MESSAGE_SIZE}`, 17, true);
      }
      if (all.length < length) break;
      out.push(all.subarray(0, length));
      const rest = all.subarray(length);
      this.chunks = rest.length ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }
}

function readHeader(buf: Buffer): Header {
  return {
    length: buf.readInt32LE(0),
    requestId: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new WireError('unterminated C string in message');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDocument(buf: Buffer, offset: number, limit: number): [Document, number] {
  if (offset + 4 > limit) throw new WireError('truncated BSON document in message');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > limit)
    throw new WireError(`BSON document of ${size} bytes overruns the message`);
  try {
    return [decode(buf.subarray(offset, offset + size)), offset + size];
  } catch (error) {
    throw new WireError(
      `invalid BSON in message: ${error instanceof Error ? error.message : String(error)}`,
      22,
    );
  }
}

function parseOpMsg(header: Header, buf: Buffer): Message {
  const flags = buf.readUInt32LE(16);
  const unknownRequired = flags & 0xffff & ~KNOWN_REQUIRED_FLAGS;
  if (unknownRequired)
    throw new WireError(`Unrecognized required flags in OP_MSG: ${unknownRequired}`, 223, true);
  const end = flags & FLAG_CHECKSUM_PRESENT ? buf.length - 4 : buf.length;
  let offset = 20;
  let body: Document | undefined;
  const sequences: [string, Document[]][] = [];
  while (offset < end) {
    const kind = buf.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body) throw new WireError('Multiple body sections in OP_MSG', 40430);
      [body, offset] = readDocument(buf, offset, end);
    } else if (kind === 1) {
      const size = buf.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (sectionEnd > end) throw new WireError('document sequence overruns the OP_MSG');
      const [identifier, afterName] = readCString(buf, offset + 4);
      let cursor = afterName;
      const docs: Document[] = [];
      while (cursor < sectionEnd) {
        let doc: Document;
        [doc, cursor] = readDocument(buf, cursor, sectionEnd);
        docs.push(doc);
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new WireError(`Unknown section kind ${kind} in OP_MSG`, 40432);
    }
  }
  if (!body) throw new WireError('OP_MSG has no body section', 40587);
  for (const [identifier, docs] of sequences) {
    // A field may come from the body or from a sequence, never both (OP_MSG spec).
    if (identifier in body) throw new WireError(`Duplicate field name in OP_MSG: ${identifier}`, 40413);
    body[identifier] = docs;
  }
  return {
    kind: 'msg',
    header,
    body,
    moreToCome: (flags & FLAG_MORE_TO_COME) !== 0,
    exhaustAllowed: (flags & FLAG_EXHAUST_ALLOWED) !== 0,
  };
}

function parseOpQuery(header: Header, buf: Buffer): Message {
  const [namespace, afterName] = readCString(buf, 20);
  // numberToSkip and numberToReturn (8 bytes) mean nothing for commands.
  const [query] = readDocument(buf, afterName + 8, buf.length);
  return { kind: 'query', header, namespace, query };
}

export function parseMessage(buf: Buffer): Message {
  const header = readHeader(buf);
  switch (header.opCode) {
    case OP_MSG:
      return parseOpMsg(header, buf);
    case OP_QUERY:
      return parseOpQuery(header, buf);
    case OP_COMPRESSED:
      return { kind: 'compressed', header, originalOpCode: buf.readInt32LE(16) };
    default:
      return { kind: 'unknown', header };
  }
}

let nextRequestId = 1;

function frame(opCode: number, responseTo: number, payload: Buffer[]): Buffer {
  const length = 16 + payload.reduce((n, b) => n + b.length, 0);
  const header = Buffer.alloc(16);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, ...payload], length);
}

/** An OP_MSG reply; `moreToCome` says another reply to the same request follows (exhaust). */
export function buildOpMsg(responseTo: number, body: Document, moreToCome = false): Buffer {
  const flags = Buffer.alloc(5); // flagBits, then section kind 0
  if (moreToCome) flags.writeUInt32LE(FLAG_MORE_TO_COME, 0);
  return frame(OP_MSG, responseTo, [flags, Buffer.from(encode(body))]);
}

export function buildOpReply(responseTo: number, doc: Document): Buffer {
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(0, 0); // responseFlags
  fields.writeBigInt64LE(0n, 4); // cursorID
  fields.writeInt32LE(0, 12); // startingFrom
  fields.writeInt32LE(1, 16); // numberReturned
  return frame(OP_REPLY, responseTo, [fields, Buffer.from(encode(doc))]);
}
