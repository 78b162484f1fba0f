import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { ADMIN_KEY, admin, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';

describe('admin API: platforms', () => {
  let t: TestLaurel;
  beforeAll(async () => {
    t = await startTestLaurel();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const body = {
    name: 'Example Moodle',
    lms: 'moodle',
    issuer: 'https://moodle.example.edu',
    clientId: 'aB3xY9',
    authLoginUrl: 'https://moodle.example.edu/mod/lti/auth.php',
    authTokenUrl: 'https://moodle.example.edu/mod/lti/token.php',
    jwksUrl: 'https://moodle.example.edu/mod/lti/certs.php',
    deploymentIds: ['1'],
  };

  it('needs the Bearer key', async () => {
    const none = await fetch(`${t.url}/api/v1/platforms`);
    expect(none.status).toBe(401);
    expect((await none.json()).error).toBe('unauthorised');
    const wrong = await fetch(`${t.url}/api/v1/platforms`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}x` },
    });
    expect(wrong.status).toBe(401);
  });

  it('registers a platform, shows its webhook secret once, and refuses the same issuer and client twice', async () => {
    const created = await admin(t, 'POST', '/platforms', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, id: expect.stringMatching(/^[0-9a-f]{24}$/) });
    expect(created.body.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    const fetched = await admin(t, 'GET', `/platforms/${created.body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.webhookSecret).toBeUndefined();
    expect(JSON.stringify((await admin(t, 'GET', '/platforms')).body)).not.toContain(
      created.body.webhookSecret,
    );
    // Secrets are sealed at rest.
    const raw = await t.laurel.ctx.models.platforms.collection.findOne({});
    expect(JSON.stringify(raw)).not.toContain(created.body.webhookSecret);
    const again = await admin(t, 'POST', '/platforms', body);
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('aB3xY9');
    const removed = await admin(t, 'DELETE', `/platforms/${created.body.id}`);
    expect(removed.status).toBe(204);
    expect((await admin(t, 'GET', `/platforms/${created.body.id}`)).status).toBe(404);
  });

  it('answers 400 naming every missing or malformed field', async () => {
    const answer = await admin(t, 'POST', '/platforms', {
      name: '',
      lms: 'blackboard',
      jwksUrl: 'not a url',
      extra: 1,
    });
    expect(answer.status).toBe(400);
    const paths = answer.body.details.map((d: any) => d.path).sort();
    expect(paths).toEqual(
      ['authLoginUrl', 'authTokenUrl', 'clientId', 'extra', 'issuer', 'jwksUrl', 'lms', 'name'].sort(),
    );
    expect(answer.body.details.find((d: any) => d.path === 'lms').message).toBe(
      'must be moodle, canvas or other',
    );
    expect(answer.body.details.find((d: any) => d.path === 'extra').message).toBe('unknown field "extra"');
  });

  it('lists platforms a page at a time, with their status, and answers 400 naming a bad limit or cursor', async () => {
    const a = await registerTestPlatform(t);
    const b = await registerTestPlatform(t);
    const first = await admin(t, 'GET', '/platforms?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0].status).toBe('active');
    expect(first.body.next).toMatch(/^[0-9a-f]{24}$/);
    const all: string[] = [];
    for (let cursor: string | null = null, pages = 0; pages < 10; pages++) {
      const answer = await admin(t, 'GET', `/platforms?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...answer.body.items.map((p: any) => p.id));
      cursor = answer.body.next;
      if (!cursor) break;
    }
    expect(all).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(new Set(all).size).toBe(all.length);
    expect((await admin(t, 'GET', '/platforms?status=pending')).body.items).toEqual([]);

    for (const [query, path] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['cursor=abc', 'cursor'],
      ['cursor=zzzzzzzzzzzzzzzzzzzzzzzz', 'cursor'],
      ['status=odd', 'status'],
      ['colour=red', 'colour'],
    ]) {
      const answer = await admin(t, 'GET', `/platforms?${query}`);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
      expect(answer.body.details.map((d: any) => d.path)).toContain(path);
    }
  });

  it('approves only pending platforms, with a valid name', async () => {
    const active = await registerTestPlatform(t);
    expect((await admin(t, 'POST', '/platforms/0123456789abcdef01234567/approve', {})).status).toBe(404);
    expect((await admin(t, 'POST', '/platforms/nope/approve', {})).status).toBe(404);
    const bad = await admin(t, 'POST', `/platforms/${active.id}/approve`, { name: 'x\u0000', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: any) => d.path).sort()).toEqual(['extra', 'name']);
    const notPending = await admin(t, 'POST', `/platforms/${active.id}/approve`);
    expect(notPending.status).toBe(409);
    expect(notPending.body.error).toBe('not_pending');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await fetch(`${t.url}/api/v1/platforms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_json');
  });
});

describe('admin API: templates', () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('gives each requirement an id and keeps the ones given', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      name: 'Any course',
      groups: [
        {
          requirements: [
            { event: 'course.completed' },
            {
              id: 'mine',
              event: 'course.grade.updated',
              rules: [{ path: 'data.percent', op: 'gte', value: 90 }],
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body.courseId).toBeNull();
    const [a, b] = created.body.groups[0].requirements;
    expect(a.id).toMatch(/^r[0-9a-f]{8}$/);
    expect(b.id).toBe('mine');
    expect(created.body.allowReEarn).toBe(false);
  });

  it('answers 400 with the exact path of each bad rule', async () => {
    const answer = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      groups: [
        {
          requirements: [
            { event: 'activity.grade.updated', rules: [{ path: 'data.percent', op: 'about', value: 80 }] },
          ],
        },
      ],
      penalties: [{ event: 'activity.grade.updated', rules: [], resets: ['ghost'] }],
    });
    expect(answer.status).toBe(400);
    const paths = answer.body.details.map((d: any) => d.path);
    expect(paths).toContain('name');
    expect(paths).toContain('groups.0.requirements.0.rules.0.op');
  });

  it('refuses a penalty resetting a requirement the template does not have', async () => {
    const answer = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      name: 'X',
      groups: [{ requirements: [{ id: 'a', event: 'course.completed' }] }],
      penalties: [{ event: 'course.grade.updated', rules: [], resets: ['ghost'] }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.details).toEqual([
      { path: 'penalties.0.resets.0', message: '"ghost" is not a requirement of this template' },
    ]);
  });

  it('refuses a badge requirement naming no template of this platform, and activation without groups', async () => {
    const missing = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      name: 'Meta',
      groups: [{ requirements: [{ badge: '0123456789abcdef01234567' }] }],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.details[0].path).toBe('groups.0.requirements.0.badge');
    const empty = await admin(t, 'POST', '/templates', { platformId: platform.id, name: 'Empty' });
    expect((await admin(t, 'POST', `/templates/${empty.body.id}/activate`)).status).toBe(400);
  });

  it('answers 404 for an unknown platform or template', async () => {
    expect(
      (await admin(t, 'POST', '/templates', { platformId: '0123456789abcdef01234567', name: 'X' })).status,
    ).toBe(404);
    expect((await admin(t, 'GET', '/templates/0123456789abcdef01234567')).status).toBe(404);
    expect((await admin(t, 'GET', '/templates/not-an-id')).status).toBe(404);
  });

  it('patches fields and replaces the rules as a whole', async () => {
    const created = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: '101',
      name: 'Before',
      groups: [{ requirements: [{ id: 'a', event: 'course.completed' }] }],
    });
    const patched = await admin(t, 'PATCH', `/templates/${created.body.id}`, {
      name: 'After',
      expiresAfterDays: 90,
      penalties: [{ event: 'enrollment.deleted', resets: ['a'] }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'After', expiresAfterDays: 90, version: 2 });
    expect(patched.body.penalties[0].resets).toEqual(['a']);
    const bad = await admin(t, 'PATCH', `/templates/${created.body.id}`, { platformId: platform.id });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]).toEqual({ path: 'platformId', message: 'unknown field "platformId"' });
  });

  it('lists templates of a course a page at a time', async () => {
    for (let i = 0; i < 3; i++)
      await admin(t, 'POST', '/templates', { platformId: platform.id, courseId: 'paged', name: `P${i}` });
    const first = await admin(t, 'GET', `/templates?platformId=${platform.id}&courseId=paged&limit=2`);
    expect(first.body.items.map((x: any) => x.name)).toEqual(['P0', 'P1']);
    expect(first.body.next).toMatch(/^[0-9a-f]{24}$/);
    const second = await admin(
      t,
      'GET',
      `/templates?platformId=${platform.id}&courseId=paged&limit=2&cursor=${first.body.next}`,
    );
    expect(second.body.items.map((x: any) => x.name)).toEqual(['P2']);
    expect(second.body.next).toBeNull();
    expect((await admin(t, 'GET', '/templates?limit=501')).status).toBe(400);
    expect((await admin(t, 'GET', '/templates?courseId=paged')).status).toBe(400);
  });
});
