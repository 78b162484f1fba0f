import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { courseSightingOf, personSightingOf } from '../../src/lti/claims.js';
import { courseRoleNames, launchKind, parseRole } from '../../src/lti/roles.js';
import { createApp, finishApp } from '../../src/web/app.js';
import { withDevDefaults } from '../support/dev-env.js';

const M = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const I = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#';
const S = 'http://purl.imsglobal.org/vocab/lis/v2/system/person#';
const TA = 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant';

describe('launch roles', () => {
  it.each([
    [[`${M}Instructor`], 'instructor'],
    [[TA], 'instructor'],
    [[`${M}ContentDeveloper`], 'instructor'],
    [[`${M}Learner`], 'learner'],
    [[`${I}Administrator`, `${S}User`], 'admin'],
    [[`${M}Instructor`, `${I}Administrator`, `${S}Administrator`], 'admin'],
    [[`${S}SysAdmin`], 'admin'],
    // Canvas: a teacher elsewhere, a student here.
    [[`${I}Instructor`, `${M}Learner`, `${S}User`], 'learner'],
    [[`${I}Student`, `${M}Learner`, `${S}User`], 'learner'],
    [[`${M}Mentor`], 'learner'],
    [[], 'learner'],
    [['Instructor'], 'instructor'],
    [['urn:lti:role:ims/lis/TeachingAssistant'], 'instructor'],
    [['urn:lti:instrole:ims/lis/Administrator'], 'admin'],
    [['http://example.edu/roles#Wizard'], 'learner'],
  ] as const)('%j → %s', (roles, kind) => {
    expect(launchKind(roles)).toBe(kind);
  });

  it('parses sub-roles and keeps the course roles in short form', () => {
    expect(parseRole(TA)).toEqual({ scope: 'membership', role: 'Instructor', sub: 'TeachingAssistant' });
    expect(courseRoleNames([`${I}Instructor`, `${M}Learner`, TA, `${S}User`])).toEqual([
      'Learner',
      'TeachingAssistant',
    ]);
  });
});

describe('identity from claims', () => {
  const base = {
    sub: 'u-1',
    name: 'Ada Lovelace',
    email: 'ada@example.edu',
    'https://purl.imsglobal.org/spec/lti/claim/context': { id: 'ctx-9', title: 'Chemistry', label: 'CHEM' },
    'https://purl.imsglobal.org/spec/lti/claim/roles': [`${M}Learner`],
  };

  it('takes Canvas ids from the custom parameters and ignores unsubstituted variables', () => {
    const claims = {
      ...base,
      'https://purl.imsglobal.org/spec/lti/claim/custom': {
        canvas_course_id: '310',
        canvas_user_id: '$Canvas.user.id',
        canvas_user_global_id: '10000000000100',
      },
    };
    expect(courseSightingOf(claims, 'canvas')).toEqual({
      contextId: 'ctx-9',
      lmsCourseId: '310',
      title: 'Chemistry',
      label: 'CHEM',
    });
    expect(personSightingOf(claims, 'canvas')).toMatchObject({
      sub: 'u-1',
      lmsUserId: null,
      otherIds: ['10000000000100', null],
      roles: ['Learner'],
    });
  });

  it("uses Moodle's context id as the course id and its sub as the user id when no custom parameter says", () => {
    expect(courseSightingOf(base, 'moodle')).toMatchObject({ contextId: 'ctx-9', lmsCourseId: 'ctx-9' });
    expect(personSightingOf(base, 'moodle')).toMatchObject({ sub: 'u-1', lmsUserId: 'u-1' });
    const { ['https://purl.imsglobal.org/spec/lti/claim/context']: _context, ...noContext } = base;
    expect(courseSightingOf(noContext, 'moodle')).toBeNull();
  });
});

describe('request logs', () => {
  it('never contain the ltik of a course page URL', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = loadConfig(
      withDevDefaults({ NODE_ENV: 'test', MONGODB_URI: 'mongodb://127.0.0.1:1/x' }).env,
    );
    const logger = pino({ level: 'info' }, sink);
    const app = createApp({ config, logger, checkReady: async () => ({}) });
    finishApp(app, logger);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/nothing?ltik=secret-launch-token&x=1`);
      expect(res.status).toBe(404);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      await new Promise((r) => server.close(r));
    }
    const log = lines.join('');
    expect(log).toContain('/nothing?ltik=[redacted]&x=1');
    expect(log).not.toContain('secret-launch-token');
  });
});
