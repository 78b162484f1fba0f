import type { Response } from 'express';
import { credentialUrl } from '../../awards/credentials.js';
import type { Context } from '../../context.js';
import { credentialStateOf } from '../../courses/credentialState.js';
import type { CourseScope } from '../../courses/scope.js';
import { templateProgress } from '../../courses/templateProgress.js';
import type { CredentialDoc } from '../../db/models/credential.js';
import type { PersonDoc } from '../../db/models/person.js';
import type { TemplateDoc } from '../../db/models/template.js';
import { csvFileName, toCsv } from './csv.js';

/** The instructor's CSV exports of a badge: its credentials, and its learners' progress. */

export type CsvFile = { fileName: string; body: string };

export function sendCsv(res: Response, file: CsvFile) {
  res.setHeader('Content-Disposition', `attachment; filename="${file.fileName}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.type('text/csv; charset=utf-8').send(file.body);
}

export const actorName = (actor: CredentialDoc['awardedBy'] | null) =>
  !actor ? null : actor.type === 'system' ? 'Laurel (rules)' : (actor.name ?? actor.type);

/** The people the credentials name, in one read. */
export async function peopleOf(ctx: Context, credentials: CredentialDoc[]): Promise<Map<string, PersonDoc>> {
  const ids = [...new Map(credentials.map((c) => [String(c.personId), c.personId])).values()];
  if (ids.length === 0) return new Map();
  const people = await ctx.models.people.find({ _id: { $in: ids } }).lean<PersonDoc[]>();
  return new Map(people.map((p) => [String(p._id), p]));
}

/** Every credential of the badge in its course, oldest first, with its state and what explains it. */
export async function credentialsCsv(ctx: Context, template: TemplateDoc): Promise<CsvFile> {
  const credentials = await ctx.models.credentials
    .find({ templateId: template._id, platformId: template.platformId, courseRef: template.courseRef })
    .sort({ awardedAt: 1, _id: 1 })
    .lean<CredentialDoc[]>();
  const people = await peopleOf(ctx, credentials);
  const now = ctx.now();
  const rows = credentials.map((c) => {
    const p = people.get(String(c.personId));
    return [
      p?.name ?? null,
      p?.email ?? null,
      c.userId,
      credentialStateOf(c, now).state,
      c.awardedAt,
      actorName(c.awardedBy),
      c.awardReason,
      c.issuedAt,
      c.expiresAt,
      c.revokedAt,
      c.revokedReason,
      c.status === 'failed' ? (c.error ?? null) : null,
      credentialUrl(ctx, c._id),
    ];
  });
  const header = [
    'Name',
    'Email',
    'LMS user id',
    'State',
    'Awarded at',
    'Awarded by',
    'Award note',
    'Issued at',
    'Expires at',
    'Revoked at',
    'Revocation reason',
    'Issuing error',
    'Public page',
  ];
  return { fileName: csvFileName(template.name, 'credentials'), body: toCsv(header, rows) };
}

/** Every learner of the course on the badge: progress, each condition met or not, when earned. */
export async function progressCsv(ctx: Context, scope: CourseScope, template: TemplateDoc): Promise<CsvFile> {
  const result = await templateProgress(ctx, scope, template, { sort: 'name', page: 1, pageSize: Infinity });
  const rows = result.rows.map((r) => [
    r.name,
    r.email,
    r.percent,
    ...result.requirements.map((q) => r.met.includes(q.id)),
    r.earnedAt,
    r.updatedAt,
  ]);
  const header = [
    'Name',
    'Email',
    'Progress (%)',
    ...result.requirements.map((q) => q.text),
    'Earned at',
    'Last change',
  ];
  return { fileName: csvFileName(template.name, 'progress'), body: toCsv(header, rows) };
}
