import type { BadgeCollectionDoc, CollectionItem } from '../db/models/badgeCollection.js';

/** The pure parts of collections: item references and moves. */

/** An item as a form names it: `c:<credential id>` or `i:<imported badge id>`. */
export const itemKey = (item: Pick<CollectionItem, 'kind' | 'id'>) =>
  `${item.kind === 'credential' ? 'c' : 'i'}:${String(item.id)}`;

export function parseItemKey(value: unknown): { kind: CollectionItem['kind']; id: string } | null {
  if (typeof value !== 'string') return null;
  const m = /^([ci]):([0-9a-f]{24})$/.exec(value);
  if (!m) return null;
  return { kind: m[1] === 'c' ? 'credential' : 'imported', id: m[2]! };
}

/** The items with the one at `index` moved one place up or down (unchanged at either end). */
export function moved<T>(items: readonly T[], index: number, direction: 'up' | 'down'): T[] {
  const to = direction === 'up' ? index - 1 : index + 1;
  if (index < 0 || index >= items.length || to < 0 || to >= items.length) return [...items];
  const copy = [...items];
  [copy[index], copy[to]] = [copy[to]!, copy[index]!];
  return copy;
}

export const MAX_ITEMS = 200;

export type CollectionShare = Pick<BadgeCollectionDoc, 'shareId' | 'withdrawnShareIds'>;
