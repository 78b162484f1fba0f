import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { CredentialDoc } from '../../src/db/models/credential.js';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from './api.js';
import { withDatabase, type TestDatabase } from './database.js';
import { startTestLaurel, type TestLaurel } from './laurel.js';
import { startEngine, type CommandEvent, type Engine } from './mongo-engine/index.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

/**
 * A school for the wake-up and failover tests: the in-memory engine (a replica set, or standalone),
 * Laurel's web process in the test (it takes the events) and one worker as a separate process,
 * both on that engine. One local OB 3.0 badge, earned by completing course `wake-101`.
 */
export type ReplicaSchool = {
  engine: Engine;
  t: TestLaurel;
  platform: TestPlatformRecord & { oid: Types.ObjectId };
  worker: WorkerProcess;
  /** Every command the engine answered, in order (which client sent it: `connectionId`). */
  commands: CommandEvent[];
  /** Sends `course.completed` for learners `${prefix}0..n-1`; the answer is the HTTP status. */
  complete(learners: number, prefix: string): Promise<number>;
  credentials(): Promise<CredentialDoc[]>;
  issued(): Promise<number>;
  close(): Promise<void>;
};

export async function openReplicaSchool(options: {
  replicaSet: boolean;
  /** The web process's and the worker's JOBS_PROCESS_EVERY_MS. */
  workerPollMs: string;
  workerEnv?: Record<string, string>;
}): Promise<ReplicaSchool> {
  const commands: CommandEvent[] = [];
  const engine = await startEngine({
    ...(options.replicaSet ? { replicaSet: 'rs0' } : {}),
    onCommand: (e) => commands.push({ ...e, reply: { ok: e.reply.ok, code: e.reply.code } }),
  });
  const uri = withDatabase(engine.uri, `laurel_test_${randomBytes(6).toString('hex')}`);
  const db: TestDatabase = { uri, kind: 'engine', description: 'engine', stop: () => engine.close() };
  const t = await startTestLaurel({ LAUREL_ROLE: 'web', JOBS_PROCESS_EVERY_MS: '60000' }, { db });
  const registered = await registerTestPlatform(t);
  const platform = { ...registered, oid: new Types.ObjectId(registered.id) };
  const template = await admin(t, 'POST', '/templates', {
    platformId: platform.id,
    courseId: 'wake-101',
    name: 'Woken',
    groups: [{ requirements: [{ event: 'course.completed' }] }],
  });
  if ((await admin(t, 'POST', `/templates/${template.body.id as string}/activate`)).status !== 200)
    throw new Error('the template did not activate');
  const worker = spawnWorker({
    MONGODB_URI: uri,
    PUBLIC_URL: t.laurel.config.publicUrl,
    JOBS_PROCESS_EVERY_MS: options.workerPollMs,
    ...options.workerEnv,
  });
  await worker.ready;
  return {
    engine,
    t,
    platform,
    worker,
    commands,
    async complete(learners, prefix) {
      const sent = await sendEvents(t, platform.webhookSecret, {
        events: Array.from({ length: learners }, (_, n) =>
          event(platform.id, {
            id: `${prefix}-${n}`,
            type: 'course.completed',
            course: { id: 'wake-101' },
            user: { id: `${prefix}${n}`, email: `${prefix}${n}@example.edu`, name: `Learner ${prefix}${n}` },
            data: {},
          }),
        ),
      });
      return sent.status;
    },
    credentials: () =>
      t.laurel.ctx.models.credentials.find({ platformId: platform.oid }).lean<CredentialDoc[]>(),
    issued: () =>
      t.laurel.ctx.models.credentials.countDocuments({ platformId: platform.oid, status: 'issued' }),
    async close() {
      await worker.kill();
      await t.stop();
    },
  };
}
