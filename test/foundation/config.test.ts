import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadConfig, ConfigError } from '../../src/config.js';

const valid = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://laurel.example.edu/',
  MONGODB_URI: 'mongodb://db.example.edu:27017/laurel',
  LTI_KEY: 'k'.repeat(32),
  ADMIN_API_KEY: 'a'.repeat(24),
  ENCRYPTION_KEY: '0f'.repeat(32),
};

describe('loadConfig', () => {
  it('reads a complete environment into typed settings', () => {
    const config = loadConfig({ ...valid, PORT: '8080', TRUST_PROXY: '1', LAUREL_ROLE: 'worker' });
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('https://laurel.example.edu');
    expect(config.encryptionKey).toHaveLength(32);
    expect(config.encryptionKey[0]).toBe(0x0f);
    expect(config.trustProxy).toBe(1);
    expect(config.role).toBe('worker');
    expect(config.logLevel).toBe('info');
    // A dead worker's claims lapse after two minutes unless told otherwise.
    expect(config.claimLeaseMs).toBe(120_000);
    expect(loadConfig({ ...valid, CLAIM_LEASE_MS: '5000' }).claimLeaseMs).toBe(5000);
    expect(config.issueBatchSize).toBe(200);
    expect(loadConfig({ ...valid, ISSUE_BATCH_SIZE: '50' }).issueBatchSize).toBe(50);
    // A finished verification page is at most a second behind another process's change.
    expect(config.publicPageFreshMs).toBe(1000);
    expect(loadConfig({ ...valid, PUBLIC_PAGE_FRESH_MS: '0' }).publicPageFreshMs).toBe(0);
  });

  it('accepts a base64 encryption key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ ...valid, ENCRYPTION_KEY: key }).encryptionKey.equals(Buffer.alloc(32, 7))).toBe(
      true,
    );
  });

  it.each([
    ['PORT', 'seventy', 'PORT must be a TCP port number'],
    ['PORT', '70000', 'PORT must be a TCP port number'],
    ['PUBLIC_URL', 'laurel.example.edu', 'PUBLIC_URL must be an absolute http(s) URL'],
    ['MONGODB_URI', 'postgres://x/y', 'MONGODB_URI must be a MongoDB connection string'],
    ['LTI_KEY', 'short', 'LTI_KEY must be a random secret of at least 32 characters'],
    ['ADMIN_API_KEY', 'short', 'ADMIN_API_KEY must be a random secret of at least 24 characters'],
    ['ENCRYPTION_KEY', 'abcd', 'ENCRYPTION_KEY must be 32 random bytes'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be'],
    ['SMTP_URL', 'mail.example.edu', 'SMTP_URL must be an SMTP URL'],
    ['LAUREL_ROLE', 'boss', 'LAUREL_ROLE must be'],
    ['CLAIM_LEASE_MS', '500', 'CLAIM_LEASE_MS must be a number of milliseconds (1000-3600000)'],
    ['ISSUE_BATCH_SIZE', '0', 'ISSUE_BATCH_SIZE must be a number of credentials (1-1000)'],
    ['PUBLIC_PAGE_FRESH_MS', '-1', 'PUBLIC_PAGE_FRESH_MS must be a number of milliseconds (0-60000)'],
  ])('refuses a malformed %s with a message naming it', (variable, value, message) => {
    expect(() => loadConfig({ ...valid, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...valid, [variable]: value })).toThrow(message);
  });

  it('refuses dynamic registrations without a link unless told to keep them pending', () => {
    expect(loadConfig(valid).registrationWithoutLink).toBe('refuse');
    expect(loadConfig({ ...valid, REGISTRATION_WITHOUT_LINK: 'pending' }).registrationWithoutLink).toBe(
      'pending',
    );
    expect(() => loadConfig({ ...valid, REGISTRATION_WITHOUT_LINK: 'allow' })).toThrow(
      'REGISTRATION_WITHOUT_LINK must be refuse or pending',
    );
  });

  it('reads LMS_ALLOWED_HOSTS as host names, domains, addresses and CIDR ranges', () => {
    expect(loadConfig(valid).lmsAllowedHosts).toEqual([]);
    expect(
      loadConfig({
        ...valid,
        LMS_ALLOWED_HOSTS: ' moodle.school.internal, .campus.example,10.20.0.0/16,fd00::/8, ',
      }).lmsAllowedHosts,
    ).toEqual(['moodle.school.internal', '.campus.example', '10.20.0.0/16', 'fd00::/8']);
    for (const bad of ['10.0.0.0/40', 'http://moodle.local', 'two words'])
      expect(() => loadConfig({ ...valid, LMS_ALLOWED_HOSTS: bad })).toThrow(
        new RegExp(
          `^Invalid configuration: LMS_ALLOWED_HOSTS must be comma-separated host names.*${bad.replace(/[./:]/g, '\\$&')}`,
        ),
      );
  });

  it('says when a required variable is missing', () => {
    const { MONGODB_URI: _omit, ...rest } = valid;
    expect(() => loadConfig(rest)).toThrow('MONGODB_URI must be set');
  });

  it('defaults PUBLIC_URL to localhost outside production only', () => {
    const { PUBLIC_URL: _omit, ...rest } = valid;
    expect(loadConfig({ ...rest, NODE_ENV: 'development', PORT: '4000' }).publicUrl).toBe(
      'http://localhost:4000',
    );
    expect(() => loadConfig(rest)).toThrow('PUBLIC_URL must be set');
  });
});

describe('start-up with a malformed environment', () => {
  it('stops with one line naming the variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, ...valid, PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT must be a TCP port number/);
  });
});

describe('TRUST_PROXY', () => {
  const base = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://laurel.example.edu',
    MONGODB_URI: 'mongodb://db/laurel',
    LTI_KEY: 'k'.repeat(32),
    ADMIN_API_KEY: 'a'.repeat(24),
    ENCRYPTION_KEY: '0f'.repeat(32),
  };
  it.each([
    ['false', false],
    ['true', true],
    ['0', 0],
    ['4', 4],
    ['12', 12],
  ])('takes %s as the number of proxy hops or a switch', (value, expected) => {
    expect(loadConfig({ ...base, TRUST_PROXY: value }).trustProxy).toBe(expected);
  });
  it.each(['-1', 'yes', '100', '1.5'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ ...base, TRUST_PROXY: value })).toThrow(
      /TRUST_PROXY must be true, false, or the number of proxy hops/,
    );
  });
});

describe('every variable of .env.example', () => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const names = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
  const good = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://laurel.example.edu',
    MONGODB_URI: 'mongodb://db/laurel',
    LTI_KEY: 'k'.repeat(32),
    ADMIN_API_KEY: 'a'.repeat(24),
    ENCRYPTION_KEY: '0f'.repeat(32),
  };

  it('is read by the configuration npm start loads (a bad value of each stops it, naming it)', () => {
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) {
      const bad = name === 'LMS_ALLOWED_HOSTS' ? '10.0.0.0/99' : 'not a valid value!';
      let named: string | undefined;
      try {
        loadConfig({ ...good, [name]: bad });
      } catch (err) {
        named = err instanceof ConfigError ? err.variable : String(err);
      }
      expect({ name, named }).toEqual({ name, named: name });
    }
  });
});
