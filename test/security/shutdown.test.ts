/** A stop (SIGTERM) logs how many running jobs finished and how many were left for another worker. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTestLaurel } from '../support/laurel.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

async function stopWhileAJobRuns(jobMs: number, graceMs: number) {
  const { lines, logger } = capture();
  const t = await startTestLaurel({ SHUTDOWN_GRACE_MS: String(graceMs) }, { logger });
  const agenda = t.laurel.queue.agenda;
  let release: () => void = () => {};
  let finished = false;
  const started = new Promise<void>((resolve) => (release = resolve));
  agenda.define('test-slow-job', async () => {
    release();
    await new Promise((r) => setTimeout(r, jobMs));
    finished = true;
  });
  await agenda.now('test-slow-job', {});
  await started;
  await t.stop();
  const line = lines.find((l) => l.msg && String(l.msg).startsWith('job queue stopped'));
  return { line, slowJobFinished: finished };
}

it('counts a job that finished within the grace period as drained', async () => {
  const { line, slowJobFinished } = await stopWhileAJobRuns(300, 5000);
  // Laurel's own start-up jobs may finish in the same drain, so at least the slow one.
  expect(slowJobFinished).toBe(true);
  expect(line).toMatchObject({ leftForAnotherWorker: 0 });
  expect(line!.drained).toBeGreaterThanOrEqual(1);
});

it('counts a job still running at the end of the grace period as left for another worker', async () => {
  const { line, slowJobFinished } = await stopWhileAJobRuns(3000, 100);
  // Laurel's own start-up jobs may still be running too on a busy machine, so at least the slow one.
  expect(slowJobFinished).toBe(false);
  expect(line!.leftForAnotherWorker).toBeGreaterThanOrEqual(1);
});
