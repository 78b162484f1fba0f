import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Router } from 'express';
import { apiRouter } from '../../src/web/api/index.js';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';
import { admin, event, registerTestPlatform, sendEvents, settled } from '../support/api.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** Every `METHOD /path` the API router really serves, with :params written as {params}. */
function servedRoutes(router: Router): string[] {
  const out: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          out.push(`${method.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((router as any).stack);
  return out.sort();
}

describe('the OpenAPI document at /api/v1/openapi.json', () => {
  let t: TestLaurel;
  let doc: any;
  let ajv: Ajv2020;
  beforeAll(async () => {
    t = await startTestLaurel();
    const res = await fetch(`${t.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'laurel-openapi', components: doc.components });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const responseSchema = (path: string, method: string, status: number) => {
    const schema = doc.paths[path][method].responses[String(status)].content['application/json'].schema;
    // Point the document's local $refs at the schema registered above.
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"laurel-openapi#/components'));
  };
  const expectValid = (schema: unknown, body: unknown) => {
    const validate = ajv.compile(schema as object);
    const ok = validate(body);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  };

  it('documents exactly the routes the API serves', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]: [string, any]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(servedRoutes(apiRouter(t.laurel.ctx, { platformHooks: {} })));
  });

  it('describes the answers the API really gives', async () => {
    const platformAnswer = await admin(t, 'POST', '/platforms', {
      name: 'Doc LMS',
      lms: 'canvas',
      issuer: 'https://canvas.example.edu',
      clientId: '1000001',
      authLoginUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
      authTokenUrl: 'https://sso.canvaslms.com/login/oauth2/token',
      jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks',
    });
    expectValid(responseSchema('/platforms', 'post', 201), platformAnswer.body);
    const platform = await registerTestPlatform(t);
    const template = await admin(t, 'POST', '/templates', {
      platformId: platform.id,
      courseId: '101',
      name: 'Documented',
      groups: [{ requirements: [{ event: 'course.completed' }] }],
    });
    expectValid(responseSchema('/templates', 'post', 201), template.body);
    await admin(t, 'POST', `/templates/${template.body.id}/activate`);
    const events = await sendEvents(
      t,
      platform.webhookSecret,
      event(platform.id, { type: 'course.completed', data: {} }),
    );
    expectValid(responseSchema('/events', 'post', 200), events.body);
    await settled(t);
    expectValid(responseSchema('/credentials', 'get', 200), (await admin(t, 'GET', '/credentials')).body);
    expectValid(
      responseSchema('/progress', 'get', 200),
      (await admin(t, 'GET', `/progress?templateId=${template.body.id}`)).body,
    );
    expectValid(responseSchema('/templates', 'get', 200), (await admin(t, 'GET', '/templates')).body);
    // Issuing follows the award at once (in-process wake-up): wait for it, so the newest entries are known.
    for (let i = 0; i < 100; i++) {
      const list = await admin(t, 'GET', `/credentials?templateId=${template.body.id}`);
      if (list.body.items.every((c: any) => c.status === 'issued')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const audit = await admin(t, 'GET', `/audit?platformId=${platform.id}&limit=2`);
    expectValid(responseSchema('/audit', 'get', 200), audit.body);
    expect(audit.body.items.map((e: any) => e.action)).toEqual(['credential.issued', 'credential.awarded']);
    const bad = await admin(t, 'POST', '/templates', {});
    expectValid(responseSchema('/templates', 'post', 400), bad.body);
  });

  it('takes its request schemas from the validators the routes use', () => {
    const schema = doc.paths['/platforms'].post.requestBody.content['application/json'].schema;
    expect(schema.required.sort()).toEqual([
      'authLoginUrl',
      'authTokenUrl',
      'clientId',
      'issuer',
      'jwksUrl',
      'lms',
      'name',
    ]);
    expect(schema.properties.lms.enum).toEqual(['moodle', 'canvas', 'other']);
    expect(schema.additionalProperties).toBe(false);
  });
});
