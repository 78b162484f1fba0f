import { spawn } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { admin } from '../support/api.js';
import { withDevDefaults } from '../support/dev-env.js';
import type { TestLaurel } from '../support/laurel.js';
import { launch, startTestPlatform, type TestPlatform } from '../support/lms-platform/index.js';
import { startLaurelForLti } from './helpers.js';

describe('CLI: platform add, list, remove', () => {
  let t: TestLaurel;
  let platform: TestPlatform;
  const out: string[] = [];
  const err: string[] = [];
  const io = () => ({
    env: withDevDefaults({ NODE_ENV: 'test', MONGODB_URI: t.db.uri, PUBLIC_URL: t.laurel.config.publicUrl })
      .env,
    out: (line: string) => out.push(line),
    err: (line: string) => err.push(line),
  });
  const flagsOf = (info: ReturnType<TestPlatform['registrationInfo']>) => [
    '--name',
    info.name,
    '--lms',
    info.lms,
    '--issuer',
    info.issuer,
    '--client-id',
    info.clientId,
    '--auth-login-url',
    info.authLoginUrl,
    '--auth-token-url',
    info.authTokenUrl,
    '--jwks-url',
    info.jwksUrl,
    ...info.deploymentIds.flatMap((d) => ['--deployment-id', d]),
  ];

  beforeAll(async () => {
    t = await startLaurelForLti();
    platform = await startTestPlatform({
      toolUrl: t.laurel.config.publicUrl,
      flavour: 'moodle',
      seedDemo: true,
    });
  });
  afterAll(async () => {
    await platform?.close();
    await t?.stop();
  });
  beforeEach(() => {
    out.length = 0;
    err.length = 0;
  });

  it('adds a platform to both stores, prints the webhook secret once, and the platform then launches', async () => {
    const code = await runCli(['platform', 'add', ...flagsOf(platform.registrationInfo())], io());
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const secret = /Webhook secret[^:]*: ([0-9a-f]{64})$/.exec(out.join('\n'))?.[1];
    expect(secret).toBeTruthy();
    const listed = await admin(t, 'GET', '/platforms');
    const stored = listed.body.items.find((p: any) => p.issuer === platform.issuer);
    expect(stored).toMatchObject({
      clientId: platform.clientId,
      registeredBy: 'cli',
      deploymentIds: [platform.deploymentId],
    });
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const page = await launch(platform, {
      courseId: platform.demo!.courses.chemistry.id,
      sub: platform.demo!.users.ada.sub,
    });
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toBe('/course/learner');

    // A new installation in the LMS brings a deployment id Laurel refuses until it is added.
    const chemistry = platform.demo!.courses.chemistry.id;
    const other = { courseId: chemistry, sub: platform.demo!.users.ada.sub, deploymentId: 'second-install' };
    expect((await launch(platform, other)).status).toBe(403);
    expect(await runCli(['platform', 'add-deployment', stored.id, 'second-install'], io())).toBe(0);
    expect(out.at(-1)).toContain('second-install');
    expect((await launch(platform, other)).status).toBe(200);

    out.length = 0;
    expect(await runCli(['platform', 'list', '--json'], io())).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: stored.id })]),
    );

    // The same issuer and client id twice is a conflict, as in the API.
    expect(await runCli(['platform', 'add', ...flagsOf(platform.registrationInfo())], io())).toBe(1);
    expect(err.join('\n')).toMatch(/already registered/);

    out.length = 0;
    expect(await runCli(['platform', 'remove', stored.id], io())).toBe(0);
    expect(await t.laurel.lti.db.Get(false, 'platform', { platformUrl: platform.issuer })).toBe(false);
    const after = await launch(platform, {
      courseId: platform.demo!.courses.chemistry.id,
      sub: platform.demo!.users.ada.sub,
    });
    expect(after.status).toBe(401);
    expect(await runCli(['platform', 'remove', stored.id], io())).toBe(1);
  });

  it('refuses bad flags with exit code 2, naming them, before touching the database', async () => {
    const info = platform.registrationInfo();
    const bad = flagsOf({ ...info, lms: 'blackboard' as never, jwksUrl: 'not a url' });
    expect(await runCli(['platform', 'add', ...bad], { ...io(), env: {} })).toBe(2);
    expect(err[0]).toContain('--lms');
    expect(err[0]).toContain('--jwks-url');
    err.length = 0;
    expect(await runCli(['platform', 'add', '--name', 'X'], { ...io(), env: {} })).toBe(2);
    expect(err[0]).toMatch(/Missing .*--lms.*--issuer.*--client-id/);
    err.length = 0;
    expect(await runCli(['platform', 'add', '--colour', 'red'], { ...io(), env: {} })).toBe(2);
    expect(err[0]).toContain('--colour');
    expect(await runCli(['platform', 'frobnicate'], { ...io(), env: {} })).toBe(2);
  });

  it('runs as `npm run cli` does (tsx), with exit code 2 for bad input', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(
      path.join(root, 'node_modules/.bin/tsx'),
      ['src/cli.ts', 'platform', 'add', '--lms', 'nope'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/Missing --name/);
    expect(stderr).toContain('Usage:');
  });
});
