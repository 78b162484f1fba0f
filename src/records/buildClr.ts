import { InvalidInputError } from '../errors.js';
import {
  isoSeconds,
  recipientIdentifier,
  type IssuerSummary,
  type RecipientInput,
} from '../issuers/openbadges/build.js';
import { CONTEXT } from '../issuers/openbadges/contexts.js';

/**
 * The pure builder of a Comprehensive Learner Record 2.0 `ClrCredential`: no database, no clock, no
 * keys. The learner's signed OB 3.0 AchievementCredentials go in whole (each keeps its own contexts
 * and proof, so each still verifies on its own), their achievements are listed beside them, and
 * associations relate achievements (a pathway step and the badges it needs, say).
 */

export const CLR_CREDENTIAL_SCHEMA =
  'https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json';

/** CLR 2.0's AssociationType vocabulary (the relation of a source achievement to a target). */
export const ASSOCIATION_TYPES = [
  'exactMatchOf',
  'isChildOf',
  'isParentOf',
  'isPartOf',
  'isPeerOf',
  'isRelatedTo',
  'precedes',
  'replacedBy',
] as const;
export type AssociationType = (typeof ASSOCIATION_TYPES)[number];

/**
 * One association between two achievements of the record, by their ids. A pathway gives these for
 * its steps, e.g. `{ associationType: 'isChildOf', sourceId: <badge achievement>, targetId: <step> }`.
 */
export type ClrAssociation = { associationType: AssociationType; sourceId: string; targetId: string };

/**
 * An achievement the record describes without a credential for it in the record (a pathway or one
 * of its steps), so that associations can name it.
 */
export type ClrAchievementInput = {
  id: string;
  name: string;
  description: string;
  criteria: string;
  /** OB 3.0 AchievementType, e.g. 'Achievement', 'Badge', 'LearningProgram'. */
  achievementType?: string;
};

export type ClrInput = {
  /** The record's id (a `urn:uuid:`: a record is made on demand and not kept). */
  id: string;
  /** Who publishes and signs the record: the platform's issuer. */
  issuer: IssuerSummary;
  learner: { name: string | null; recipient: RecipientInput };
  issuedAt: Date;
  /** Signed OB 3.0 AchievementCredentials, in the order the record lists them. At least one. */
  credentials: readonly Record<string, unknown>[];
  /** Achievements named by associations that no credential of the record asserts (pathway steps). */
  achievements?: readonly ClrAchievementInput[];
  associations?: readonly ClrAssociation[];
  /** True when the record holds only some of what the learner earned (CLR 2.0 `partial`). */
  partial: boolean;
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Achievement a signed AchievementCredential asserts, or null when it carries none. */
export function achievementOf(credential: Json): Json | null {
  const subject = Array.isArray(credential.credentialSubject)
    ? credential.credentialSubject[0]
    : credential.credentialSubject;
  return isObject(subject) && isObject(subject.achievement) ? subject.achievement : null;
}

function extraAchievement(a: ClrAchievementInput): Json {
  return {
    id: a.id,
    type: ['Achievement'],
    achievementType: a.achievementType ?? 'Achievement',
    name: a.name,
    description: a.description.trim() || a.name,
    criteria: { narrative: a.criteria.trim() || a.description.trim() || a.name },
  };
}

/**
 * The unsigned ClrCredential (VCDM 2.0, CLR context 2.0.1). Throws InvalidInputError when it has no
 * credential (CLR 2.0 needs at least one) or an association names an achievement the record lacks.
 */
export function buildClrCredential(input: ClrInput): Json {
  if (input.credentials.length === 0)
    throw new InvalidInputError('A learner record needs at least one credential.', [
      { path: 'credentials', message: 'must hold at least one signed credential' },
    ]);
  const achievements: Json[] = [];
  const known = new Set<string>();
  const add = (a: Json | null) => {
    const id = a && typeof a.id === 'string' ? a.id : null;
    if (a && id && !known.has(id)) {
      known.add(id);
      achievements.push(a);
    }
  };
  for (const credential of input.credentials) add(achievementOf(credential));
  for (const extra of input.achievements ?? []) add(extraAchievement(extra));

  const association = (input.associations ?? []).map((a, index) => {
    const problems = [
      ASSOCIATION_TYPES.includes(a.associationType)
        ? null
        : 'associationType is not a CLR 2.0 association type',
      known.has(a.sourceId) ? null : `sourceId ${a.sourceId} is no achievement of this record`,
      known.has(a.targetId) ? null : `targetId ${a.targetId} is no achievement of this record`,
    ].filter((p): p is string => p !== null);
    if (problems.length)
      throw new InvalidInputError(
        `Association ${index} cannot be recorded: ${problems.join('; ')}.`,
        problems.map((message) => ({ path: `associations.${index}`, message })),
      );
    return {
      type: 'Association',
      associationType: a.associationType,
      sourceId: a.sourceId,
      targetId: a.targetId,
    };
  });

  const who = input.learner.name?.trim();
  const name = who ? `Learner record of ${who}` : 'Learner record';
  return {
    '@context': [CONTEXT.credentialsV2, CONTEXT.clr, CONTEXT.ob, CONTEXT.obExtensions],
    id: input.id,
    type: ['VerifiableCredential', 'ClrCredential'],
    issuer: {
      id: input.issuer.id,
      type: ['Profile'],
      name: input.issuer.name,
      ...(input.issuer.url ? { url: input.issuer.url } : {}),
      ...(input.issuer.email ? { email: input.issuer.email } : {}),
    },
    name,
    description: `Badges earned through ${input.issuer.name}, as of ${isoSeconds(input.issuedAt).slice(0, 10)}.`,
    validFrom: isoSeconds(input.issuedAt),
    partial: input.partial,
    credentialSubject: {
      type: ['ClrSubject'],
      identifier: [recipientIdentifier(input.learner.recipient)],
      verifiableCredential: input.credentials.map((c) => structuredClone(c)),
      ...(achievements.length ? { achievement: achievements } : {}),
      ...(association.length ? { association } : {}),
    },
    credentialSchema: [{ id: CLR_CREDENTIAL_SCHEMA, type: '1EdTechJsonSchemaValidator2019' }],
  };
}
