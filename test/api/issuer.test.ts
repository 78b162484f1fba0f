import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, registerTestPlatform, type TestPlatformRecord } from '../support/api.js';

describe("admin API: a platform's issuer profile", () => {
  let t: TestLaurel;
  let platform: TestPlatformRecord;
  beforeAll(async () => {
    t = await startTestLaurel();
    platform = await registerTestPlatform(t, { name: 'Northfield College Moodle' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('creates the profile on first use, with one signing key', async () => {
    const answer = await admin(t, 'GET', `/platforms/${platform.id}/issuer`);
    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe('Northfield College Moodle');
    expect(answer.body.id).toMatch(new RegExp(`^${t.laurel.config.publicUrl}/issuers/[0-9a-f]{24}$`));
    expect(answer.body.keys).toHaveLength(1);
    expect(answer.body.keys[0].publicKeyMultibase).toMatch(/^z6Mk/);
    expect(JSON.stringify(answer.body)).not.toMatch(/secret|private/i);
  });

  it('changes what it says, refusing bad values by name, and audits the change', async () => {
    const changed = await admin(t, 'PATCH', `/platforms/${platform.id}/issuer`, {
      name: 'Northfield College',
      url: 'https://northfield.example.edu',
      email: 'badges@northfield.example.edu',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ name: 'Northfield College', url: 'https://northfield.example.edu' });
    const bad = await admin(t, 'PATCH', `/platforms/${platform.id}/issuer`, {
      url: 'javascript:alert(1)',
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: any) => d.path).sort()).toEqual(['(body)', 'url'].sort());
    const audit = await admin(t, 'GET', `/audit?platformId=${platform.id}&action=issuer.updated`);
    expect(audit.body.items).toHaveLength(1);
  });

  it('rotates the key, keeping the old one published and retired', async () => {
    const before = (await admin(t, 'GET', `/platforms/${platform.id}/issuer`)).body.keys[0]
      .publicKeyMultibase;
    const rotated = await admin(t, 'POST', `/platforms/${platform.id}/issuer/rotate-key`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.keys).toHaveLength(2);
    const old = rotated.body.keys.find((k: any) => k.publicKeyMultibase === before);
    expect(old.retiredAt).not.toBeNull();
    expect(rotated.body.keys.filter((k: any) => k.retiredAt === null)).toHaveLength(1);
  });

  it('answers 404 for an unknown platform', async () => {
    expect((await admin(t, 'GET', '/platforms/0123456789abcdef01234567/issuer')).status).toBe(404);
  });
});
