import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

/**
 * True when an error means "the database cannot be reached now" rather than "this request is wrong":
 * the driver's network and server-selection errors (mongoose raises its own MongooseServerSelectionError
 * for the latter) and mongoose's buffering timeout while it reconnects. Such a request may be sent
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
  if (e.name === 'MongooseError' && typeof e.message === 'string' && /buffering timed out/.test(e.message))
    return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}
