import { JOBS, type JobName } from './names.js';

/**
 * Which stored changes mean new work for a worker, and which in-process loop each one wakes
 * (src/jobs/watchForWork.ts opens the change streams). Pure: the same rules in tests and in use.
 *
 * Each watch narrows on the server ($match), so a worker is not sent every processed mark or
 * issued credential, and keeps only the fields its rule reads ($project), never whole documents.
 */
export type WorkWatch = {
  /** The model whose collection is watched. */
  model: 'events' | 'credentials' | 'templates';
  pipeline: Record<string, unknown>[];
  /** Every loop this watch may wake (all are woken once when it opens). */
  loops: JobName[];
  /** The loops a change (as projected) wakes; none when it is not work. */
  wakes(change: WatchedChange): JobName[];
};

/** A change event as the pipelines below leave it. */
export type WatchedChange = {
  operationType?: string;
  fullDocument?: Record<string, unknown> | null;
  updateDescription?: { updatedFields?: Record<string, unknown> };
};

const OUTBOX_JOBS: Record<string, JobName> = {
  issue: JOBS.issueCredentials,
  'provider-issue': JOBS.providerOutbox,
  'provider-revoke': JOBS.providerOutbox,
};

/** The value a change gave a top-level field: stored by an insert, or set by an update. */
function valueSet(change: WatchedChange, field: string): unknown {
  if (change.operationType === 'insert') return change.fullDocument?.[field];
  if (change.operationType === 'update') return change.updateDescription?.updatedFields?.[field];
  return undefined;
}

export const WORK_WATCHES: WorkWatch[] = [
  {
    // Learning events stored by any process, or put back to pending (a retried failure).
    model: 'events',
    loops: [JOBS.processEvents],
    pipeline: [
      {
        $match: {
          $or: [
            { operationType: 'insert' },
            { operationType: 'update', 'updateDescription.updatedFields.status': 'pending' },
          ],
        },
      },
      { $project: { operationType: 1, 'updateDescription.updatedFields.status': 1 } },
    ],
    wakes: (change) =>
      change.operationType === 'insert' || valueSet(change, 'status') === 'pending'
        ? [JOBS.processEvents]
        : [],
  },
  {
    // Credentials put into the outbox: local signing, or a call to Credly/Accredible.
    model: 'credentials',
    loops: [JOBS.issueCredentials, JOBS.providerOutbox],
    pipeline: [
      {
        $match: {
          $or: [
            { operationType: 'insert', 'fullDocument.outbox': { $in: Object.keys(OUTBOX_JOBS) } },
            {
              operationType: 'update',
              'updateDescription.updatedFields.outbox': { $in: Object.keys(OUTBOX_JOBS) },
            },
          ],
        },
      },
      {
        $project: { operationType: 1, 'fullDocument.outbox': 1, 'updateDescription.updatedFields.outbox': 1 },
      },
    ],
    wakes: (change) => {
      const job = OUTBOX_JOBS[String(valueSet(change, 'outbox'))];
      return job ? [job] : [];
    },
  },
  {
    // A recalculation queued on a template (activation, changed rules). mongod reports a whole
    // `recalculation` set by requestRecalculation; a diff of the documents reports its fields.
    model: 'templates',
    loops: [JOBS.recalculateBadges],
    pipeline: [
      { $match: { operationType: 'update' } },
      { $project: { operationType: 1, 'updateDescription.updatedFields': 1 } },
    ],
    wakes: (change) => {
      const fields = change.updateDescription?.updatedFields ?? {};
      const whole = fields.recalculation as { state?: unknown } | null | undefined;
      const queued = whole?.state === 'queued' || fields['recalculation.state'] === 'queued';
      return queued ? [JOBS.recalculateBadges] : [];
    },
  },
];
