/**
 * Input that ltijs would turn into a cookie name, a database filter or a header: refused with a 400 in
 * Laurel's error shape before ltijs sees it, and the process keeps answering afterwards.
 */
import request from 'supertest';
import { startTestLaurel, type TestLaurel } from '../support/laurel.js';

let t: TestLaurel;
beforeAll(async () => {
  t = await startTestLaurel();
});
afterAll(async () => {
  await t?.stop();
});

const stillAnswers = async () => {
  const health = await request(t.url).get('/healthz');
  expect(health.status).toBe(200);
};

describe('malformed LTI requests', () => {
  const badStates: [string, string][] = [
    ['a space', 'state=a%20b'],
    ['a semicolon', 'state=a%3Bb'],
    ['a NUL', 'state=a%00b'],
    ['non-ASCII', 'state=%C3%A9t%C3%A9'],
    ['repeated (an array)', 'state=a&state=b'],
  ];
  it.each(badStates)('a state with %s is refused with 400 and the process lives on', async (_what, body) => {
    for (const path of ['/lti/launch', '/lti/anything']) {
      const res = await request(t.url)
        .post(path)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .set('Accept', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'body.state' })]),
      );
    }
    await stillAnswers();
  });

  it('a GET with a body is checked too', async () => {
    const res = await request(t.url)
      .get('/lti/launch')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Accept', 'application/json')
      .send('state=a%20b');
    expect(res.status).toBe(400);
    await stillAnswers();
  });

  it('a state sent as a JSON object (a database operator) is refused', async () => {
    const res = await request(t.url)
      .post('/lti/launch')
      .set('Accept', 'application/json')
      .send({ state: { $ne: null }, id_token: 'x.y.z' });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual(
      expect.arrayContaining([{ path: 'body.state', message: 'must be given once, as text' }]),
    );
    await stillAnswers();
  });

  it('login parameters must be text', async () => {
    const res = await request(t.url)
      .post('/lti/login')
      .set('Accept', 'application/json')
      .send({ iss: ['https://a', 'https://b'], login_hint: 'x', target_link_uri: { a: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'body.iss',
      'body.target_link_uri',
    ]);
    await stillAnswers();
  });

  it('an ltik that is not a token is refused before ltijs reads it', async () => {
    const res = await request(t.url)
      .get('/lti/launch?ltik=not%20a%20token')
      .set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a browser gets the refusal as a page', async () => {
    const res = await request(t.url)
      .post('/lti/launch')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Accept', 'text/html')
      .send('state=a%20b');
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('body.state');
  });

  it("ltijs's own errors answer in Laurel's error shape", async () => {
    // ltijs answers an undecodable path itself, before any handler of Laurel's.
    const res = await request(t.url).get('/lti/%E0%A4%A').set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['details', 'error', 'message']);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a valid-looking but unknown state still ends in an answer, not an exit', async () => {
    const res = await request(t.url)
      .post('/lti/launch')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Accept', 'application/json')
      .send('state=abc123&id_token=e30.e30.sig');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await stillAnswers();
  });
});
