/** The CLI's help needs no configuration; each command asks only for the settings it uses; --demo reaches a demo. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { DEV_DEFAULTS } from '../support/dev-env.js';
import { registerTestPlatform } from '../support/api.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

function capture(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { env, out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('help', () => {
  it.each([['--help'], ['-h'], ['help']])(
    '%s prints every command and exits 0 with no environment',
    async (flag) => {
      const { io, out, err } = capture();
      expect(await runCli([flag], io)).toBe(0);
      expect(err).toEqual([]);
      const text = out.join('\n');
      for (const command of ['platform add', 'platform list', 'platform approve', 'registration-link create'])
        expect(text).toContain(command);
    },
  );

  it.each([
    [['platform', 'add', '--help'], 'platform add --name', 'MONGODB_URI, LTI_KEY, ENCRYPTION_KEY'],
    [['platform', 'list', '-h'], 'platform list [--json]', 'Needs: MONGODB_URI ('],
    [['registration-link', 'create', '--help'], 'registration-link create', 'MONGODB_URI, PUBLIC_URL'],
    [['help', 'platform', 'approve'], 'platform approve <platform id>', 'ENCRYPTION_KEY'],
  ])("%j prints that command's help and what it needs", async (argv, usage, needs) => {
    const { io, out } = capture();
    expect(await runCli(argv, io)).toBe(0);
    expect(out.join('\n')).toContain(usage);
    expect(out.join('\n')).toContain(needs);
  });

  it('without a command prints the usage and exits 2', async () => {
    const { io, err } = capture();
    expect(await runCli([], io)).toBe(2);
    expect(err.join('\n')).toContain('Usage: npm run cli --');
  });
});

describe('settings per command, and --demo', () => {
  let t: TestLaurel;
  let dir: string;
  beforeAll(async () => {
    t = await startTestLaurel();
    await registerTestPlatform(t);
    dir = mkdtempSync(path.join(os.tmpdir(), 'laurel-cli-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.stop();
  });

  it('lists platforms in production with only MONGODB_URI set', async () => {
    const { io, out, err } = capture({ NODE_ENV: 'production', MONGODB_URI: t.db.uri });
    expect(await runCli(['platform', 'list', '--json'], io)).toBe(0);
    expect(err).toEqual([]);
    expect(JSON.parse(out[0]!)).toHaveLength(1);
  });

  it('names the one setting a command lacks', async () => {
    const { io, err } = capture({ NODE_ENV: 'production', MONGODB_URI: t.db.uri });
    expect(await runCli(['registration-link', 'create'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/PUBLIC_URL must be set/);
    expect(err.join('\n')).not.toMatch(/ADMIN_API_KEY|LTI_KEY/);
  });

  it("--demo uses the running demo's database and keys", async () => {
    const file = path.join(dir, 'demo.json');
    const env = { LAUREL_DEMO_FILE: file };
    const missing = capture(env);
    expect(await runCli(['--demo', 'platform', 'list'], missing.io)).toBe(2);
    expect(missing.err.join('\n')).toContain('no running demo was found');

    writeFileSync(
      file,
      JSON.stringify({
        NODE_ENV: 'development',
        MONGODB_URI: t.db.uri,
        LTI_KEY: DEV_DEFAULTS.LTI_KEY,
        ENCRYPTION_KEY: DEV_DEFAULTS.ENCRYPTION_KEY,
        PUBLIC_URL: t.laurel.config.publicUrl,
      }),
    );
    const { io, out } = capture(env);
    expect(
      await runCli(['--demo', 'registration-link', 'create', '--name', 'Demo school', '--json'], io),
    ).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ name: 'Demo school', state: 'open' });
    expect(JSON.parse(out[0]!).url).toContain(`${t.laurel.config.publicUrl}/lti/register?code=`);
    expect(await t.laurel.ctx.models.registrationLinks.countDocuments({ name: 'Demo school' })).toBe(1);
  });
});

describe('platform rotate-secret', () => {
  it('prints a new secret that signs events, while the old one still works for a day', async () => {
    const t = await startTestLaurel();
    try {
      const platform = await registerTestPlatform(t);
      const { io, out } = capture({
        NODE_ENV: 'production',
        MONGODB_URI: t.db.uri,
        ENCRYPTION_KEY: DEV_DEFAULTS.ENCRYPTION_KEY,
      });
      expect(await runCli(['platform', 'rotate-secret', platform.id, '--json'], io)).toBe(0);
      const { webhookSecret } = JSON.parse(out[0]!) as { webhookSecret: string };
      expect(webhookSecret).toMatch(/^[0-9a-f]{64}$/);
      expect(webhookSecret).not.toBe(platform.webhookSecret);
      const stored = await t.laurel.ctx.models.platforms.findById(platform.id).lean();
      expect(t.laurel.ctx.sealer.open(stored!.webhookSecretSealed)).toBe(webhookSecret);
      expect(t.laurel.ctx.sealer.open(stored!.previousWebhookSecretSealed!)).toBe(platform.webhookSecret);
    } finally {
      await t.stop();
    }
  });
});
