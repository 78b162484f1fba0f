import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Levels, Penalty, Regrade, RequirementGroup } from '../../rules/index.js';

export type TemplateState = 'draft' | 'active' | 'inactive';

export interface Recalculation {
  state: 'queued' | 'running' | 'done' | 'failed';
  requestedAt: Date;
  /** The run that holds it while running, and until when (a run that died is taken over after). */
  claim: string | null;
  leaseUntil: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Learners evaluated so far, of `total` (learners with a stored event of the badge's scope). */
  done: number;
  total: number;
  awarded: number;
  error: string | null;
}
export type TemplateSource = 'local' | 'credly' | 'accredible';

export interface Alignment {
  targetName: string;
  targetUrl?: string | null;
  targetDescription?: string | null;
  targetFramework?: string | null;
  targetCode?: string | null;
}

/**
 * A badge template: what the badge is and what earns it. Requirements live inside it (they are
 * read and changed with it); `eventTypes` denormalises the event types they and the penalties
 * name, so that an event finds its candidate templates through one index.
 */
export interface TemplateDoc {
  _id: Types.ObjectId;
  platformId: Types.ObjectId;
  /** The course as the API named it; null = every course of the platform. */
  courseId: string | null;
  /** The course document it resolved to. */
  courseRef: Types.ObjectId | null;
  source: TemplateSource;
  externalId: string | null;
  /** Credly and Accredible templates: their page at the service, picture and state there (src/providers). */
  externalUrl?: string | null;
  externalImageUrl?: string | null;
  externalState?: string | null;
  name: string;
  description: string;
  criteria: string;
  imageId: string | null;
  tags: string[];
  alignments: Alignment[];
  expiresAfterDays: number | null;
  expiresAt: Date | null;
  allowReEarn: boolean;
  /**
   * Set by the platform's administrator: instructors of the platform's other courses may see this
   * course's template by name and require it. Unshared (the default), only its own course sees it.
   */
  shared: boolean;
  state: TemplateState;
  /**
   * When it was last activated (for display). Events stored before count too: activation queues a
   * recalculation from the stored events (src/progress/recalculation.ts).
   */
  activeSince: Date | null;
  /** The latest recalculation from the stored events: queued, running (with progress) or finished. */
  recalculation: Recalculation | null;
  groups: RequirementGroup[];
  penalties: Penalty[];
  eventTypes: string[];
  /** Templates this one requires (badge requirements), for the reverse look-up on an award. */
  requiresTemplates: string[];
  /** Levels (tiers): each step its own credential; null or absent: one badge, no levels. */
  levels?: Levels | null;
  /** What a regrade that makes a met requirement fail does; null or absent: nothing. */
  regrade?: Regrade | null;
  version: number;
  /**
   * The instructor's create form's own key (absent otherwise): the form sent again after its answer
   * was lost finds the badge it made instead of making a second one.
   */
  createKey?: string;
  createdAt: Date;
  updatedAt: Date;
}

const schema = new Schema<TemplateDoc>(
  {
    platformId: { type: Schema.Types.ObjectId, required: true },
    courseId: { type: String, default: null },
    courseRef: { type: Schema.Types.ObjectId, default: null },
    source: { type: String, enum: ['local', 'credly', 'accredible'], default: 'local' },
    externalId: { type: String, default: null },
    externalUrl: { type: String, default: null },
    externalImageUrl: { type: String, default: null },
    externalState: { type: String, default: null },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    criteria: { type: String, default: '' },
    imageId: { type: String, default: null },
    tags: { type: [String], default: [] },
    alignments: { type: Schema.Types.Mixed, default: () => [] },
    expiresAfterDays: { type: Number, default: null },
    expiresAt: { type: Date, default: null },
    allowReEarn: { type: Boolean, default: false },
    shared: { type: Boolean, default: false },
    state: { type: String, enum: ['draft', 'active', 'inactive'], default: 'draft' },
    activeSince: { type: Date, default: null },
    recalculation: { type: Schema.Types.Mixed, default: null },
    // Mixed: the rule shapes are validated by src/rules before they get here.
    groups: { type: Schema.Types.Mixed, default: () => [] },
    penalties: { type: Schema.Types.Mixed, default: () => [] },
    eventTypes: { type: [String], default: [] },
    requiresTemplates: { type: [String], default: [] },
    levels: { type: Schema.Types.Mixed, default: null },
    regrade: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, default: 1 },
    createKey: { type: String },
  },
  { timestamps: true, collection: 'templates', minimize: false },
);
// The candidate look-up of event processing: platform, state, event type, course.
schema.index({ platformId: 1, state: 1, eventTypes: 1, courseRef: 1 });
schema.index({ platformId: 1, courseId: 1, createdAt: -1 });
// The recalculate-badges job looks for queued (or abandoned) recalculations.
schema.index({ 'recalculation.state': 1 });
// Template sync and webhooks find a service's template by its id there.
schema.index({ platformId: 1, source: 1, externalId: 1 });
// One badge per create form, however often it is sent (sparse: only the form's badges carry a key).
schema.index({ createKey: 1 }, { unique: true, sparse: true });

export type TemplateModel = Model<TemplateDoc>;
export const templateModel = (c: Connection): TemplateModel => c.model<TemplateDoc>('Template', schema);
