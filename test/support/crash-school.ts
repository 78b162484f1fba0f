import { Types } from 'mongoose';
import type { CredentialDoc } from '../../src/db/models/credential.js';
import { defaultProviderDeps } from '../../src/providers/http.js';
import { syncTemplates } from '../../src/providers/sync.js';
import { activateSynced } from '../providers/helpers.js';
import { admin, event, registerTestPlatform, sendEvents, type TestPlatformRecord } from './api.js';
import { FakeAccredible } from './fakes/accredible.js';
import { FakeCredly } from './fakes/credly.js';
import { startHttpGate, type HttpGate } from './http-gate.js';
import { startTestLaurel, type TestLaurel } from './laurel.js';
import { startWireGate, type WireCommand, type WireGate } from './wire-gate.js';
import { spawnWorker, waitFor, type WorkerProcess } from './worker-process.js';

/**
 * A school for the worker-crash tests: Laurel's web process in the test (it takes the events and
 * answers the admin API), workers as separate processes reaching the database through a wire gate
 * (so a test can stop one at a chosen write), and Credly and Accredible stand-ins behind HTTP gates
 * (so a test can hold an answer). One course badge issued locally (OB 3.0) and one badge of each
 * service, all earned by completing the course.
 */
export type CrashSchool = {
  t: TestLaurel;
  wire: WireGate;
  credly: FakeCredly;
  accredible: FakeAccredible;
  credlyGate: HttpGate;
  accredibleGate: HttpGate;
  platform: TestPlatformRecord & { oid: Types.ObjectId };
  templates: { local: string; credly: string; accredible: string };
  worker(): Promise<WorkerProcess>;
  /**
   * Resolves once no claim of a killed worker holds: the events, credentials and service calls it
   * claimed, and its Agenda job locks. A worker started then takes the work up in its first runs (one
   * started sooner does at the next recurring run, a minute later).
   */
  claimsLapsed(): Promise<void>;
  complete(learners: number): Promise<void>;
  credentials(): Promise<CredentialDoc[]>;
  close(): Promise<void>;
};

/**
 * Short leases, so a dead worker's work is taken up within seconds; long enough that a worker stopped
 * at a write keeps its claims until the test kills it (a new worker takes about as long to start).
 */
export const CLAIM_LEASE_MS = 12_000;
/** Local issuing signs this many credentials a run in the workers, so a kill can land between two runs. */
export const ISSUE_BATCH_SIZE = 50;
export const JOBS_LOCK_LIFETIME_MS = 12_000;

export async function openCrashSchool(): Promise<CrashSchool> {
  const t = await startTestLaurel({ LAUREL_ROLE: 'web' });
  const target = new URL(t.db.uri);
  const wire = await startWireGate({ host: target.hostname, port: Number(target.port || 27017) });
  const credly = new FakeCredly();
  const accredible = new FakeAccredible();
  await credly.start();
  await accredible.start();
  const credlyGate = await startHttpGate(credly.url);
  const accredibleGate = await startHttpGate(accredible.url);
  const workers: WorkerProcess[] = [];

  const registered = await registerTestPlatform(t);
  const platform = { ...registered, oid: new Types.ObjectId(registered.id) };
  const saved = [
    await admin(t, 'PUT', `/platforms/${platform.id}/providers/credly`, {
      organizationId: credly.organizationId,
      authToken: credly.token,
      environment: 'sandbox',
      baseUrl: `${credlyGate.url}/v1`,
    }),
    await admin(t, 'PUT', `/platforms/${platform.id}/providers/accredible`, {
      apiKey: accredible.apiKey,
      environment: 'eu',
      baseUrl: accredibleGate.url,
    }),
  ];
  if (saved.some((s) => s.status !== 200)) throw new Error(`provider settings: ${JSON.stringify(saved)}`);
  const credlyTemplate = credly.addTemplate({ name: 'Finisher (Credly)' });
  const group = accredible.addGroup({ course_name: 'Finisher (Accredible)' });
  const deps = defaultProviderDeps(t.laurel.ctx);
  await syncTemplates(t.laurel.ctx, platform.oid, 'credly', deps);
  await syncTemplates(t.laurel.ctx, platform.oid, 'accredible', deps);
  const synced = async (externalId: string) =>
    String(
      (await t.laurel.ctx.models.templates.findOne({ platformId: platform.oid, externalId }).lean())!._id,
    );
  const templates = {
    credly: await synced(credlyTemplate.id),
    accredible: await synced(String(group.id)),
    local: '',
  };
  await activateSynced(t, templates.credly);
  await activateSynced(t, templates.accredible);
  const local = await admin(t, 'POST', '/templates', {
    platformId: platform.id,
    courseId: 'crash-101',
    name: 'Finisher',
    groups: [{ requirements: [{ event: 'course.completed' }] }],
  });
  templates.local = local.body.id as string;
  if ((await admin(t, 'POST', `/templates/${templates.local}/activate`)).status !== 200)
    throw new Error('the local template did not activate');

  return {
    t,
    wire,
    credly,
    accredible,
    credlyGate,
    accredibleGate,
    platform,
    templates,
    async worker() {
      const w = spawnWorker({
        MONGODB_URI: wire.uri(t.db.uri),
        PUBLIC_URL: t.laurel.config.publicUrl,
        CLAIM_LEASE_MS: String(CLAIM_LEASE_MS),
        ISSUE_BATCH_SIZE: String(ISSUE_BATCH_SIZE),
        JOBS_LOCK_LIFETIME_MS: String(JOBS_LOCK_LIFETIME_MS),
      });
      workers.push(w);
      await w.ready;
      return w;
    },
    async claimsLapsed() {
      const { models } = t.laurel.ctx;
      const jobs = t.laurel.connection.db!.collection('agendaJobs');
      await waitFor(
        'the killed worker’s claims and job locks to lapse',
        async () => {
          const now = new Date();
          const [events, credentials, locked] = await Promise.all([
            models.events.countDocuments({ lockedUntil: { $gt: now } }),
            models.credentials.countDocuments({ issuingUntil: { $gt: now } }),
            jobs.countDocuments({ lockedAt: { $gt: new Date(now.getTime() - JOBS_LOCK_LIFETIME_MS) } }),
          ]);
          return events + credentials + locked === 0;
        },
        CLAIM_LEASE_MS + JOBS_LOCK_LIFETIME_MS + 10_000,
      );
    },
    async complete(learners) {
      const sent = await sendEvents(t, platform.webhookSecret, {
        events: Array.from({ length: learners }, (_, n) =>
          event(platform.id, {
            id: `crash-done-${n}`,
            type: 'course.completed',
            course: { id: 'crash-101' },
            user: { id: `c${n}`, email: `finisher${n}@example.edu`, name: `Finisher Number${n}` },
            data: {},
          }),
        ),
      });
      if (sent.body?.stored !== learners) throw new Error(`events not stored: ${JSON.stringify(sent.body)}`);
    },
    credentials: () =>
      t.laurel.ctx.models.credentials.find({ platformId: platform.oid }).lean<CredentialDoc[]>(),
    async close() {
      for (const w of workers) await w.kill();
      await credlyGate.close();
      await accredibleGate.close();
      await credly.stop();
      await accredible.stop();
      await wire.close();
      await t.stop();
    },
  };
}

/** A bulk write's updates, wherever the driver put them (the body, or a document sequence). */
export function updatesOf(command: WireCommand): { q: unknown; u: Record<string, any> }[] {
  return (command.sequences.updates ?? command.body.updates ?? []) as {
    q: unknown;
    u: Record<string, any>;
  }[];
}
