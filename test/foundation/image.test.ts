/**
 * Docker cannot build here, so the production image is checked from what defines it: the Dockerfile's
 * COPY lines, .dockerignore and the TypeScript project the image compiles. The image must hold only
 * what production runs (no tests, no benchmarks) and call itself healthy only when it can serve.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

type Stage = { name: string | null; lines: string[] };
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text.replace(/\\\n\s*/g, ' ');
  for (const line of joined.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ name: from[1] ?? null, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const copies = (stage: Stage) =>
  stage.lines
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => {
      const parts = l.split(/\s+/).slice(1);
      const from = parts[0]?.startsWith('--from=') ? parts.shift()!.slice(7) : null;
      return { from, sources: parts.slice(0, -1), target: parts.at(-1)! };
    });

describe('the production image', () => {
  const [build, final] = stages(dockerfile);

  it('copies no tests or benchmarks into either stage', () => {
    for (const stage of [build!, final!])
      for (const copy of copies(stage))
        for (const source of copy.sources) expect(source).not.toMatch(/^(\.\/)?(test|bench)(\/|$)/);
  });

  it('compiles only src/ (tsconfig.build.json), so dist/ holds no compiled tests', () => {
    expect(build!.lines.join('\n')).toMatch(/tsc -p tsconfig\.build\.json/);
    const configPath = path.join(root, 'tsconfig.build.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(String(d.messageText));
        },
      },
    )!;
    expect(parsed.errors).toEqual([]);
    expect(parsed.fileNames.length).toBeGreaterThan(50);
    const outside = parsed.fileNames.filter((f) => !path.relative(root, f).startsWith(`src${path.sep}`));
    expect(outside).toEqual([]);
  });

  it('runs from the compiled code, production dependencies, views and lti/ only', () => {
    const fromContext = copies(final!)
      .filter((c) => c.from === null)
      .flatMap((c) => c.sources);
    expect(fromContext.sort()).toEqual(['lti', 'package.json', 'views']);
    const fromBuild = copies(final!)
      .filter((c) => c.from === 'build')
      .flatMap((c) => c.sources);
    expect(fromBuild.sort()).toEqual(['/app/dist', '/app/node_modules']);
    expect(build!.lines.join('\n')).toContain('npm prune --omit=dev');
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', 'dist']));
  });

  it('is healthy when it can serve (/readyz), not merely alive', () => {
    const check = final!.lines.find((l) => l.startsWith('HEALTHCHECK'))!;
    expect(check).toContain('/readyz');
    expect(check).not.toContain('/healthz');
  });
});

describe('npm start reads .env', () => {
  it('takes settings from .env in the working folder, with the environment winning', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'laurel-env-'));
    try {
      writeFileSync(
        path.join(dir, '.env'),
        'NODE_ENV=production\nPORT=not-a-port\nMONGODB_URI=mongodb://x\n',
      );
      const run = (env: NodeJS.ProcessEnv) =>
        spawnSync(
          process.execPath,
          [
            '--import',
            pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href,
            path.join(root, 'src/main.ts'),
          ],
          {
            cwd: dir,
            env: { PATH: process.env.PATH, ...env },
            encoding: 'utf8',
            timeout: 30_000,
          },
        );
      const fromFile = run({});
      expect(fromFile.status).toBe(1);
      expect(fromFile.stderr).toContain('PORT must be a TCP port number');
      // The environment's PORT wins; the next setting the file leaves unset is named instead.
      const fromEnv = run({ PORT: '3999' });
      expect(fromEnv.status).toBe(1);
      expect(fromEnv.stderr).not.toContain('PORT must be');
      expect(fromEnv.stderr).toMatch(
        /Invalid configuration: (PUBLIC_URL|LTI_KEY|ADMIN_API_KEY|ENCRYPTION_KEY)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
