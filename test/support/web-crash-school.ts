import type { Document } from 'mongodb';
import { freePort, startTestLaurel, type TestLaurel } from './laurel.js';
import { startWireGate, type WireCommand, type WireGate } from './wire-gate.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

/**
 * A school for the web-crash tests: Laurel's web role as a separate process (`LAUREL_ROLE=web`,
 * `src/main.ts`), reaching the database through a wire gate so that a test can stop it at a chosen
 * database write and SIGKILL it there; a new web process started on the same port and address (as an
 * orchestrator would restart it behind the same URL); and a worker in the test process
 * (`LAUREL_ROLE=worker`, straight to the database) that processes events and awards, and whose models
 * the test reads the outcome from.
 */
export type WebCrashSchool = {
  /** The worker in the test process: `t.laurel.ctx.models` are the outcome. */
  worker: TestLaurel;
  wire: WireGate;
  /** PUBLIC_URL of every web process (the same port each time). */
  url: string;
  /** The web process now running. */
  web(): WorkerProcess;
  /** The api.ts helpers' view of the web process (they read `url` only). */
  api: TestLaurel;
  /** SIGKILLs the web process and waits until it is gone. */
  killWeb(): Promise<void>;
  /** Starts a new web process at the same address; resolves once it listens. */
  startWeb(): Promise<WorkerProcess>;
  /** Stops the web process at the first command `match` names: resolves with it, held. */
  freeze(match: (c: WireCommand) => boolean): Promise<WireCommand>;
  close(): Promise<void>;
};

export async function openWebCrashSchool(): Promise<WebCrashSchool> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const worker = await startTestLaurel({ LAUREL_ROLE: 'worker', PUBLIC_URL: url });
  const target = new URL(worker.db.uri);
  const wire = await startWireGate({ host: target.hostname, port: Number(target.port || 27017) });
  const started: WorkerProcess[] = [];
  const startWeb = async () => {
    const web = spawnWorker({
      LAUREL_ROLE: 'web',
      PORT: String(port),
      MONGODB_URI: wire.uri(worker.db.uri),
      PUBLIC_URL: url,
    });
    started.push(web);
    await web.ready;
    return web;
  };
  await startWeb();
  const current = () => started[started.length - 1]!;
  return {
    worker,
    wire,
    url,
    web: current,
    api: { ...worker, url },
    killWeb: () => current().kill(),
    startWeb,
    freeze: (match) => wire.freeze(match),
    async close() {
      for (const w of started) await w.kill();
      await wire.close();
      await worker.stop();
    },
  };
}

/** A write command's first update's `$set`, wherever the driver put it. */
export function setOf(command: WireCommand): Document | undefined {
  const updates = (command.sequences.updates ?? command.body.updates) as { u?: Document }[] | undefined;
  return (updates?.[0]?.u?.$set ?? command.body.update?.$set) as Document | undefined;
}
