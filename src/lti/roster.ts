import { Types } from 'mongoose';
import type { NamesAndRolesService } from 'ltijs';
import type { Context } from '../context.js';
import type { CourseDoc } from '../db/models/course.js';
import { identityPlatformIdOf, type PlatformDoc } from '../db/models/platform.js';
import { upsertPerson } from '../identity/launch.js';
import { courseRoleNames } from './roles.js';

/**
 * Names and Role Provisioning: a course's members become known people (names, e-mails, roles, LMS
 * ids where given), joined with whoever launches or events already made, so learners who never
 * launched Laurel can still be matched to their events and awarded.
 */

/** What the job needs to call NRPS without a launch: ltijs's services read only these. */
export type RosterTarget = {
  platformId: string;
  courseRef: string;
  membershipsUrl: string;
};

export type RosterResult = { members: number; stored: number; skipped?: string };

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

export async function syncRoster(
  ctx: Context,
  nrps: NamesAndRolesService,
  target: RosterTarget,
): Promise<RosterResult> {
  if (!Types.ObjectId.isValid(target.platformId) || !Types.ObjectId.isValid(target.courseRef))
    return { members: 0, stored: 0, skipped: 'invalid target' };
  const platform = await ctx.models.platforms.findById(target.platformId).lean<PlatformDoc>();
  if (!platform) return { members: 0, stored: 0, skipped: 'platform removed' };
  const course = await ctx.models.courses
    .findOne({ _id: target.courseRef, platformId: identityPlatformIdOf(platform) })
    .lean<CourseDoc>();
  if (!course) return { members: 0, stored: 0, skipped: 'course unknown' };

  const token = {
    iss: platform.issuer,
    clientId: platform.clientId,
    platformContext: { namesRoles: { context_memberships_url: target.membershipsUrl } },
  };
  const answer = await nrps.getMembers(token, { pages: false });
  const members = Array.isArray(answer.members) ? answer.members : [];
  let stored = 0;
  for (const member of members) {
    const sub = text(member.user_id);
    if (!sub) continue;
    const active = (text(member.status) ?? 'Active') === 'Active';
    const roles = Array.isArray(member.roles)
      ? member.roles.filter((r): r is string => typeof r === 'string')
      : [];
    const given = text(member.given_name);
    const family = text(member.family_name);
    await upsertPerson(ctx.models, identityPlatformIdOf(platform), {
      sub,
      // Moodle's `sub` is its user id; Canvas's roster names people only by their LTI id.
      lmsUserId: platform.lms === 'moodle' ? sub : null,
      otherIds: [text(member.lti11_legacy_user_id)],
      name: text(member.name) ?? ([given, family].filter(Boolean).join(' ') || null),
      email: text(member.email),
      course: { ref: course._id, roles: active ? courseRoleNames(roles) : [] },
    });
    stored++;
  }
  return { members: members.length, stored };
}
