/**
 * Deep Linking 2.0 return endpoint: verifies the tool's LtiDeepLinkingResponse JWT (posted as the `JWT` form
 * field) with the tool's JWKS, then adds the returned resource links (and their line items) to the course.
 */
import { Router, type Request, type Response } from 'express';
import { PATHS, type PlatformContext } from './context.js';
import { messagePage } from './html.js';
import { decodeJwt, JwtCheckError, verifyWithJwks } from './keys.js';
import { CLAIM, type DeepLinkResponseRecord } from './types.js';

class Refused extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function accept(ctx: PlatformContext, token: string | undefined): Promise<DeepLinkResponseRecord> {
  if (!token) throw new Refused('invalid_request', 'the JWT form field is missing');
  let iss: unknown;
  try {
    iss = decodeJwt(token).payload.iss;
  } catch {
    throw new Refused('invalid_request', 'JWT is not a JSON Web Token');
  }
  const client = typeof iss === 'string' ? ctx.store.clients.get(iss) : undefined;
  if (!client)
    throw new Refused('invalid_client', `iss "${String(iss)}" is not the client id of a registered tool`);
  let payload: Record<string, unknown>;
  try {
    payload = await verifyWithJwks(token, client.jwksUri, { audience: ctx.issuer });
  } catch (err) {
    const e = err as JwtCheckError;
    throw new Refused(e.code ?? 'invalid_token', e.message);
  }
  if (!text(payload.nonce)) throw new Refused('invalid_request', 'nonce is required');
  if (payload[CLAIM.messageType] !== 'LtiDeepLinkingResponse') {
    throw new Refused('invalid_request', 'message_type must be LtiDeepLinkingResponse');
  }
  if (payload[CLAIM.version] !== '1.3.0') throw new Refused('invalid_request', 'version must be 1.3.0');
  const deploymentId = text(payload[CLAIM.deploymentId]);
  if (!deploymentId || !client.deploymentIds.includes(deploymentId)) {
    throw new Refused(
      'invalid_request',
      `deployment_id "${deploymentId ?? ''}" is not a deployment of this tool`,
    );
  }
  const data = text(payload[CLAIM.dlData]);
  const request = data ? ctx.store.deepLinkRequests.get(data) : undefined;
  if (!data || !request || request.clientId !== client.clientId || request.expiresAt < Date.now()) {
    throw new Refused('invalid_request', 'the data claim does not echo a deep-linking request of this tool');
  }
  if (request.deploymentId !== deploymentId) {
    throw new Refused('invalid_request', 'deployment_id differs from the one of the deep-linking request');
  }
  const rawItems = payload[CLAIM.dlContentItems] ?? [];
  if (!Array.isArray(rawItems) || rawItems.some((i) => typeof i !== 'object' || i === null)) {
    throw new Refused('invalid_request', 'content_items must be an array of objects');
  }
  ctx.store.deepLinkRequests.delete(data);

  const contentItems = rawItems as Record<string, unknown>[];
  const created: DeepLinkResponseRecord['created'] = [];
  for (const item of contentItems) {
    if (item.type !== 'ltiResourceLink') continue;
    const title = text(item.title) ?? 'Laurel';
    const link = ctx.store.addResourceLink({
      courseId: request.courseId,
      clientId: client.clientId,
      title,
      ...(text(item.text) ? { description: text(item.text) } : {}),
      ...(text(item.url) ? { url: text(item.url) } : {}),
      ...(isStringMap(item.custom) ? { custom: item.custom } : {}),
    });
    const li = item.lineItem as Record<string, unknown> | undefined;
    if (li && typeof li.scoreMaximum === 'number' && li.scoreMaximum > 0) {
      const lineItem = ctx.store.addLineItem(request.courseId, {
        label: text(li.label) ?? title,
        scoreMaximum: li.scoreMaximum,
        resourceLinkId: link.id,
        ...(text(li.resourceId) ? { resourceId: text(li.resourceId) } : {}),
        ...(text(li.tag) ? { tag: text(li.tag) } : {}),
        clientId: client.clientId,
      });
      link.lineItemId = lineItem.id;
    }
    created.push({
      resourceLinkId: link.id,
      title,
      ...(link.lineItemId ? { lineItemId: link.lineItemId } : {}),
    });
  }
  const record: DeepLinkResponseRecord = {
    clientId: client.clientId,
    deploymentId,
    courseId: request.courseId,
    contentItems,
    created,
    payload,
  };
  for (const [key, claim] of [
    ['msg', CLAIM.dlMsg],
    ['log', CLAIM.dlLog],
    ['errormsg', CLAIM.dlErrorMsg],
    ['errorlog', CLAIM.dlErrorLog],
  ] as const) {
    const value = text(payload[claim]);
    if (value) record[key] = value;
  }
  ctx.store.deepLinkResponses.push(record);
  return record;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * The answer to a deep-linking return. Moodle's (contentitem_return.php) hands the items to the page
 * around the frame it loads in, which fails, as in Moodle, when that page is not Moodle's form (a new
 * window has none): `processContentItemReturnData is not a function`, shown here.
 */
function returnPage(ctx: PlatformContext, record: DeepLinkResponseRecord, title: string, message: string) {
  if (ctx.profile.flavour !== 'moodle') return messagePage(title, message);
  const items = JSON.stringify(record.created.map((c) => ({ title: c.title }))).replace(/</g, '\\u003c');
  return messagePage(title, message).replace(
    '</main>',
    '<p id="moodle-error" role="alert" hidden></p></main><script>(function(){var items=' +
      items +
      ';try{window.parent.processContentItemReturnData(items);}catch(e){' +
      "var box=document.getElementById('moodle-error');box.hidden=false;" +
      "box.textContent='Moodle: window.processContentItemReturnData is not a function';}})();</script>",
  );
}

export function deepLinkingRouter(ctx: PlatformContext): Router {
  const router = Router();
  router.post(PATHS.deepLinkReturn, async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const record = await accept(ctx, text(body.JWT));
      const titles = record.created.map((c) => c.title);
      const message =
        titles.length > 0
          ? `Added ${titles.length === 1 ? '' : `${titles.length} items: `}${titles.join(', ')}`
          : (record.errormsg ?? record.msg ?? 'Nothing was added');
      res.type('html').send(returnPage(ctx, record, titles.length > 0 ? 'Added' : 'Nothing added', message));
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      ctx.store.refuse(PATHS.deepLinkReturn, err.error, err.message);
      res
        .status(400)
        .type('html')
        .send(messagePage('Content refused', `${err.error}: ${err.message}`));
    }
  });
  return router;
}
