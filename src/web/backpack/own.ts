import { Types } from 'mongoose';
import type { Context } from '../../context.js';
import type { BackpackSessionDoc } from '../../db/models/backpackSession.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { IssuerProfileDoc } from '../../db/models/issuerProfile.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { notFound } from '../../errors.js';
import { ofPeople } from '../../backpack/sessions.js';
import type { PublicCredential } from '../public/load.js';

/**
 * A credential of the session's people, whatever its public visibility (its holder always sees
 * it); anyone else's, or no credential, is the same 404.
 */
export async function loadOwnCredential(
  ctx: Context,
  session: BackpackSessionDoc,
  id: string,
): Promise<PublicCredential> {
  if (!/^[0-9a-f]{24}$/.test(id)) throw notFound(`Badge ${id}`);
  const credential = await ctx.models.credentials
    .findOne({ _id: new Types.ObjectId(id), ...ofPeople(session.people) })
    .lean<CredentialDoc>();
  if (!credential) throw notFound(`Badge ${id}`);
  const [template, person, issuer] = await Promise.all([
    ctx.models.templates.findById(credential.templateId).lean<TemplateDoc>(),
    ctx.models.people.findById(credential.personId).lean<PersonDoc>(),
    credential.issuerProfileId
      ? ctx.models.issuerProfiles.findById(credential.issuerProfileId).lean<IssuerProfileDoc>()
      : ctx.models.issuerProfiles.findOne({ platformId: credential.platformId }).lean<IssuerProfileDoc>(),
  ]);
  if (!template) throw notFound(`Badge ${id}`);
  return { credential, template, person, issuer };
}
