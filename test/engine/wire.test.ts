/** The wire protocol itself, over a raw socket: OP_QUERY handshake, OP_MSG sections and flags. */
import net from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { BSON, ObjectId, type Document } from 'mongodb';
import { startHarness, type EngineHarness } from './helpers.js';

let harness: EngineHarness;
let port: number;

beforeAll(async () => {
  harness = await startHarness();
  port = Number(new URL(harness.uri).port);
});

afterAll(async () => {
  await harness.close();
});

function header(length: number, requestId: number, opCode: number): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeInt32LE(length, 0);
  buf.writeInt32LE(requestId, 4);
  buf.writeInt32LE(0, 8);
  buf.writeInt32LE(opCode, 12);
  return buf;
}

function opQuery(requestId: number, namespace: string, query: Document): Buffer {
  const body = Buffer.concat([
    Buffer.alloc(4), // flags
    Buffer.from(`${namespace}\0`, 'utf8'),
    Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), // numberToSkip 0, numberToReturn -1
    Buffer.from(BSON.serialize(query)),
  ]);
  return Buffer.concat([header(16 + body.length, requestId, 2004), body]);
}

function opMsg(requestId: number, body: Document, sequences: [string, Document[]][] = [], flags = 0): Buffer {
  const parts: Buffer[] = [];
  const flagBits = Buffer.alloc(4);
  flagBits.writeUInt32LE(flags, 0);
  parts.push(flagBits, Buffer.from([0]), Buffer.from(BSON.serialize(body)));
  for (const [identifier, docs] of sequences) {
    const payload = Buffer.concat([
      Buffer.from(`${identifier}\0`, 'utf8'),
      ...docs.map((d) => Buffer.from(BSON.serialize(d))),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  const rest = Buffer.concat(parts);
  return Buffer.concat([header(16 + rest.length, requestId, 2013), rest]);
}

/** Sends messages on one connection and collects `expected` whole replies (or the close). */
function exchange(messages: Buffer[], expected: number): Promise<{ replies: Buffer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const replies: Buffer[] = [];
    // A guard only: every exchange ends on its replies or the close, so it may be generous (a loaded CI).
    const timer = setTimeout(() => finish(false), 15_000);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed });
    };
    socket.on('error', reject);
    socket.on('close', () => finish(true));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 4 && data.length >= data.readInt32LE(0)) {
        const length = data.readInt32LE(0);
        replies.push(data.subarray(0, length));
        data = data.subarray(length);
      }
      if (replies.length >= expected) finish(false);
    });
    socket.on('connect', () => {
      for (const message of messages) socket.write(message);
    });
  });
}

function parseOpReply(reply: Buffer): {
  responseTo: number;
  opCode: number;
  numberReturned: number;
  doc: Document;
} {
  return {
    responseTo: reply.readInt32LE(8),
    opCode: reply.readInt32LE(12),
    numberReturned: reply.readInt32LE(32),
    doc: BSON.deserialize(reply.subarray(36)),
  };
}

function parseOpMsgReply(reply: Buffer): { responseTo: number; opCode: number; doc: Document } {
  expect(reply.readUInt8(20)).toBe(0);
  return {
    responseTo: reply.readInt32LE(8),
    opCode: reply.readInt32LE(12),
    doc: BSON.deserialize(reply.subarray(21)),
  };
}

test('the legacy OP_QUERY isMaster handshake is answered with OP_REPLY', async () => {
  const { replies } = await exchange(
    [opQuery(7, 'admin.$cmd', { isMaster: 1, helloOk: true, client: { application: { name: 'raw' } } })],
    1,
  );
  const reply = parseOpReply(replies[0]);
  expect(reply.opCode).toBe(1);
  expect(reply.responseTo).toBe(7);
  expect(reply.numberReturned).toBe(1);
  expect(reply.doc).toMatchObject({
    ismaster: true,
    helloOk: true,
    maxWireVersion: 21,
    minWireVersion: 0,
    ok: 1,
  });
  // A wrapped query ({$query: ...}) is a handshake too; any other OP_QUERY command is refused.
  const wrapped = await exchange(
    [opQuery(8, 'admin.$cmd', { $query: { hello: 1 } }), opQuery(9, 'test.$cmd', { find: 'c' })],
    2,
  );
  expect(parseOpReply(wrapped.replies[0]).doc).toMatchObject({ isWritablePrimary: true, ok: 1 });
  expect(parseOpReply(wrapped.replies[1]).doc).toMatchObject({
    ok: 0,
    code: 352,
    codeName: 'UnsupportedOpQueryCommand',
  });
});

test('OP_MSG document sequences, moreToCome and BSON undefined _id', async () => {
  const { replies } = await exchange(
    [
      opMsg(1, { insert: 'seq', $db: 'wire_test' }, [['documents', [{ n: 1 }, { n: 2 }]]]),
      // moreToCome: an unacknowledged write gets no reply at all.
      opMsg(2, { insert: 'seq', $db: 'wire_test', writeConcern: { w: 0 } }, [['documents', [{ n: 3 }]]], 2),
      opMsg(3, { find: 'seq', filter: {}, $db: 'wire_test' }),
    ],
    2,
  );
  const inserted = parseOpMsgReply(replies[0]);
  expect(inserted).toMatchObject({ responseTo: 1, opCode: 2013, doc: { n: 2, ok: 1 } });
  const found = parseOpMsgReply(replies[1]);
  expect(found.responseTo).toBe(3);
  expect(found.doc.cursor.firstBatch.map((d: Document) => d.n)).toEqual([1, 2, 3]);

  // BSON's deprecated undefined type (0x06) cannot be written by the bson package, so the
  // null in a serialised replacement is patched into it: the upsert must get a fresh ObjectId.
  const update = opMsg(4, {
    update: 'ids',
    $db: 'wire_test',
    updates: [{ q: { kid: 'k' }, u: { _id: null, kid: 'k' }, upsert: true }],
  });
  const marker = Buffer.from('\x0a_id\0', 'latin1');
  const at = update.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  update[at] = 0x06;
  const upserted = parseOpMsgReply((await exchange([update], 1)).replies[0]).doc;
  expect(upserted).toMatchObject({ n: 1, nModified: 0, ok: 1 });
  expect(upserted.upserted[0]._id).toBeInstanceOf(ObjectId);
});

test('malformed OP_MSG is answered with an error; unknown flags or opcodes close the connection', async () => {
  const duplicate = opMsg(1, { insert: 'seq', documents: [], $db: 'wire_test' }, [['documents', [{ n: 1 }]]]);
  const answered = await exchange([duplicate], 1);
  expect(parseOpMsgReply(answered.replies[0]).doc).toMatchObject({ ok: 0, code: 40413 });
  // Bit 5 is a "required" flag bit nobody defines.
  expect(await exchange([opMsg(2, { ping: 1, $db: 'admin' }, [], 1 << 5)], 1)).toEqual({
    replies: [],
    closed: true,
  });
  // OP_INSERT (2002) was removed in MongoDB 6.0.
  const legacyInsert = Buffer.concat([header(20, 1, 2002), Buffer.alloc(4)]);
  expect(await exchange([legacyInsert], 1)).toEqual({ replies: [], closed: true });
  // The engine is still up for everyone else.
  const { replies } = await exchange([opMsg(2, { ping: 1, $db: 'admin' })], 1);
  expect(parseOpMsgReply(replies[0]).doc).toEqual({ ok: 1 });
});

test('a command without $db is refused', async () => {
  const { replies } = await exchange([opMsg(1, { ping: 1 })], 1);
  expect(parseOpMsgReply(replies[0]).doc).toMatchObject({ ok: 0, code: 40571 });
});
