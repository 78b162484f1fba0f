/**
 * Resume tokens: `{_data: <hex string>}` as mongod sends them. Drivers treat them as opaque; this
 * engine's `_data` is its own (not mongod's KeyString): the cluster time of the entry and whether
 * the token marks an event, a high-water mark (postBatchResumeToken of a batch that ended
 * between events) or an invalidate. Tokens sort in stream order as hex strings, as mongod's do.
 */
import { Timestamp, type Document } from 'bson';
import { isPlainObject } from './bson.js';
import { fail } from './errors.js';

export type TokenKind = 'highWaterMark' | 'event' | 'invalidate';

const KIND_CODES: Record<TokenKind, string> = { highWaterMark: '00', event: '01', invalidate: '02' };

export interface ResumePoint {
  ts: Timestamp;
  kind: TokenKind;
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

export function encodeToken(point: ResumePoint): Document {
  return { _data: `82${hex8(point.ts.t)}${hex8(point.ts.i)}${KIND_CODES[point.kind]}` };
}

/** Reads a token given as resumeAfter/startAfter; anything else is refused as mongod refuses it. */
export function decodeToken(option: string, token: unknown): ResumePoint {
  if (!isPlainObject(token))
    fail(14, `BSON field '$changeStream.${option}' is the wrong type, expected type 'object'`);
  const data = token._data;
  if (typeof data !== 'string') fail(40648, 'Bad resume token: _data of missing or of wrong type');
  const match = /^82([0-9A-F]{8})([0-9A-F]{8})(0[012])$/.exec(data.toUpperCase());
  if (!match) fail(2, `Bad resume token: not a token of this server: ${data}`);
  const kind = (Object.keys(KIND_CODES) as TokenKind[]).find((k) => KIND_CODES[k] === match[3])!;
  return { ts: new Timestamp({ t: parseInt(match[1], 16), i: parseInt(match[2], 16) }), kind };
}
