/** End-to-end launches with the driver against the fake tool, and the claims each flavour puts in the id_token. */
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { CLAIM, launch, postLaunch, replay, ROLE, type Tamper } from '../support/lms-platform/index.js';
import { startRig, type Rig } from './helpers.js';

const INSTRUCTOR = `${ROLE.MEMBERSHIP}Instructor`;
const LEARNER = `${ROLE.MEMBERSHIP}Learner`;

describe.each(['moodle', 'canvas'] as const)('%s launch', (flavour) => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await startRig(flavour);
  });
  afterEach(() => rig.close());

  test('an instructor launch ends on the tool instructor page, through the whole OIDC exchange', async () => {
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.instructor });
    expect(result.status).toBe(200);
    expect(result.body).toContain('Instructor view');
    expect(result.body).toContain('Iris Instructor in Chemistry 101');
    expect(result.url).toMatch(new RegExp(`^${rig.tool.url}/lti/launch\\?session=`));
    expect(rig.tool.launches).toHaveLength(1);
    const hops = result.trace.map((t) => `${t.method} ${new URL(t.url).pathname} ${t.status}`);
    expect(hops[0]).toMatch(/^GET \/launch\/\S+ 200$/);
    expect(hops.slice(1)).toEqual([
      'POST /lti/login 302',
      'GET /auth 200',
      'POST /lti/launch 302',
      'GET /lti/launch 200',
    ]);
    expect(result.trace[1].crossSite).toBe(true);
    expect(result.cookies.map((c) => c.name)).toContain('tool_session');
    expect(result.state).toBeDefined();
  });

  test('a learner launch ends on the learner page', async () => {
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner });
    expect(result.status).toBe(200);
    expect(result.body).toContain('Learner view');
    expect(result.body).toContain('Ada Lovelace');
  });

  test('the GET variant of the login initiation also completes', async () => {
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, method: 'GET' });
    expect(result.status).toBe(200);
    expect(rig.tool.loginRequests.map((r) => r.method)).toEqual(['GET']);
  });

  test('the id_token is RS256, carries the platform kid and verifies only with the platform key', async () => {
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.instructor });
    const idToken = result.idToken!;
    const header = jwt.decode(idToken, { complete: true })!.header;
    expect(header.alg).toBe('RS256');
    expect(header.kid).toBe(rig.platform.kid);
    await expect(rig.tool.verifyIdToken(idToken)).resolves.toMatchObject({ sub: rig.instructor });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(() => jwt.verify(idToken, other, { algorithms: ['RS256'] })).toThrow('invalid signature');
  });

  test('core claims are those of an LTI 1.3 resource link launch', async () => {
    const { claims } = await launch(rig.platform, { courseId: rig.courseId, sub: rig.instructor });
    const c = claims!;
    expect(c.iss).toBe(rig.platform.issuer);
    expect(c.aud).toBe(rig.platform.clientId);
    expect(c.azp).toBe(rig.platform.clientId);
    expect(Math.abs((c.iat as number) - Date.now() / 1000)).toBeLessThan(30);
    expect(c.exp as number).toBeGreaterThan(c.iat as number);
    expect(c.nonce).toBe(rig.tool.launches[0].claims.nonce);
    expect(c[CLAIM.messageType]).toBe('LtiResourceLinkRequest');
    expect(c[CLAIM.version]).toBe('1.3.0');
    expect(c[CLAIM.deploymentId]).toBe(rig.platform.deploymentId);
    expect(c[CLAIM.targetLinkUri]).toBe(`${rig.tool.url}/lti/launch`);
    expect((c[CLAIM.resourceLink] as { id: string }).id).toBeTruthy();
    expect(c).toMatchObject({
      name: 'Iris Instructor',
      given_name: 'Iris',
      family_name: 'Instructor',
      email: 'iris@example.edu',
    });
    expect(c[CLAIM.launchPresentation]).toMatchObject({ document_target: 'iframe', locale: 'en' });
    expect((c[CLAIM.toolPlatform] as { product_family_code: string }).product_family_code).toBe(flavour);
    expect(c[CLAIM.nrps]).toMatchObject({
      context_memberships_url: rig.platform.membershipsUrl(rig.courseId),
    });
    const ags = c[CLAIM.ags] as { scope: string[]; lineitems: string };
    expect(ags.lineitems).toBe(rig.platform.lineItemsUrl(rig.courseId));
    expect(ags.scope).toHaveLength(4);
  });

  test.each<[Tamper, number, string]>([
    ['bad-signature', 401, 'invalid signature'],
    ['wrong-audience', 401, 'jwt audience invalid'],
    ['expired', 401, 'jwt expired'],
    ['no-nonce', 401, 'bad nonce'],
    ['unknown-deployment', 401, 'unknown deployment'],
  ])('tamper %s makes the tool refuse the launch', async (tamper, status, message) => {
    const result = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner, tamper });
    expect(result.status).toBe(status);
    expect(result.body).toContain(message);
    expect(rig.tool.launches).toHaveLength(0);
    expect(rig.platform.idTokensIssued.at(-1)?.tamper).toBe(tamper);
  });

  test('a replayed id_token and state are refused; so is a post without state', async () => {
    const first = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner });
    expect(first.status).toBe(200);
    const again = await replay(first);
    expect(again.status).toBe(401);
    expect(again.body).toContain('replayed launch');
    const stateless = await postLaunch(rig.platform, { idToken: first.idToken!, cookies: first.cookies });
    expect(stateless.status).toBe(400);
    expect(stateless.body).toContain('missing state');
  });
});

describe('flavour-specific claims', () => {
  let rig: Rig;
  afterEach(() => rig.close());

  test('moodle: sub is the user id, context id the course id, mod_lti roles, lis sourcedids, custom ids', async () => {
    rig = await startRig('moodle');
    const iris = rig.platform.user(rig.instructor);
    const { claims } = await launch(rig.platform, { courseId: rig.courseId, sub: iris.sub });
    const c = claims!;
    expect(c.sub).toBe(iris.lmsUserId);
    expect(c.exp as number).toBe((c.iat as number) + 60);
    expect(c[CLAIM.roles]).toEqual([INSTRUCTOR]);
    expect(c[CLAIM.context]).toEqual({
      id: rig.courseId,
      label: 'CHEM101',
      title: 'Chemistry 101',
      type: ['CourseSection'],
    });
    expect(c[CLAIM.lis]).toEqual({ person_sourcedid: 'T-1001', course_section_sourcedid: 'CHEM101-2026' });
    expect(c[CLAIM.custom]).toEqual({
      moodle_course_id: rig.courseId,
      moodle_user_id: iris.lmsUserId,
      context_memberships_url: rig.platform.membershipsUrl(rig.courseId),
    });
    expect((c[CLAIM.nrps] as { service_versions: string[] }).service_versions).toEqual(['1.0', '2.0']);
    expect((c[CLAIM.ags] as { lineitem?: string }).lineitem).toMatch(/\/line_items\/\d+$/);
    expect(c[CLAIM.ext]).toMatchObject({ user_username: 'iris' });
    expect(c[CLAIM.basicOutcome]).toBeDefined();
    expect((c[CLAIM.launchPresentation] as { return_url: string }).return_url).toContain(
      '/mod/lti/return.php',
    );
    const login = rig.tool.loginRequests[0].params;
    expect(login.login_hint).toBe(iris.lmsUserId);
    expect(JSON.parse(login.lti_message_hint)).toHaveProperty('launchid');
    expect(login).toMatchObject({
      client_id: rig.platform.clientId,
      lti_deployment_id: rig.platform.deploymentId,
    });

    const learner = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner });
    expect(learner.claims![CLAIM.roles]).toEqual([LEARNER]);
    const admin = rig.platform.addUser({ name: 'Alan Admin', admin: true });
    const adminLaunch = await launch(rig.platform, { courseId: rig.courseId, sub: admin.sub });
    expect(adminLaunch.claims![CLAIM.roles]).toEqual([
      INSTRUCTOR,
      `${ROLE.INSTITUTION}Administrator`,
      `${ROLE.SYSTEM}Administrator`,
    ]);
  });

  test('canvas: opaque sub and context id, Canvas ids as custom parameters, Canvas role sets', async () => {
    rig = await startRig('canvas');
    const iris = rig.platform.user(rig.instructor);
    const { claims } = await launch(rig.platform, { courseId: rig.courseId, sub: iris.sub });
    const c = claims!;
    expect(c.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.sub).not.toBe(iris.lmsUserId);
    const context = c[CLAIM.context] as { id: string; type: string[] };
    expect(context.id).toMatch(/^[0-9a-f]{40}$/);
    expect(context.type).toEqual(['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering']);
    expect(c[CLAIM.custom]).toEqual({
      canvas_user_id: iris.lmsUserId,
      canvas_user_global_id: String(10n ** 13n + BigInt(iris.lmsUserId)),
      canvas_course_id: rig.courseId,
      person_sourcedid: 'T-1001',
    });
    expect(c[CLAIM.roles]).toEqual([`${ROLE.INSTITUTION}Instructor`, INSTRUCTOR, `${ROLE.SYSTEM}User`]);
    expect((c[CLAIM.toolPlatform] as { guid: string }).guid).toMatch(/:canvas-lms$/);
    expect((c[CLAIM.nrps] as { service_versions: string[] }).service_versions).toEqual(['2.0']);
    expect(rig.platform.membershipsUrl(rig.courseId)).toContain('/names_and_roles');
    expect(c[CLAIM.ags]).not.toHaveProperty('lineitem');
    expect(c[CLAIM.lti11LegacyUserId]).toMatch(/^[0-9a-f]{40}$/);
    expect(c.picture).toBeDefined();
    const login = rig.tool.loginRequests[0].params;
    expect(login).toMatchObject({ canvas_region: 'us-east-1', canvas_environment: 'prod' });
    expect(login).toMatchObject({ lti_storage_target: 'post_message_forwarding' });
    expect(jwt.decode(login.lti_message_hint)).toMatchObject({
      context_type: 'Course',
      context_id: rig.courseId,
    });

    const learner = await launch(rig.platform, { courseId: rig.courseId, sub: rig.learner });
    expect(learner.claims![CLAIM.roles]).toEqual([
      `${ROLE.INSTITUTION}Student`,
      LEARNER,
      `${ROLE.SYSTEM}User`,
    ]);
  });

  test('launch options: explicit resource link, overridden claims and roles', async () => {
    rig = await startRig('canvas');
    const { claims } = await launch(rig.platform, {
      courseId: rig.courseId,
      sub: rig.learner,
      resourceLinkId: 'rl-42',
      resourceLinkTitle: 'Quiz 3',
      roles: [INSTRUCTOR],
      claims: { email: undefined, 'https://example.com/extra': 'x' },
      presentation: 'window',
    });
    expect(claims![CLAIM.resourceLink]).toMatchObject({ id: 'rl-42', title: 'Quiz 3' });
    expect(claims![CLAIM.roles]).toEqual([INSTRUCTOR]);
    expect(claims).not.toHaveProperty('email');
    expect(claims!['https://example.com/extra']).toBe('x');
    expect((claims![CLAIM.launchPresentation] as { document_target: string }).document_target).toBe('window');
  });
});
