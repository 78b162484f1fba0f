import type { Types } from 'mongoose';
import type { Models } from '../db/models/index.js';
import type { Actor } from '../db/models/auditEntry.js';

export type { Actor };

export const SYSTEM: Actor = { type: 'system', id: null };

/** Appends one entry to the audit log: who did what to which thing, when, and why. */
export async function recordAudit(
  models: Models,
  entry: {
    actor: Actor;
    action: string;
    platformId?: Types.ObjectId | null;
    courseRef?: Types.ObjectId | null;
    target: { type: string; id: string };
    reason?: string | null;
    details?: Record<string, unknown>;
    at?: Date;
  },
): Promise<void> {
  await models.audit.create({
    at: entry.at ?? new Date(),
    actor: entry.actor,
    action: entry.action,
    platformId: entry.platformId ?? null,
    courseRef: entry.courseRef ?? null,
    target: entry.target,
    reason: entry.reason ?? null,
    details: entry.details ?? {},
  });
}
