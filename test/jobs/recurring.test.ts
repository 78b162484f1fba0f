/**
 * Recurring jobs are scheduled by every worker as it starts. A worker starting while another runs a
 * recurring job must not unlock that run (Agenda's every() would), or a third worker could start the
 * same job beside it.
 */
import mongoose from 'mongoose';
import { pino } from 'pino';
import { createJobQueue, type JobQueue } from '../../src/jobs/queue.js';
import { scheduleRecurring } from '../../src/jobs/recurring.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let connection: mongoose.Connection;
let queue: JobQueue;
const jobs = () => connection.db!.collection('agendaJobs');

beforeAll(async () => {
  db = await startTestDatabase();
  connection = await mongoose.createConnection(db.uri).asPromise();
  queue = createJobQueue(connection, { processEveryMs: 60_000, logger: pino({ level: 'silent' }) });
  await queue.agenda.ready;
});
afterAll(async () => {
  await queue.stop(0);
  await connection.close();
  await db.stop();
});

const wanted = [
  { name: 'laurel-test-a', every: '1 minute' },
  { name: 'laurel-test-b', every: '15 minutes' },
];

it('schedules each job once, and leaves a running job locked when a worker starts again', async () => {
  await scheduleRecurring(queue.agenda, wanted);
  const first = await jobs()
    .find({ name: { $in: ['laurel-test-a', 'laurel-test-b'] } })
    .toArray();
  expect(first.map((j) => [j.name, j.type, j.repeatInterval]).sort()).toEqual([
    ['laurel-test-a', 'single', '1 minute'],
    ['laurel-test-b', 'single', '15 minutes'],
  ]);

  // Another worker is running job a: its lock is set.
  const lockedAt = new Date();
  await jobs().updateOne({ name: 'laurel-test-a' }, { $set: { lockedAt } });
  await scheduleRecurring(queue.agenda, wanted);
  const a = await jobs().findOne({ name: 'laurel-test-a' });
  expect(a?.lockedAt).toEqual(lockedAt);
  expect(await jobs().countDocuments({ name: { $in: ['laurel-test-a', 'laurel-test-b'] } })).toBe(2);
});

it("reschedules a job whose interval changed (a new release's)", async () => {
  await scheduleRecurring(queue.agenda, [{ name: 'laurel-test-b', every: '5 minutes' }]);
  const b = await jobs().find({ name: 'laurel-test-b' }).toArray();
  expect(b.map((j) => j.repeatInterval)).toEqual(['5 minutes']);
});

it('Agenda alone would unlock the running job (why scheduleRecurring exists)', async () => {
  const lockedAt = new Date();
  await jobs().updateOne({ name: 'laurel-test-a' }, { $set: { lockedAt } });
  await queue.agenda.every('1 minute', 'laurel-test-a', {});
  expect((await jobs().findOne({ name: 'laurel-test-a' }))?.lockedAt).toBeNull();
});
