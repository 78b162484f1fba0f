/**
 * The admin API's template input (issue 17): names, descriptions, tags and ids refuse NUL,
 * control characters and lone surrogates; `shared` is set by the admin and shown in every answer.
 */
import { createTemplateSchema, updateTemplateSchema } from '../../src/templates/schema.js';
import { admin, registerTestPlatform } from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

const PLATFORM = '0123456789abcdef01234567';

describe('template schemas', () => {
  it.each([
    ['a NUL', 'Star\u0000'],
    ['a lone high surrogate', 'Star \ud800'],
    ['a lone low surrogate', '\udc00 Star'],
    ['a control character', 'Star\u001b[31m'],
  ])('refuse a name with %s', (_what, name) => {
    const result = createTemplateSchema.safeParse({ platformId: PLATFORM, name });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['name']);
  });

  it('refuse NUL in descriptions, criteria, tags, course ids and alignments', () => {
    for (const [field, value] of [
      ['description', 'a\u0000b'],
      ['criteria', 'a\u0000b'],
      ['tags', ['ok', 'b\u0000']],
      ['courseId', 'c\u0000'],
      ['imageId', 'i\u0000'],
      ['alignments', [{ targetName: 'x\u0000' }]],
    ] as const) {
      const result = createTemplateSchema.safeParse({ platformId: PLATFORM, name: 'Star', [field]: value });
      expect({ field, success: result.success }).toEqual({ field, success: false });
    }
    expect(updateTemplateSchema.safeParse({ name: 'x\u0000' }).success).toBe(false);
  });

  it('keep line breaks and tabs in descriptions, and characters outside the BMP', () => {
    const result = createTemplateSchema.safeParse({
      platformId: PLATFORM,
      name: 'Star 🌟',
      description: 'Line one\r\nLine two\tand a tab',
    });
    expect(result.success).toBe(true);
    expect(result.data?.shared).toBe(false);
  });
});

describe('/api/v1/templates input', () => {
  let t: TestLaurel;
  let platformId: string;
  beforeAll(async () => {
    t = await startTestLaurel();
    platformId = (await registerTestPlatform(t)).id;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers 400 naming the field to a name with NUL or a lone surrogate', async () => {
    for (const name of ['Star\u0000', 'Star \ud800', '\udfff']) {
      const answer = await admin(t, 'POST', '/templates', { platformId, name });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
      expect(answer.body.details).toEqual([expect.objectContaining({ path: 'name' })]);
    }
    const created = await admin(t, 'POST', '/templates', { platformId, name: 'Clean' });
    const patched = await admin(t, 'PATCH', `/templates/${created.body.id}`, { name: 'Dirty\u0000' });
    expect(patched.status).toBe(400);
    expect(patched.body.details).toEqual([expect.objectContaining({ path: 'name' })]);
    expect(await t.laurel.ctx.models.templates.countDocuments({ name: { $ne: 'Clean' } })).toBe(0);
  });

  it('stores `shared` (false unless the admin says so) and shows it in every answer', async () => {
    const plain = await admin(t, 'POST', '/templates', { platformId, name: 'Plain' });
    expect(plain.status).toBe(201);
    expect(plain.body.shared).toBe(false);
    const shared = await admin(t, 'POST', '/templates', { platformId, name: 'Shared', shared: true });
    expect(shared.body.shared).toBe(true);

    const patched = await admin(t, 'PATCH', `/templates/${plain.body.id}`, { shared: true });
    expect(patched.status).toBe(200);
    expect(patched.body.shared).toBe(true);
    expect((await admin(t, 'GET', `/templates/${plain.body.id}`)).body.shared).toBe(true);
    const listed = await admin(t, 'GET', `/templates?platformId=${platformId}`);
    expect(listed.body.items.map((i: { name: string; shared: boolean }) => [i.name, i.shared])).toEqual(
      expect.arrayContaining([
        ['Plain', true],
        ['Shared', true],
      ]),
    );
    const unshared = await admin(t, 'PATCH', `/templates/${plain.body.id}`, { shared: false });
    expect(unshared.body.shared).toBe(false);
    expect((await admin(t, 'PATCH', `/templates/${plain.body.id}`, { shared: 'yes' })).status).toBe(400);
  });
});
