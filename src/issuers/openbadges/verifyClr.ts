import { asArray, idOf, isObject, str, type Json, type VerificationCheck } from './verifyChecks.js';
import type { VerificationResult } from './verifyChecks.js';
import { ASSOCIATION_TYPES as CLR_ASSOCIATION_TYPES } from '../../records/buildClr.js';

const V2 = 'https://www.w3.org/ns/credentials/v2';
const V1 = 'https://www.w3.org/2018/credentials/v1';
const CLR_CONTEXT = /^https:\/\/purl\.imsglobal\.org\/spec\/clr\/v2p0\/context(-2\.\d\.\d)*\.json$/;
const ASSOCIATION_TYPES = new Set<string>(CLR_ASSOCIATION_TYPES);
const validDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

export const isClrCredential = (c: Json) => asArray(c.type as string | string[]).includes('ClrCredential');

/** The credentials a learner record holds (ClrSubject.verifiableCredential), as found. */
export function clrCredentials(c: Json): unknown[] {
  const subject = c.credentialSubject;
  return isObject(subject) ? asArray(subject.verifiableCredential as unknown[]) : [];
}

/**
 * The CLR 2.0 rules a ClrCredential must meet (as 1EdTech's schema and validator state them):
 * contexts, types, issuer, dates, a ClrSubject with at least one credential, and associations
 * between achievements of the record.
 */
export function checkClrShape(c: Json): VerificationCheck {
  const problems: string[] = [];
  const contexts = asArray(c['@context'] as unknown[]);
  const v1 = contexts[0] === V1;
  if (contexts[0] !== V2 && !v1) problems.push(`@context must start with ${V2}`);
  if (!(typeof contexts[1] === 'string' && CLR_CONTEXT.test(contexts[1])))
    problems.push('the second @context must be the CLR 2.0 context');
  if (!str(c.id)) problems.push('id is missing');
  const types = asArray(c.type as string[]);
  if (!types.includes('VerifiableCredential')) problems.push('type must include VerifiableCredential');
  if (!types.includes('ClrCredential')) problems.push('type must include ClrCredential');
  if (!str(c.name)) problems.push('name is missing');
  if (!idOf(c.issuer)) problems.push('issuer (with an id) is missing');
  const from = v1 ? 'issuanceDate' : 'validFrom';
  if (!validDate(c[from])) problems.push(`${from} is missing or not a date`);
  if (c.partial !== undefined && typeof c.partial !== 'boolean')
    problems.push('partial must be true or false');
  const subject = c.credentialSubject;
  if (!isObject(subject)) problems.push('credentialSubject is missing');
  else {
    if (!asArray(subject.type as string[]).includes('ClrSubject'))
      problems.push('credentialSubject.type must include ClrSubject');
    if (!str(subject.id) && asArray(subject.identifier as unknown[]).length === 0)
      problems.push('credentialSubject needs an id or an identifier');
    const held = clrCredentials(c);
    if (held.length === 0) problems.push('credentialSubject.verifiableCredential must hold a credential');
    if (held.some((x) => !isObject(x))) problems.push('every verifiableCredential must be an object');
    const ids = new Set(
      asArray(subject.achievement as unknown[])
        .map((a) => (isObject(a) ? str(a.id) : null))
        .filter((id): id is string => id !== null),
    );
    asArray(subject.association as unknown[]).forEach((a, i) => {
      if (!isObject(a) || a.type !== 'Association') problems.push(`association ${i} is not an Association`);
      else if (!ASSOCIATION_TYPES.has(String(a.associationType)))
        problems.push(`association ${i} has no CLR 2.0 associationType`);
      else if (!ids.has(String(a.sourceId)) || !ids.has(String(a.targetId)))
        problems.push(`association ${i} names an achievement the record does not list`);
    });
  }
  return problems.length
    ? { check: 'schema', ok: false, message: `Not a conformant CLR 2.0 record: ${problems.join('; ')}.` }
    : { check: 'schema', ok: true, message: 'Conforms to the CLR 2.0 ClrCredential shape.' };
}

/** One check for the credentials a record holds: all must verify, and the failing ones are named. */
export function checkHeldCredentials(results: readonly VerificationResult[]): VerificationCheck {
  if (results.length === 0)
    return { check: 'credentials', ok: false, message: 'The record holds no credential.' };
  const failing = results
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => !r.valid)
    .map(({ r, i }) => {
      const name = r.achievement?.name ?? (r.credential && str(r.credential.id)) ?? `#${i + 1}`;
      const checks = r.checks.filter((c) => !c.ok).map((c) => c.check);
      return `${name} (${checks.join(', ')})`;
    });
  return failing.length
    ? {
        check: 'credentials',
        ok: false,
        message: `${failing.length} of the ${results.length} credentials in the record do not verify: ${failing.join('; ')}.`,
      }
    : {
        check: 'credentials',
        ok: true,
        message: `All ${results.length} credentials in the record verify on their own.`,
      };
}
