/**
 * LTI roles → which pages a launch opens. Roles arrive as full IMS URIs (LTI 1.3), sometimes as
 * short context-role names or LTI 1.1 URNs; only context (membership) roles say what someone is in
 * this course: Canvas also sends institution roles such as `institution/person#Instructor` to a
 * teacher of another course who is a student here.
 */
export type LaunchKind = 'instructor' | 'learner' | 'admin';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

export type ParsedRole = {
  scope: 'membership' | 'institution' | 'system' | 'unknown';
  role: string;
  sub?: string;
};

export function parseRole(uri: string): ParsedRole {
  const value = uri.trim();
  if (value.startsWith(LIS)) {
    const rest = value.slice(LIS.length);
    const [path = '', fragment = ''] = rest.split('#');
    if (path === 'membership') return { scope: 'membership', role: fragment };
    // Sub-roles: membership/Instructor#TeachingAssistant.
    if (path.startsWith('membership/')) return { scope: 'membership', role: path.slice(11), sub: fragment };
    if (path === 'institution/person') return { scope: 'institution', role: fragment };
    if (path === 'system/person') return { scope: 'system', role: fragment };
    return { scope: 'unknown', role: fragment };
  }
  const urn = /^urn:lti:(role|instrole|sysrole):ims\/lis\/([^/]+)(?:\/(.+))?$/.exec(value);
  if (urn) {
    const scope = urn[1] === 'role' ? 'membership' : urn[1] === 'instrole' ? 'institution' : 'system';
    return { scope, role: urn[2]!, ...(urn[3] ? { sub: urn[3] } : {}) };
  }
  // LTI 1.3 allows the short names of context roles.
  if (/^[A-Za-z]+$/.test(value)) return { scope: 'membership', role: value };
  return { scope: 'unknown', role: value };
}

const STAFF_CONTEXT_ROLES = new Set(['Instructor', 'TeachingAssistant', 'ContentDeveloper', 'Administrator']);
const ADMIN_ROLES = new Set(['Administrator', 'SysAdmin']);

export function isAdministrator(roles: readonly string[]): boolean {
  return roles.some((r) => {
    const p = parseRole(r);
    return (p.scope === 'institution' || p.scope === 'system') && ADMIN_ROLES.has(p.role);
  });
}

export function isCourseStaff(roles: readonly string[]): boolean {
  return roles.some((r) => {
    const p = parseRole(r);
    return (
      p.scope === 'membership' && (STAFF_CONTEXT_ROLES.has(p.role) || STAFF_CONTEXT_ROLES.has(p.sub ?? ''))
    );
  });
}

/**
 * Administrators (institution or system) get the admin pages, which lead on to the course's
 * instructor pages; course staff get the instructor pages; everyone else the learner pages.
 */
export function launchKind(roles: readonly string[]): LaunchKind {
  if (isAdministrator(roles)) return 'admin';
  if (isCourseStaff(roles)) return 'instructor';
  return 'learner';
}

/** The context roles in their short form, as stored on a person for one course. */
export function courseRoleNames(roles: readonly string[]): string[] {
  const names = new Set<string>();
  for (const r of roles) {
    const p = parseRole(r);
    if (p.scope === 'membership' && p.role) names.add(p.sub ? p.sub : p.role);
  }
  return [...names].sort();
}
