import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { StatusListDoc } from '../../db/models/statusList.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { notFound } from '../../errors.js';
import { publiclyVisible } from '../../backpack/visibility.js';

/** A credential with what its public pages show: template, learner and issuer. */
export type PublicCredential = {
  credential: CredentialDoc;
  template: TemplateDoc;
  person: PersonDoc | null;
  issuer: IssuerProfileDoc | null;
  /** The revisions of the credential's status list, when asked for (the verification page needs them). */
  statusList?: Pick<StatusListDoc, '_id' | 'revision' | 'signedRevision'> | null;
};

/**
 * Loads a credential for its public pages; any id that is not a credential is a plain 404, and so is
 * a credential its holder hid (src/backpack/visibility.ts; `holderKey` is the `key` of their link).
 */
export async function loadPublicCredential(
  ctx: Context,
  id: string,
  holderKey?: unknown,
  options: { statusList?: boolean } = {},
): Promise<PublicCredential> {
  if (!/^[0-9a-f]{24}$/.test(id)) throw notFound(`Credential ${id}`);
  const credential = await ctx.models.credentials.findById(new Types.ObjectId(id)).lean<CredentialDoc>();
  if (!credential) throw notFound(`Credential ${id}`);
  const [template, person, issuer, sharing, statusList] = await Promise.all([
    ctx.models.templates.findById(credential.templateId).lean<TemplateDoc>(),
    ctx.models.people.findById(credential.personId).lean<PersonDoc>(),
    credential.issuerProfileId
      ? ctx.models.issuerProfiles.findById(credential.issuerProfileId).lean<IssuerProfileDoc>()
      : ctx.models.issuerProfiles.findOne({ platformId: credential.platformId }).lean<IssuerProfileDoc>(),
    ctx.models.badgeSharings.findById(credential._id, { visibility: 1 }).lean(),
    // With the others rather than after them: the page's verification reads it next.
    options.statusList && credential.statusListId
      ? ctx.models.statusLists
          .findById(credential.statusListId, { revision: 1, signedRevision: 1 })
          .lean<Pick<StatusListDoc, '_id' | 'revision' | 'signedRevision'>>()
      : undefined,
  ]);
  if (!template) throw notFound(`Credential ${id}`);
  if (!publiclyVisible(ctx.config, credential._id, sharing, holderKey)) throw notFound(`Credential ${id}`);
  return { credential, template, person, issuer, ...(statusList !== undefined ? { statusList } : {}) };
}

/** Where a credential stands for a viewer: being issued, valid, revoked or expired. */
export function credentialState(c: CredentialDoc, now: Date): 'issuing' | 'valid' | 'revoked' | 'expired' {
  if (c.status === 'revoked') return 'revoked';
  if (c.status === 'expired' || (c.expiresAt && c.expiresAt.getTime() <= now.getTime())) return 'expired';
  if (c.status === 'awarded' || !c.signed) return 'issuing';
  return 'valid';
}
