import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { AnyBulkWriteOperation } from 'mongodb';
import type { ProgressDoc } from '../db/models/progress.js';
import type { TemplateDoc } from '../db/models/template.js';
import {
  completeOf,
  fractionOf,
  partialShares,
  progressFraction,
  type LevelMeasure,
  type StepResult,
} from '../rules/index.js';

type Fulfilment = ProgressDoc['fulfilments'][number];

/**
 * One learner's progress on one template while a processing run applies events to it in memory.
 * The derived fields (`ratio`, `completedAt`) are computed with the fulfilled set they derive from
 * and written in the same update, guarded by `rev`, so they can never disagree in the database.
 */
export class ProgressState {
  readonly templateId: Types.ObjectId;
  readonly personId: Types.ObjectId;
  private readonly id: Types.ObjectId | null;
  private readonly readRev: number | undefined;
  private readonly platformId: Types.ObjectId;
  private readonly courseRef: Types.ObjectId | null;
  fulfilled: string[];
  fulfilments: Fulfilment[];
  /** A badge with levels: the score on its measure (best and latest). */
  measure: LevelMeasure | null;
  private ratio: number;
  private completedAt: Date | null;
  /** Activities counted per counting requirement (null: the template counts none). */
  counted: Record<string, string[]> | null;
  dirty = false;
  writeToken: string | null = null;

  constructor(
    doc: ProgressDoc | null,
    fresh?: {
      templateId: Types.ObjectId;
      personId: Types.ObjectId;
      platformId: Types.ObjectId;
      courseRef: Types.ObjectId | null;
    },
  ) {
    const base = doc ?? fresh!;
    this.templateId = base.templateId;
    this.personId = base.personId;
    this.platformId = base.platformId;
    this.courseRef = base.courseRef ?? null;
    this.id = doc?._id ?? null;
    this.readRev = doc ? (doc.rev ?? undefined) : undefined;
    this.fulfilled = [...(doc?.fulfilled ?? [])];
    this.fulfilments = [...(doc?.fulfilments ?? [])];
    this.measure = doc?.measure ?? null;
    this.ratio = doc?.ratio ?? 0;
    this.completedAt = doc?.completedAt ?? null;
    this.counted = doc?.counted ?? null;
  }

  /** Takes the state a step computed (src/rules/step.ts): fulfilments, confirmations and the measure. */
  applyStep(template: TemplateDoc, step: StepResult, now: Date) {
    this.fulfilled = [...step.state.fulfilled];
    this.fulfilments = step.state.fulfilments.map((f) => ({ ...f }));
    this.measure = step.state.measure;
    this.derive(template, now);
    this.dirty = true;
  }

  private derive(template: TemplateDoc, now: Date) {
    // Levels count by the measure (step.ts); counted activities by their share of N (history.ts).
    const fraction =
      template.levels || !this.counted
        ? fractionOf(template, this.fulfilled, this.measure)
        : progressFraction(template.groups, this.fulfilled, partialShares(template.groups, this.counted));
    this.ratio = Math.round(fraction * 100) / 100;
    this.completedAt = completeOf(template, this.fulfilled, this.measure) ? (this.completedAt ?? now) : null;
  }

  /** Resets first, then fulfilments (a penalty that undoes a requirement wins over the same event). */
  apply(
    template: TemplateDoc,
    fulfil: string[],
    reset: string[],
    eventId: string | null,
    at: Date,
    now: Date,
  ) {
    if (reset.length) {
      this.fulfilled = this.fulfilled.filter((id) => !reset.includes(id));
      this.fulfilments = this.fulfilments.filter((f) => !reset.includes(f.requirementId));
    }
    for (const requirementId of fulfil) {
      if (reset.includes(requirementId) || this.fulfilled.includes(requirementId)) continue;
      this.fulfilled.push(requirementId);
      this.fulfilments.push({ requirementId, at, eventId });
    }
    this.derive(template, now);
    this.dirty = true;
  }

  /**
   * Replaces the whole state with one computed afresh (a recalculation from the stored events, or a
   * replay of a learner's history for a template with counts, windows or order).
   */
  replace(
    template: TemplateDoc,
    fulfilled: string[],
    fulfilments: Fulfilment[],
    now: Date,
    extra: { measure?: LevelMeasure | null; counted?: Record<string, string[]> | null } = {},
  ) {
    const measure = extra.measure ?? null;
    const counted = extra.counted ?? null;
    const before = {
      fulfilled: this.fulfilled,
      ratio: this.ratio,
      complete: this.completedAt !== null,
      measure: JSON.stringify(this.measure ?? null),
    };
    const countedBefore = JSON.stringify(this.counted ?? null);
    this.fulfilled = [...fulfilled];
    this.fulfilments = fulfilments.map((f) => ({ ...f }));
    this.measure = measure;
    this.counted = counted && Object.keys(counted).length ? counted : null;
    this.derive(template, now);
    const same =
      before.measure === JSON.stringify(measure) &&
      fulfilled.length === before.fulfilled.length &&
      fulfilled.every((id) => before.fulfilled.includes(id)) &&
      this.ratio === before.ratio &&
      (this.completedAt !== null) === before.complete &&
      JSON.stringify(this.counted) === countedBefore;
    // An unchanged state is not written (nor a learner with nothing met and no document yet): a
    // recalculation run twice writes nothing the second time.
    this.dirty = this.dirty || !same;
  }

  complete(template: TemplateDoc): boolean {
    return completeOf(template, this.fulfilled, this.measure);
  }

  matches(templateId: Types.ObjectId, personId: Types.ObjectId): boolean {
    return String(templateId) === String(this.templateId) && String(personId) === String(this.personId);
  }

  /**
   * The write of this state: an insert for a new document, else an update guarded by the `rev` read.
   * `token` tells afterwards whether this write landed: one per bulk write is enough, since a bulk
   * write holds one state per (template, learner).
   */
  writeOp(now = new Date(), token: string = randomUUID()): AnyBulkWriteOperation {
    this.writeToken = token;
    const fields = {
      fulfilled: this.fulfilled,
      fulfilments: this.fulfilments,
      ratio: this.ratio,
      completedAt: this.completedAt,
      measure: this.measure,
      counted: this.counted,
      writeToken: this.writeToken,
      updatedAt: now,
    };
    if (!this.id)
      return {
        insertOne: {
          document: {
            _id: new Types.ObjectId(),
            platformId: this.platformId,
            templateId: this.templateId,
            personId: this.personId,
            courseRef: this.courseRef,
            ...fields,
            rev: 1,
            createdAt: now,
          },
        },
      };
    return {
      updateOne: {
        filter: { _id: this.id, rev: this.readRev === undefined ? { $exists: false } : this.readRev },
        update: { $set: fields, $inc: { rev: 1 } },
      },
    };
  }
}

export const progressState = (
  doc: ProgressDoc | null,
  fresh?: ConstructorParameters<typeof ProgressState>[1],
): ProgressState => new ProgressState(doc, fresh);
