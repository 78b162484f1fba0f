/**
 * The platform side of the 1EdTech LTI Client Side postMessages platform storage, as Canvas does it: the LMS
 * page around the tool's frame answers `lti.capabilities`, and a hidden frame of its own (named by
 * `lti_storage_target`, at the origin of its OIDC authorisation endpoint) answers `lti.put_data` and
 * `lti.get_data`, keeping values in its localStorage per tool origin. Both answer only the origins of the tools
 * registered here (others get a `wrong_origin` error) and reply to the asking window at its own origin.
 */
import { Router, type Request, type Response } from 'express';
import { PATHS, type PlatformContext } from './context.js';
import { page } from './html.js';

/** Ways to spoil the storage on purpose, so a tool's refusals can be tested in a browser. */
export type StorageTamper = 'forget' | 'forge';

/** Origins of the tools registered with the platform (their login and launch URLs). */
function toolOrigins(ctx: PlatformContext): string[] {
  const origins = new Set<string>();
  const add = (url: string) => {
    try {
      origins.add(new URL(url).origin);
    } catch {
      // not a URL: nothing to allow
    }
  };
  add(ctx.toolUrl);
  for (const client of ctx.store.clients.values()) {
    add(client.initiateLoginUri);
    for (const uri of client.redirectUris) add(uri);
  }
  return [...origins];
}

/** Script of the LMS page: answers lti.capabilities, naming the storage frame for put_data and get_data. */
export function capabilitiesScript(ctx: PlatformContext): string {
  if (!ctx.storageTarget) return '';
  const allowed = JSON.stringify(toolOrigins(ctx));
  const frame = JSON.stringify(ctx.storageTarget);
  return (
    '<script>(function(){var allowed=' +
    allowed +
    ';var frame=' +
    frame +
    ';window.addEventListener("message",function(e){var d=e.data;' +
    'if(!d||typeof d!=="object"||d.subject!=="lti.capabilities"||!e.source)return;' +
    'var r={subject:"lti.capabilities.response",message_id:d.message_id};' +
    'if(allowed.indexOf(e.origin)<0)r.error={code:"wrong_origin",message:"Unknown tool origin"};' +
    'else r.supported_messages=[{subject:"lti.capabilities"},{subject:"lti.put_data",frame:frame},' +
    '{subject:"lti.get_data",frame:frame}];e.source.postMessage(r,e.origin);});})();</script>'
  );
}

/** The hidden storage frame of the LMS page. */
export function storageFrame(ctx: PlatformContext): string {
  if (!ctx.storageTarget) return '';
  return (
    `<iframe name="${ctx.storageTarget}" src="${PATHS.storageFrame}" title="LMS storage for tools" ` +
    'hidden tabindex="-1"></iframe>'
  );
}

function storagePage(ctx: PlatformContext): string {
  const allowed = JSON.stringify(toolOrigins(ctx));
  const tamper = JSON.stringify(ctx.storageTamper ?? null);
  const script =
    '<script>(function(){var allowed=' +
    allowed +
    ';var tamper=' +
    tamper +
    ';window.addEventListener("message",function(e){var d=e.data;' +
    'if(!d||typeof d!=="object"||(d.subject!=="lti.put_data"&&d.subject!=="lti.get_data")||!e.source)return;' +
    'var r={subject:d.subject+".response",message_id:d.message_id};' +
    'function send(){e.source.postMessage(r,e.origin);}' +
    'if(allowed.indexOf(e.origin)<0){r.error={code:"wrong_origin",message:"Unknown tool origin"};return send();}' +
    'if(!d.key||!d.message_id){r.error={code:"bad_request",message:"key and message_id are required"};return send();}' +
    'var k="lti|platform_storage|"+e.origin+"|"+d.key;r.key=d.key;' +
    'if(d.subject==="lti.put_data"){if(typeof d.value==="string"){localStorage.setItem(k,d.value);r.value=d.value;}' +
    'else localStorage.removeItem(k);return send();}' +
    'var v=localStorage.getItem(k);if(tamper==="forge")v="forged-"+Math.random();if(tamper==="forget")v=null;' +
    'if(v!==null)r.value=v;send();});})();</script>';
  return page('LMS storage', `<main><p>Storage for tools.</p></main>${script}`);
}

export function storageRouter(ctx: PlatformContext): Router {
  const router = Router();
  router.get(PATHS.storageFrame, (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').type('html').send(storagePage(ctx));
  });
  return router;
}
