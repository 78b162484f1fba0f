/** The driver carries cookies as a browser would: SameSite in frames and windows, third-party blocking. */
import { launch } from '../support/lms-platform/index.js';
import { startRig, type Rig } from './helpers.js';

describe('cookies across the launch', () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await startRig('moodle');
  });
  afterEach(() => rig.close());

  test('SameSite=None; Secure cookies work in the LMS iframe (localhost counts as secure)', async () => {
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, mode: 'iframe' });
    expect(result.status).toBe(200);
    expect(result.jar.rejected).toEqual([]);
    const launchPost = result.trace.find((t) => t.method === 'POST' && t.url.endsWith('/lti/launch'))!;
    expect(launchPost.crossSite).toBe(true);
    expect(launchPost.sentCookies).toContain('tool_state_');
  });

  test('cookies without SameSite break an iframe launch but not a new-window launch', async () => {
    rig.tool.cookieAttributes = 'Path=/; HttpOnly';
    const framed = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, mode: 'iframe' });
    expect(framed.status).toBe(401);
    expect(framed.body).toContain('state cookie missing');
    expect(framed.jar.rejected[0].reason).toContain('cross-site frame');

    const windowed = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, mode: 'window' });
    expect(windowed.status).toBe(200);
    expect(windowed.body).toContain('Learner view');
  });

  test('SameSite=Lax cookies do not travel on the cross-site POST of the id_token, even at top level', async () => {
    rig.tool.cookieAttributes = 'Path=/; HttpOnly; SameSite=Lax';
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, mode: 'window' });
    expect(result.status).toBe(401);
    expect(result.body).toContain('state cookie missing');
  });

  test('a browser blocking third-party cookies breaks the iframe launch, not the window one', async () => {
    const framed = await launch(rig.platform, {
      courseId: rig.courseId,
      sub: rig.learner,
      blockThirdPartyCookies: true,
    });
    expect(framed.status).toBe(401);
    expect(framed.jar.rejected[0].reason).toContain('third-party');
    const windowed = await launch(rig.platform, {
      courseId: rig.courseId,
      sub: rig.learner,
      mode: 'window',
      blockThirdPartyCookies: true,
    });
    expect(windowed.status).toBe(200);
  });

  test('SameSite=None without Secure is dropped', async () => {
    rig.tool.cookieAttributes = 'Path=/; SameSite=None';
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, mode: 'window' });
    expect(result.status).toBe(401);
    expect(result.jar.rejected[0].reason).toContain('without Secure');
  });
});
