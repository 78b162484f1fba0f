import type { PlatformDoc } from '../db/models/platform.js';

/** What of a platform tells where it shows Laurel from. */
export type OriginSource = Pick<PlatformDoc, 'issuer' | 'authLoginUrl'> & { frameOrigins?: string[] | null };

/** The origin of an http(s) URL, or undefined for anything else. */
export function originOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The origins LMSs show Laurel from: their issuers, login endpoints, and those seen at launches. */
export function frameOriginsOf(platforms: OriginSource[]): string[] {
  const origins = new Set<string>();
  for (const p of platforms)
    for (const candidate of [p.issuer, p.authLoginUrl, ...(p.frameOrigins ?? [])]) {
      const origin = originOf(candidate);
      if (origin) origins.add(origin);
    }
  return [...origins].sort();
}
