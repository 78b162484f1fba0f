import { platformInputSchema } from '../../src/platforms/schema.js';

const valid = {
  name: 'Example Moodle',
  lms: 'moodle',
  issuer: 'https://moodle.example.edu',
  clientId: 'aB3xY9',
  authLoginUrl: 'https://moodle.example.edu/mod/lti/auth.php',
  authTokenUrl: 'https://moodle.example.edu/mod/lti/token.php',
  jwksUrl: 'https://moodle.example.edu/mod/lti/certs.php',
  deploymentIds: ['1'],
};

const problems = (input: Record<string, unknown>) => {
  const parsed = platformInputSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('platform input: names and ids', () => {
  it('accepts the documented example, trimmed, and names in any script', () => {
    expect(problems(valid)).toEqual([]);
    const parsed = platformInputSchema.parse({ ...valid, name: '  Université de Genève 🎓 ' });
    expect(parsed.name).toBe('Université de Genève 🎓');
  });

  const cases: [string, (bad: string) => Record<string, unknown>, string][] = [
    ['name', (bad) => ({ name: bad }), 'name'],
    ['issuer', (bad) => ({ issuer: bad }), 'issuer'],
    ['clientId', (bad) => ({ clientId: bad }), 'clientId'],
    ['deploymentIds', (bad) => ({ deploymentIds: ['1', bad] }), 'deploymentIds.1'],
  ];
  for (const [field, place, path] of cases)
    it(`refuses NUL, lone surrogates and control characters in ${field}`, () => {
      expect(problems({ ...valid, ...place('Ex\u0000ample') })).toEqual([
        `${path}: must not contain NUL characters`,
      ]);
      expect(problems({ ...valid, ...place('Ex\ud83cample') })).toEqual([
        `${path}: must not contain lone surrogates (invalid Unicode)`,
      ]);
      expect(problems({ ...valid, ...place('Ex\u001bample') })).toEqual([
        `${path}: must not contain control characters`,
      ]);
    });

  it('still refuses empty and overlong values', () => {
    expect(problems({ ...valid, name: '   ' })).toEqual(['name: must not be empty']);
    expect(problems({ ...valid, clientId: 'x'.repeat(501) })).toEqual(['clientId: at most 500 characters']);
    expect(problems({ ...valid, deploymentIds: [''] })).toEqual(['deploymentIds.0: must not be empty']);
  });
});
