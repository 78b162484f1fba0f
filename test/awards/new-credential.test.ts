import mongoose, { Types } from 'mongoose';
import type { Context } from '../../src/context.js';
import { SYSTEM } from '../../src/audit/record.js';
import { awardFieldsOf, newCredentialDoc, type AwardRequest } from '../../src/awards/award.js';
import { createModels } from '../../src/db/models/index.js';
import type { TemplateDoc } from '../../src/db/models/template.js';

/**
 * A batch of awards builds its credential documents without a mongoose document each: the result
 * must be what mongoose itself makes of the same award (defaults, nulls, types), field for field.
 */
describe('a new credential document', () => {
  const connection = mongoose.createConnection();
  const models = createModels(connection);
  const ctx = { models } as unknown as Context;
  afterAll(async () => {
    await connection.close();
  });

  const template = (over: Partial<TemplateDoc>): TemplateDoc =>
    ({
      _id: new Types.ObjectId(),
      platformId: new Types.ObjectId(),
      courseRef: new Types.ObjectId(),
      courseId: 'course-7',
      source: 'local',
      expiresAfterDays: null,
      expiresAt: null,
      ...over,
    }) as unknown as TemplateDoc;

  const request = (over: Partial<AwardRequest>): AwardRequest => ({
    template: template({}),
    personId: new Types.ObjectId(),
    userId: 'learner-1',
    courseRef: null,
    courseId: null,
    evidence: [{ requirementId: 'q1', eventId: 'e-1', at: new Date('2026-01-02T03:04:05Z') }],
    actor: SYSTEM,
    ...over,
  });

  const cases: [string, AwardRequest][] = [
    ['a local badge from the pipeline', request({})],
    [
      'a hand award with a reason, its own course and a level',
      request({
        courseRef: new Types.ObjectId(),
        courseId: 'other-course',
        reason: 'by hand',
        level: 'gold',
        actor: { type: 'instructor', id: 'instructor-1', name: 'Ines' },
      }),
    ],
    [
      'a Credly badge that expires after 30 days',
      request({ template: template({ source: 'credly', expiresAfterDays: 30 } as never) }),
    ],
    [
      'an Accredible badge with a fixed expiry and no course',
      request({
        template: template({
          source: 'accredible',
          courseRef: null,
          courseId: null,
          expiresAt: new Date('2027-06-30T00:00:00Z'),
        } as never),
      }),
    ],
  ];

  it.each(cases)('equals what mongoose makes of it: %s', (_, r) => {
    const at = new Date('2026-12-07T10:00:00Z');
    const fast = newCredentialDoc(ctx, r, at);
    const byMongoose = new models.credentials({ ...awardFieldsOf(r, at), _id: fast._id }).toObject({
      depopulate: true,
      versionKey: false,
    });
    expect(fast).toEqual(byMongoose);
    // Same fields, none missing or extra (toEqual ignores undefined-valued keys).
    expect(Object.keys(fast).sort()).toEqual(Object.keys(byMongoose).sort());
    expect(fast._id).toBeInstanceOf(Types.ObjectId);
  });

  it('gives every credential an id of its own and shares no evidence between awards', () => {
    const at = new Date();
    const r = request({});
    const a = newCredentialDoc(ctx, r, at);
    const b = newCredentialDoc(ctx, request({ evidence: [] }), at);
    expect(String(a._id)).not.toBe(String(b._id));
    expect(a.evidence).toEqual(r.evidence);
    expect(b.evidence).toEqual([]);
    expect(a.status).toBe('awarded');
    expect(a.outbox).toBe('issue');
  });
});
