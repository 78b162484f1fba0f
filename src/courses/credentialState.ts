import type { CredentialDoc } from '../db/models/credential.js';
import type { Recalculation } from '../db/models/template.js';

export type CredentialState =
  'awarded' | 'issuing' | 'issued' | 'failed' | 'revoked' | 'expired' | 'superseded';

const LABEL: Record<CredentialState, string> = {
  awarded: 'Awarded',
  issuing: 'Issuing',
  issued: 'Issued',
  failed: 'Failed',
  revoked: 'Revoked',
  expired: 'Expired',
  superseded: 'Superseded',
};

const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : null);

/**
 * A credential's state as the instructor sees it: `issuing` while a worker holds its signing lease,
 * `expired` once its date has passed (even before the expiry job marked it), with what explains it
 * (the failure's error, the revocation's reason, the expiry date).
 */
export function credentialStateOf(
  c: Pick<
    CredentialDoc,
    'status' | 'issuingUntil' | 'error' | 'revokedReason' | 'revokedAt' | 'expiresAt' | 'expiredAt'
  > & { supersededAt?: Date | null },
  now: Date,
): { state: CredentialState; label: string; detail: string | null } {
  let state: CredentialState = c.status;
  if (c.status === 'awarded' && c.issuingUntil && c.issuingUntil > now) state = 'issuing';
  if ((c.status === 'awarded' || c.status === 'issued') && c.expiresAt && c.expiresAt <= now)
    state = 'expired';
  const detail =
    state === 'failed'
      ? (c.error ?? 'Issuing gave up without saying why.')
      : state === 'revoked'
        ? `${c.revokedReason ?? 'No reason given.'}${c.revokedAt ? ` (revoked ${day(c.revokedAt)})` : ''}`
        : state === 'expired'
          ? `Expired ${day(c.expiredAt ?? c.expiresAt)}`
          : state === 'awarded'
            ? 'Recorded; waiting to be signed.'
            : state === 'superseded'
              ? `Replaced by a higher level${c.supersededAt ? ` (${day(c.supersededAt)})` : ''}; not revoked.`
              : null;
  return { state, label: LABEL[state], detail };
}

/** A badge's latest recalculation, for the pages: what it does now and how far it got. */
export function recalculationStatus(r: Recalculation | null | undefined) {
  if (!r) return null;
  const percent =
    r.total > 0 ? Math.min(100, Math.round((r.done / r.total) * 100)) : r.state === 'done' ? 100 : 0;
  const text =
    r.state === 'queued'
      ? 'Waiting to recount the results already received.'
      : r.state === 'running'
        ? `Recounting the results already received: ${r.done} of ${r.total} learners.`
        : r.state === 'done'
          ? `Results already received were recounted for ${r.done} learner${r.done === 1 ? '' : 's'}; ${r.awarded} badge${r.awarded === 1 ? '' : 's'} awarded.`
          : `The recount failed: ${r.error ?? 'no reason given'}. Start it again below.`;
  return {
    state: r.state,
    busy: r.state === 'queued' || r.state === 'running',
    failed: r.state === 'failed',
    percent,
    text,
  };
}
