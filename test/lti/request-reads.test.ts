/**
 * A course page's shared read of its platform and session (requestReads.ts) when the database fails:
 * whoever awaits it gets the error, and the platform kept for the request's other readers leaves no
 * unhandled rejection behind (in production that would end the process).
 */
import type { Request } from 'express';
import type { Context } from '../../src/context.js';
import type { LtiDatabase } from '../../src/lti/database.js';
import { platformForRequest, sessionReadsForRequest } from '../../src/lti/requestReads.js';

const session = {
  platformUrl: 'https://lms.example.edu',
  clientId: 'client-1',
  deploymentId: '1',
  contextId: 'ctx',
  user: 'u1',
};

function failingDatabase(): { ctx: Context; lti: LtiDatabase; aggregates: () => number } {
  let aggregates = 0;
  const unreachable = new Error('connection to the database refused');
  const ctx = {
    models: {
      platforms: {
        collection: {
          aggregate: () => {
            aggregates++;
            return { toArray: () => Promise.reject(unreachable) };
          },
        },
      },
    },
  } as unknown as Context;
  const lti = { sessionTokensLookups: () => [] } as unknown as LtiDatabase;
  return { ctx, lti, aggregates: () => aggregates };
}

it("passes a failed read to its reader and leaves no unhandled rejection for the request's platform", async () => {
  const { ctx, lti, aggregates } = failingDatabase();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const req = {} as Request;
    await expect(sessionReadsForRequest(ctx, req, lti, session)).rejects.toThrow('refused');
    // Read once per request: the second reader shares the first read (and its failure).
    await expect(sessionReadsForRequest(ctx, req, lti, session)).rejects.toThrow('refused');
    expect(aggregates()).toBe(1);
    // Let unhandled rejections surface (Node reports them after the microtask queue drains).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
    // The request's platform, asked for after all, still reports the failure.
    await expect(platformForRequest(ctx, req, session.platformUrl, session.clientId)).rejects.toThrow(
      'refused',
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
