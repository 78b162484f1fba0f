import { Router } from 'express';
import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import { recordAudit } from '../../audit/record.js';
import {
  ensureIssuerProfile,
  issuerSummary,
  rotateIssuerKey,
  updateIssuerProfile,
} from '../../issuers/openbadges/issuerProfiles.js';
import { getPlatform } from '../../platforms/service.js';
import { ADMIN_ACTOR } from './auth.js';

const toPublicIssuer = (ctx: Context, p: IssuerProfileDoc) => ({
  ...issuerSummary(ctx, p),
  platformId: String(p.platformId),
  imageId: p.imageId,
  keys: p.keys.map((k) => ({
    publicKeyMultibase: k.publicKeyMultibase,
    createdAt: k.createdAt,
    retiredAt: k.retiredAt ?? null,
  })),
});

/** /api/v1/platforms/:id/issuer: who a platform's credentials say issued them, and its signing keys. */
export function issuerRouter(ctx: Context): Router {
  const router = Router();
  const platformIdOf = async (id: string) => new Types.ObjectId(String((await getPlatform(ctx, id))._id));
  router.get('/platforms/:id/issuer', async (req, res) => {
    res.json(toPublicIssuer(ctx, await ensureIssuerProfile(ctx, await platformIdOf(req.params.id))));
  });
  router.patch('/platforms/:id/issuer', async (req, res) => {
    const platformId = await platformIdOf(req.params.id);
    const updated = await updateIssuerProfile(ctx, platformId, req.body ?? {});
    await recordAudit(ctx.models, {
      actor: ADMIN_ACTOR,
      action: 'issuer.updated',
      platformId,
      target: { type: 'issuer', id: String(updated._id) },
      details: { fields: Object.keys(req.body ?? {}) },
    });
    res.json(toPublicIssuer(ctx, updated));
  });
  router.post('/platforms/:id/issuer/rotate-key', async (req, res) => {
    const platformId = await platformIdOf(req.params.id);
    const rotated = await rotateIssuerKey(ctx, platformId);
    await recordAudit(ctx.models, {
      actor: ADMIN_ACTOR,
      action: 'issuer.key.rotated',
      platformId,
      target: { type: 'issuer', id: String(rotated._id) },
    });
    res.json(toPublicIssuer(ctx, rotated));
  });
  return router;
}
