import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

/**
 * Server answers that mean "no primary here now" (the SDAM spec's "not writable primary" and "node is
 * recovering" codes): a failover or stepdown under way, over once a primary is elected.
 */
const STATE_CHANGE_CODES = new Set([10107, 13435, 10058, 11600, 11602, 13436, 189, 91]);
/** A pooled connection the server or the network broke: the driver can throw Node's own socket error. */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']);

/**
 * True when an error means "the database cannot be reached now" rather than "this request is wrong":
 * the driver's network and server-selection errors and broken sockets (mongoose raises its own MongooseServerSelectionError
 * for the latter), a replica set without a primary for a moment, and mongoose's buffering timeout while
 * it reconnects. Such a request may be sent
 * again unchanged once the database is back, so it is answered 503 with Retry-After, never 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError
  )
    return true;
  const e = err as { name?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'MongooseServerSelectionError' || e.name === 'MongoPoolClearedError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number' && STATE_CHANGE_CODES.has(code)) return true;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  if (e.name === 'MongooseError' && typeof e.message === 'string' && /buffering timed out/.test(e.message))
    return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}
