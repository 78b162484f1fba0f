/**
 * Above info (production's usual `LOG_LEVEL=warn`) the request logger writes no line per request
 * and makes a request's logger only when something logs through it: a failure is still logged
 * with its request (id, redacted URL), and every answer still carries its X-Request-Id.
 */
import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { finishApp } from '../../src/web/app.js';
import { requestLogger } from '../../src/web/requestLog.js';

function appLoggingTo(level: string) {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level }, sink);
  const app = express();
  app.use(requestLogger(logger));
  app.get('/fine', (_req, res) => {
    res.send('fine');
  });
  app.get('/broken', () => {
    throw new Error('the handler broke');
  });
  finishApp(app, logger);
  return { app, lines };
}

describe('the request logger above info', () => {
  it('writes nothing for a request that succeeds, and still gives it a request id', async () => {
    const { app, lines } = appLoggingTo('warn');
    const res = await request(app).get('/fine?ltik=secret-launch-token');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await request(app).get('/fine').set('X-Request-Id', 'probe-42');
    expect(given.headers['x-request-id']).toBe('probe-42');
    expect(lines).toEqual([]);
  });

  it('logs a failure with its request: the id it answered with and the URL without its tokens', async () => {
    const { app, lines } = appLoggingTo('warn');
    const res = await request(app)
      .get('/broken?ltik=secret-launch-token&page=2')
      .set('Accept', 'application/json');
    expect(res.status).toBe(500);
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line!.msg).toBe('request failed');
    expect(line!.req).toMatchObject({
      id: res.headers['x-request-id'],
      method: 'GET',
      url: '/broken?ltik=[redacted]&page=2',
    });
    expect(JSON.stringify(line)).not.toContain('secret-launch-token');
  });

  it('at info writes one line per request, as before', async () => {
    const { app, lines } = appLoggingTo('info');
    await request(app).get('/fine?ltik=secret-launch-token');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.req.url).toBe('/fine?ltik=[redacted]');
    expect(lines[0]!.res.statusCode).toBe(200);
  });
});
