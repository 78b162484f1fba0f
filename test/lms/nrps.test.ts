/** Names and Role Provisioning: media type, members, paging through Link headers, role filter, privacy. */
import { MEDIA, ROLE, SCOPE } from '../support/lms-platform/index.js';
import { accessToken, startRig, type Rig } from './helpers.js';

interface Container {
  id: string;
  context: { id: string; title: string };
  members: Record<string, unknown>[];
}

function nextLink(res: Response): string | undefined {
  const link = res.headers.get('link');
  if (!link) return undefined;
  const part = link.split(',').find((p) => p.includes('rel="next"'));
  return part ? part.slice(part.indexOf('<') + 1, part.indexOf('>')) : undefined;
}

describe.each(['moodle', 'canvas'] as const)('%s memberships', (flavour) => {
  let rig: Rig;
  let token: string;
  beforeAll(async () => {
    rig = await startRig(flavour);
    token = await accessToken(rig, [SCOPE.nrps]);
  });
  afterAll(() => rig.close());

  const get = (url: string) =>
    fetch(url, { headers: { authorization: `Bearer ${token}`, accept: MEDIA.membershipContainer } });

  test('answers the membership container with the course members', async () => {
    const res = await get(rig.platform.membershipsUrl(rig.courseId));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain(MEDIA.membershipContainer);
    const body = (await res.json()) as Container;
    expect(body.id).toBe(rig.platform.membershipsUrl(rig.courseId));
    expect(body.context).toMatchObject({
      id: rig.platform.course(rig.courseId).contextId,
      title: 'Chemistry 101',
    });
    expect(body.members).toHaveLength(3);
    const ada = body.members.find((m) => m.user_id === rig.learner)!;
    expect(ada).toMatchObject({
      status: 'Active',
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      email: 'ada@example.edu',
      lis_person_sourcedid: 'S-2041',
      roles: [`${ROLE.MEMBERSHIP}Learner`],
    });
  });

  test('pages with limit and a Link rel="next" header until the last page', async () => {
    rig.platform.addUser({ name: 'Mary Somerville', roles: { [rig.courseId]: ['Learner'] } });
    rig.platform.addUser({ name: 'Emmy Noether', roles: { [rig.courseId]: ['Learner'] } });
    const seen: string[] = [];
    let url: string | undefined = `${rig.platform.membershipsUrl(rig.courseId)}?limit=2`;
    let pages = 0;
    while (url) {
      const res = await get(url);
      const body = (await res.json()) as Container;
      expect(body.members.length).toBeLessThanOrEqual(2);
      seen.push(...body.members.map((m) => m.user_id as string));
      url = nextLink(res);
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
    expect(seen).toEqual(rig.platform.members(rig.courseId).map((m) => m.user.sub));
  });

  test('filters by role, short name or full URI', async () => {
    const base = rig.platform.membershipsUrl(rig.courseId);
    const short = (await (await get(`${base}?role=Instructor`)).json()) as Container;
    expect(short.members.map((m) => m.user_id)).toEqual([rig.instructor]);
    const full = (await (
      await get(`${base}?role=${encodeURIComponent(`${ROLE.MEMBERSHIP}Learner`)}`)
    ).json()) as Container;
    expect(full.members.map((m) => m.user_id)).not.toContain(rig.instructor);
    expect(full.members.length).toBeGreaterThanOrEqual(2);
  });

  test('an unknown course is 404', async () => {
    const res = await get(rig.platform.membershipsUrl('999999'));
    expect(res.status).toBe(404);
  });
});

test('an anonymous tool gets no names or e-mail addresses', async () => {
  const rig = await startRig('canvas', { privacy: 'anonymous' });
  try {
    const token = await accessToken(rig, [SCOPE.nrps]);
    const res = await fetch(rig.platform.membershipsUrl(rig.courseId), {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as Container;
    expect(body.members).toHaveLength(3);
    for (const m of body.members) {
      expect(m).not.toHaveProperty('name');
      expect(m).not.toHaveProperty('email');
      expect(m.user_id).toBeTruthy();
    }
  } finally {
    await rig.close();
  }
});
