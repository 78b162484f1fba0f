/** Connection-level commands: the handshake (a standalone mongod 7.0), ping, buildInfo, sessions. */
import type { Document } from 'bson';
import { fail } from '../errors.js';
import { MAX_MESSAGE_SIZE } from '../wire.js';
import { checkFields, truthy } from '../validate.js';
import type { CommandContext, Handler } from './types.js';

const VERSION = '7.0.0';
const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

/**
 * hello and the legacy isMaster/ismaster (in replica-set mode with the member's fields,
 * replica-set.ts). No topologyVersion is reported, so drivers poll
 * instead of holding a streaming (exhaust) monitor connection; no compression is offered.
 */
function hello(ctx: CommandContext): Document {
  const legacy = ctx.name !== 'hello';
  const reply: Document = legacy ? { ismaster: true } : { isWritablePrimary: true };
  if (truthy(ctx.body.helloOk)) reply.helloOk = true;
  if (ctx.replica) {
    const { isWritablePrimary, ...member } = ctx.replica.set.helloFields();
    if (legacy) reply.ismaster = isWritablePrimary;
    else reply.isWritablePrimary = isWritablePrimary;
    Object.assign(reply, member);
  }
  return {
    ...reply,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

function buildInfo(): Document {
  return {
    version: VERSION,
    gitVersion: 'laurel-test-engine',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    javascriptEngine: 'none',
    storageEngines: ['laurel-in-memory'],
    modules: [],
    ok: 1,
  };
}

function getParameter(ctx: CommandContext): Document {
  const asked = Object.keys(ctx.body).filter((k) => k !== ctx.name && !k.startsWith('$') && k !== 'lsid');
  if (asked.length === 1 && asked[0] === 'featureCompatibilityVersion') {
    return { featureCompatibilityVersion: { version: '7.0' }, ok: 1 };
  }
  fail(
    72,
    `no option found to get (the test engine knows only featureCompatibilityVersion; asked: ${asked.join(', ')})`,
  );
}

function sessions(ctx: CommandContext): Document {
  // Sessions are accepted and forgotten: nothing here is session-scoped.
  checkFields(ctx.name, ctx.body, {}, { generic: true, skip: ctx.name });
  return { ok: 1 };
}

export const handshakeCommands: Record<string, Handler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions: sessions,
  killSessions: sessions,
  killAllSessions: sessions,
  refreshSessions: sessions,
};
