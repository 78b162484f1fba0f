/** The demo's development keys are public: the demo says so, and refuses them under NODE_ENV=production. */
import { spawnSync } from 'node:child_process';
import { DEV_DEFAULTS, publicKeysInProduction } from '../support/dev-env.js';

const own = {
  LTI_KEY: 'a'.repeat(40),
  ADMIN_API_KEY: 'b'.repeat(30),
  ENCRYPTION_KEY: 'c'.repeat(64),
};

describe('publicKeysInProduction', () => {
  it('names every secret left unset or at its development default in production', () => {
    const why = publicKeysInProduction({
      NODE_ENV: 'production',
      ...own,
      ADMIN_API_KEY: DEV_DEFAULTS.ADMIN_API_KEY,
    });
    expect(why).toContain('ADMIN_API_KEY');
    expect(why).not.toContain('LTI_KEY');
    expect(publicKeysInProduction({ NODE_ENV: 'production' })).toMatch(
      /LTI_KEY, ADMIN_API_KEY, ENCRYPTION_KEY are/,
    );
  });
  it('lets production run with secrets of its own, and development with the defaults', () => {
    expect(publicKeysInProduction({ NODE_ENV: 'production', ...own })).toBeUndefined();
    expect(publicKeysInProduction({ NODE_ENV: 'development' })).toBeUndefined();
    expect(publicKeysInProduction({})).toBeUndefined();
  });
});

it('npm run demo with NODE_ENV=production and no keys of its own stops before starting anything', () => {
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/demo.ts'], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(out.status).toBe(1);
  expect(out.stderr).toContain('Refusing to start with NODE_ENV=production');
  expect(out.stdout).not.toContain('Laurel demo is running');
});
