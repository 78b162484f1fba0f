/**
 * Errors answered the way mongod answers them: a numeric code, its codeName and a message,
 * plus any extra fields (keyPattern/keyValue for duplicate keys).
 */
import type { Document } from 'bson';

/** The codeNames of the codes this engine answers with (from mongod's error_codes.yml). */
const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  9: 'FailedToParse',
  13: 'Unauthorized',
  14: 'TypeMismatch',
  17: 'ProtocolError',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  52: 'DollarPrefixedFieldName',
  53: 'InvalidIdField',
  54: 'NotSingleValueField',
  56: 'EmptyFieldName',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  115: 'CommandNotSupported',
  171: 'CannotIndexParallelArrays',
  197: 'InvalidIndexSpecificationOption',
  223: 'IllegalOpMsgFlag',
  352: 'UnsupportedOpQueryCommand',
  10334: 'BSONObjectTooLarge',
  11000: 'DuplicateKey',
  40413: 'IDLDuplicateField',
  40414: 'IDLFailedToParse',
  40415: 'IDLUnknownField',
};

function codeName(code: number): string {
  // mongod names codes it has no symbolic name for "Location<code>".
  return CODE_NAMES[code] ?? `Location${code}`;
}

export class CommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Fields added to the error reply beside ok/errmsg/code/codeName. */
  readonly extra: Document;

  constructor(code: number, message: string, extra: Document = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.codeName = codeName(code);
    this.extra = extra;
  }

  /** The whole command reply for a failed command. */
  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** One entry of a write command's writeErrors array. */
  toWriteError(index: number): Document {
    return { index, code: this.code, ...this.extra, errmsg: this.message };
  }
}

export function fail(code: number, message: string, extra?: Document): never {
  throw new CommandError(code, message, extra);
}
