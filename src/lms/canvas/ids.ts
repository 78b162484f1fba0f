/**
 * Canvas ids. Live Events name most things by their *global* id: shard × 10^13 + the local id (e.g.
 * `21070000000000565` is course 565 of shard 2107). Those exceed 2^53, so they stay strings and are
 * computed with BigInt. A launch's `$Canvas.user.id` and `$Canvas.course.id` (what Laurel stores at
 * launch, and what events must match) are the local ids for records on the root account's own shard,
 * and the global id for a record of another shard (a user from a trusted account): `localCanvasId`
 * gives exactly that form.
 */

export const CANVAS_SHARD_FACTOR = 10n ** 13n;

const DIGITS = /^\d{1,30}$/;

/** A Canvas id as the string it is, from a string or a (safe) number; null for anything else. */
export function canvasIdText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text === '' ? null : text;
}

/** The shard of a global id (0 for a local one), or null when the id is not numeric. */
export function canvasShardOf(id: string): bigint | null {
  if (!DIGITS.test(id)) return null;
  return BigInt(id) / CANVAS_SHARD_FACTOR;
}

/**
 * The id in the form a launch on this root account's shard names it: the local id when the global id
 * lies on the root account's shard (or when that shard is unknown), else the global id unchanged.
 * Non-numeric ids (SIS ids, UUIDs) and ids that are already local come back as they are.
 */
export function localCanvasId(value: unknown, rootAccountId?: unknown): string | null {
  const id = canvasIdText(value);
  if (id === null || !DIGITS.test(id)) return id;
  const big = BigInt(id);
  if (big < CANVAS_SHARD_FACTOR) return big.toString();
  const root = canvasIdText(rootAccountId);
  const rootShard = root ? canvasShardOf(root) : null;
  const shard = big / CANVAS_SHARD_FACTOR;
  if (rootShard !== null && rootShard > 0n && rootShard !== shard) return id;
  return (big % CANVAS_SHARD_FACTOR).toString();
}

/** The global form of an id: unchanged when it already is global, else on the root account's shard. */
export function globalCanvasId(value: unknown, rootAccountId?: unknown): string | null {
  const id = canvasIdText(value);
  if (id === null || !DIGITS.test(id)) return id;
  const big = BigInt(id);
  if (big >= CANVAS_SHARD_FACTOR) return big.toString();
  const root = canvasIdText(rootAccountId);
  const rootShard = root ? canvasShardOf(root) : null;
  if (!rootShard) return big.toString();
  return (rootShard * CANVAS_SHARD_FACTOR + big).toString();
}
