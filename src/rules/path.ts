/**
 * Reading dotted paths such as `data.percent` or `data.attempts.0.score` from an event.
 * Only own properties are followed, and segments that could reach an object's prototype
 * are refused outright, so a rule can never read (or be used to probe) anything that is
 * not part of the event's own data.
 */

/** Segments that never resolve, whatever the object holds. */
export const FORBIDDEN_SEGMENTS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

export interface PathResult {
  found: boolean;
  value?: unknown;
}

const NOT_FOUND: PathResult = Object.freeze({ found: false });

/** Splits a path into segments, or null when it is empty, has empty segments or a forbidden one. */
export function pathSegments(path: string): string[] | null {
  if (typeof path !== 'string' || path === '') return null;
  const segments = path.split('.');
  for (const segment of segments) {
    if (segment === '' || FORBIDDEN_SEGMENTS.includes(segment)) return null;
  }
  return segments;
}

/**
 * The segments of the paths rules read, split once: a batch reads the same few paths (those of
 * its templates' rules) for every event and template. Bounded, since paths come from templates:
 * past the bound it starts over rather than grow.
 */
const SEGMENTS_KEPT = 1000;
const segmentsOfPath = new Map<string, readonly string[] | null>();
function segmentsOf(path: string): readonly string[] | null {
  let segments = segmentsOfPath.get(path);
  if (segments === undefined) {
    if (segmentsOfPath.size >= SEGMENTS_KEPT) segmentsOfPath.clear();
    segments = pathSegments(path);
    segmentsOfPath.set(path, segments);
  }
  return segments;
}

/**
 * The value at `path` inside `obj`. `found` is false when any segment is missing, when a
 * step lands on something that is not an object, or when the path itself is not allowed.
 * A property holding `undefined` counts as missing (JSON cannot carry it); `null` is found.
 * On arrays only numeric segments (indices) resolve, so `items.length` is not a path.
 */
export function readPath(obj: unknown, path: string): PathResult {
  const segments = typeof path === 'string' ? segmentsOf(path) : null;
  if (segments === null) return NOT_FOUND;
  let current: unknown = obj;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return NOT_FOUND;
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(segment)) return NOT_FOUND;
      const index = Number(segment);
      if (index >= current.length) return NOT_FOUND;
      current = current[index];
    } else {
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return NOT_FOUND;
      current = (current as Record<string, unknown>)[segment];
    }
    if (current === undefined) return NOT_FOUND;
  }
  return { found: true, value: current };
}
