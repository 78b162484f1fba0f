import { Router } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { notFound } from '../../errors.js';
import { findPerson } from '../../identity/resolve.js';
import { signedLearnerRecord } from '../../records/learnerRecord.js';
import { parseOr400 } from '../validation.js';
import { objectIdParam } from './paging.js';

const query = z.strictObject({
  platformId: objectIdParam,
  userId: z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters'),
});

/**
 * /api/v1/clr?platformId=&userId=: a person's Comprehensive Learner Record, the signed CLR 2.0
 * ClrCredential of their live credentials (the same record their backpack download gives).
 */
export function clrRouter(ctx: Context): Router {
  const router = Router();
  router.get('/clr', async (req, res) => {
    const q = parseOr400(query, req.query, 'query string');
    const platformId = new Types.ObjectId(q.platformId);
    if (!(await ctx.models.platforms.exists({ _id: platformId }))) throw notFound(`Platform ${q.platformId}`);
    const person = await findPerson(ctx.models, platformId, q.userId);
    if (!person) throw notFound(`A person with id ${q.userId} on this platform`);
    const record = await signedLearnerRecord(ctx, person);
    res.set('Cache-Control', 'no-store');
    res.type(req.accepts(['application/json', 'application/ld+json']) || 'application/json');
    res.send(JSON.stringify(record));
  });
  return router;
}
