import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

/**
 * Docker cannot run here, so docker-compose.yml is checked the way `docker compose config`
 * would: variables interpolated, then validated against the published Compose Specification schema.
 */
const source = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
const schema = JSON.parse(readFileSync(new URL('../data/compose-spec.schema.json', import.meta.url), 'utf8'));

function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g,
    (_m, name: string, kind?: string, arg?: string) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (kind === ':?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return kind === ':-' ? (arg ?? '') : '';
    },
  );
}

const secrets = { LTI_KEY: 'k'.repeat(32), ADMIN_API_KEY: 'a'.repeat(24), ENCRYPTION_KEY: '0f'.repeat(32) };

describe('docker-compose.yml', () => {
  const compose = parse(interpolate(source, secrets));

  it('is valid against the Compose Specification schema', () => {
    // The schema names draft-07 by an https URL Ajv does not know; its keywords are draft-07 ones.
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('refuses to start without the secrets', () => {
    expect(() => interpolate(source, {})).toThrow(/LTI_KEY/);
  });

  it('runs MongoDB as a single-node replica set with a named volume and a health check', () => {
    const mongo = compose.services.mongo;
    expect(mongo.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
    expect(mongo.volumes).toContain('mongo-data:/data/db');
    expect(Object.keys(compose.volumes)).toContain('mongo-data');
    expect(mongo.healthcheck.test.join(' ')).toContain('rs.initiate');
  });

  it('points the app at that replica set and at Mailpit, after MongoDB is healthy', () => {
    const app = compose.services.app;
    expect(app.environment.MONGODB_URI).toBe('mongodb://mongo:27017/laurel?replicaSet=rs0');
    expect(app.environment.SMTP_URL).toBe('smtp://mailpit:1025');
    expect(app.depends_on.mongo.condition).toBe('service_healthy');
    expect(compose.services.mailpit.image).toMatch(/^axllent\/mailpit/);
  });

  it("passes every setting of .env.example on to Laurel, but the stack's own database and mail", () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(documented.length).toBeGreaterThan(15);
    const env = compose.services.app.environment as Record<string, unknown>;
    for (const name of documented) expect({ name, passed: name in env }).toEqual({ name, passed: true });
    // A value set in .env reaches the container (compose interpolates from .env).
    const custom = parse(interpolate(source, { ...secrets, LAUREL_ROLE: 'worker', TRUST_PROXY: '2' }));
    expect(custom.services.app.environment).toMatchObject({ LAUREL_ROLE: 'worker', TRUST_PROXY: '2' });
  });

  it('advertises http://localhost:3000 when .env.example is copied as the README says', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const publicUrl = /^PUBLIC_URL=(.*)$/m.exec(example)![1];
    expect(publicUrl).toBe('http://localhost:3000');
  });

  it('reports MongoDB healthy only once it is the writable primary', () => {
    const script = compose.services.mongo.healthcheck.test.join(' ');
    expect(script).toContain('quit(db.hello().isWritablePrimary ? 0 : 1)');
  });
});
