import { Types } from 'mongoose';
import { z } from 'zod';
import { recordAudit, type Actor } from '../audit/record.js';
import type { Context } from '../context.js';
import type { ProviderName, ProviderSettingsDoc } from '../db/models/providerSettings.js';
import { HttpError, notFound } from '../errors.js';
import { AccredibleClient, type AccredibleEnvironment } from './accredible.js';
import { CredlyClient, type CredlyEnvironment } from './credly.js';
import { ProviderError, defaultProviderDeps, type ProviderDeps } from './http.js';

/**
 * A platform's Credly and Accredible settings: validated, checked with one harmless call, stored
 * with the secret sealed, shown masked. (ARCHITECTURE.md, "Credly and Accredible settings".)
 */

const baseUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(500)
  .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials')
  .optional();
const secret = (what: string) =>
  z.string().trim().min(8, `${what} is too short`).max(500, `${what} is at most 500 characters`);

export const credlySettingsSchema = z.strictObject({
  organizationId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{1,100}$/, 'must be the organisation id Credly shows (a UUID)'),
  authToken: secret('authToken'),
  environment: z.enum(['sandbox', 'production']),
  baseUrl,
});
export const accredibleSettingsSchema = z.strictObject({
  apiKey: secret('apiKey'),
  environment: z.enum(['sandbox', 'production', 'eu']),
  baseUrl,
});
export type CredlySettingsInput = z.infer<typeof credlySettingsSchema>;
export type AccredibleSettingsInput = z.infer<typeof accredibleSettingsSchema>;

/** The settings as shown: the secret only by its last four characters. */
export type ProviderSettingsView = {
  provider: ProviderName;
  environment: string;
  baseUrl: string | null;
  organizationId?: string;
  authToken?: string;
  apiKey?: string;
  check: { ok: boolean; at: Date; message: string } | null;
  lastSync: { at: Date; ok: boolean; message: string; templates: number } | null;
  updatedAt: Date;
};

const mask = (hint: string) => `••••${hint}`;

export function viewOf(doc: ProviderSettingsDoc): ProviderSettingsView {
  const common = {
    provider: doc.provider,
    environment: doc.environment,
    baseUrl: doc.baseUrl,
    check: doc.check,
    lastSync: doc.lastSync,
    updatedAt: doc.updatedAt,
  };
  return doc.provider === 'credly'
    ? { ...common, organizationId: doc.organizationId ?? '', authToken: mask(doc.secretHint) }
    : { ...common, apiKey: mask(doc.secretHint) };
}

export type ProviderClient =
  { provider: 'credly'; client: CredlyClient } | { provider: 'accredible'; client: AccredibleClient };

function clientFor(
  deps: ProviderDeps,
  provider: ProviderName,
  values: { environment: string; baseUrl?: string | null; organizationId?: string | null; secret: string },
): ProviderClient {
  return provider === 'credly'
    ? {
        provider,
        client: new CredlyClient(deps, {
          organizationId: values.organizationId ?? '',
          authToken: values.secret,
          environment: values.environment as CredlyEnvironment,
          baseUrl: values.baseUrl ?? null,
        }),
      }
    : {
        provider,
        client: new AccredibleClient(deps, {
          apiKey: values.secret,
          environment: values.environment as AccredibleEnvironment,
          baseUrl: values.baseUrl ?? null,
        }),
      };
}

/** The client of stored settings (the secret opened here, used, never logged). */
export function storedClient(ctx: Context, doc: ProviderSettingsDoc, deps?: ProviderDeps): ProviderClient {
  return clientFor(deps ?? defaultProviderDeps(ctx), doc.provider, {
    environment: doc.environment,
    baseUrl: doc.baseUrl,
    organizationId: doc.organizationId,
    secret: ctx.sealer.open(doc.secretSealed),
  });
}

export async function settingsOf(
  ctx: Context,
  platformId: Types.ObjectId,
  provider: ProviderName,
): Promise<ProviderSettingsDoc | null> {
  return ctx.models.providerSettings.findOne({ platformId, provider }).lean<ProviderSettingsDoc>();
}

/** One harmless call; the service's answer in words either way. */
async function runCheck(c: ProviderClient): Promise<{ ok: boolean; message: string }> {
  try {
    if (c.provider === 'credly') {
      const org = await c.client.organization();
      return { ok: true, message: `Credly answered: organisation “${org.name ?? org.id}”.` };
    }
    const { groups } = await c.client.check();
    return { ok: true, message: `Accredible answered: ${groups} group(s) in this account.` };
  } catch (err) {
    if (err instanceof ProviderError)
      return {
        ok: false,
        message: `${c.provider === 'credly' ? 'Credly' : 'Accredible'} answered${err.status ? ` ${err.status}` : ''}: ${err.message}`,
      };
    throw err;
  }
}

export async function requirePlatform(ctx: Context, platformId: string): Promise<Types.ObjectId> {
  if (!Types.ObjectId.isValid(platformId)) throw notFound(`Platform ${platformId}`);
  const id = new Types.ObjectId(platformId);
  if (!(await ctx.models.platforms.exists({ _id: id }))) throw notFound(`Platform ${platformId}`);
  return id;
}

/** Refused settings: 422 with the service's answer. */
export class SettingsRefused extends HttpError {
  constructor(message: string) {
    super(422, 'provider_refused', message);
  }
}

/**
 * Checks the settings with the service and stores them only if it accepted them (so a typo never
 * replaces working settings). Answers the stored settings, masked.
 */
export async function saveSettings(
  ctx: Context,
  platformId: Types.ObjectId,
  input:
    ({ provider: 'credly' } & CredlySettingsInput) | ({ provider: 'accredible' } & AccredibleSettingsInput),
  actor: Actor,
  deps?: ProviderDeps,
): Promise<ProviderSettingsView> {
  const secretValue = input.provider === 'credly' ? input.authToken : input.apiKey;
  const organizationId = input.provider === 'credly' ? input.organizationId : null;
  const client = clientFor(deps ?? defaultProviderDeps(ctx), input.provider, {
    environment: input.environment,
    baseUrl: input.baseUrl ?? null,
    organizationId,
    secret: secretValue,
  });
  const check = await runCheck(client);
  if (!check.ok) throw new SettingsRefused(check.message);
  const saved = await ctx.models.providerSettings
    .findOneAndUpdate(
      { platformId, provider: input.provider },
      {
        $set: {
          environment: input.environment,
          baseUrl: input.baseUrl ?? null,
          organizationId,
          secretSealed: ctx.sealer.seal(secretValue),
          secretHint: secretValue.slice(-4),
          check: { ...check, at: ctx.now() },
        },
        $setOnInsert: { lastSync: null, syncingUntil: null },
      },
      { upsert: true, returnDocument: 'after' },
    )
    .lean<ProviderSettingsDoc>();
  await recordAudit(ctx.models, {
    actor,
    action: 'provider.saved',
    platformId,
    target: { type: 'provider', id: input.provider },
    details: { environment: input.environment, baseUrl: input.baseUrl ?? null },
  });
  return viewOf(saved!);
}

/** Checks stored settings again (the page's "Check" button); the answer is stored and returned. */
export async function checkSettings(
  ctx: Context,
  platformId: Types.ObjectId,
  provider: ProviderName,
  deps?: ProviderDeps,
): Promise<ProviderSettingsView> {
  const doc = await settingsOf(ctx, platformId, provider);
  if (!doc) throw notFound(`${provider} settings of this platform`);
  const check = await runCheck(storedClient(ctx, doc, deps));
  const after = await ctx.models.providerSettings
    .findOneAndUpdate(
      { _id: doc._id },
      { $set: { check: { ...check, at: ctx.now() } } },
      { returnDocument: 'after' },
    )
    .lean<ProviderSettingsDoc>();
  return viewOf(after ?? doc);
}

export async function listSettings(ctx: Context, platformId: Types.ObjectId) {
  const docs = await ctx.models.providerSettings.find({ platformId }).lean<ProviderSettingsDoc[]>();
  const of = (p: ProviderName) => {
    const d = docs.find((x) => x.provider === p);
    return d ? viewOf(d) : null;
  };
  return { credly: of('credly'), accredible: of('accredible') };
}

/** Removes a service's settings; its synced templates and credentials stay (they are history). */
export async function deleteSettings(
  ctx: Context,
  platformId: Types.ObjectId,
  provider: ProviderName,
  actor: Actor,
): Promise<void> {
  const gone = await ctx.models.providerSettings.deleteOne({ platformId, provider });
  if (gone.deletedCount !== 1) throw notFound(`${provider} settings of this platform`);
  await recordAudit(ctx.models, {
    actor,
    action: 'provider.removed',
    platformId,
    target: { type: 'provider', id: provider },
  });
}
