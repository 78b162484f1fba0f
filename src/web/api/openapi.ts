import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { platformInputSchema } from '../../platforms/schema.js';
import { issuerProfileChangeSchema } from '../../issuers/openbadges/issuerProfiles.js';
import { createTemplateSchema, updateTemplateSchema } from '../../templates/schema.js';
import { approvePlatformSchema, deploymentSchema, platformSettingsSchema } from './platforms.js';
import { registrationLinkInputSchema } from './registrationLinks.js';
import { accredibleSettingsSchema, credlySettingsSchema } from '../../providers/settings.js';

/** JSON Schema of a request body, straight from the zod schema the route validates with. */
const bodySchema = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: ERROR_TEXT[c], content: json(ref('Error')) }]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; details name each bad field',
  401: 'Missing or wrong credentials',
  404: 'Not found',
  409: 'Conflicts with what is stored',
  413: 'Body over 1 MiB or more than 500 events',
  422: 'The badge service refused the settings; the message says what it answered',
  502: 'The LMS refused or could not be reached; the message says what it answered',
  503: 'Laurel cannot check the message now (the key set is unreachable); send it again later',
};
const PROVIDER_PARAM = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { enum: ['credly', 'accredible'] },
};
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[0-9a-f]{24}$' },
};
const pagingParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'The `next` of the previous page' },
];
const q = (name: string, description: string) => ({
  name,
  in: 'query',
  schema: { type: 'string' },
  description,
});
const list = (item: string) => ({
  type: 'object',
  required: ['items', 'next'],
  properties: { items: { type: 'array', items: ref(item) }, next: { type: ['string', 'null'] } },
});
const ok = (schema: unknown, description = 'OK') => ({ description, content: json(schema) });
/** The outline of a ClrCredential; 1EdTech's CLR 2.0 JSON schema has the whole of it. */
const CLR_CREDENTIAL = {
  type: 'object',
  required: ['@context', 'id', 'type', 'issuer', 'name', 'validFrom', 'credentialSubject', 'proof'],
  properties: {
    '@context': { type: 'array', items: { type: 'string' } },
    id: { type: 'string' },
    type: { type: 'array', items: { type: 'string' }, contains: { const: 'ClrCredential' } },
    issuer: { type: 'object' },
    name: { type: 'string' },
    validFrom: { type: 'string', format: 'date-time' },
    partial: { type: 'boolean' },
    credentialSubject: {
      type: 'object',
      required: ['type', 'verifiableCredential'],
      properties: {
        verifiableCredential: { type: 'array', minItems: 1, items: { type: 'object' } },
        achievement: { type: 'array', items: { type: 'object' } },
        association: { type: 'array', items: { type: 'object' } },
      },
    },
    proof: { type: 'array', items: { type: 'object' } },
  },
};
const reasonBody = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } },
};

const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };

const schemas = {
  Error: {
    type: 'object',
    required: ['error', 'message', 'details'],
    properties: {
      error: { type: 'string' },
      message: { type: 'string' },
      details: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path', 'message'],
          properties: { path: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  },
  Platform: {
    type: 'object',
    required: [
      'id',
      'name',
      'lms',
      'issuer',
      'clientId',
      'authLoginUrl',
      'authTokenUrl',
      'jwksUrl',
      'deploymentIds',
    ],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      lms: { enum: ['moodle', 'canvas', 'other'] },
      issuer: { type: 'string' },
      clientId: { type: 'string' },
      authLoginUrl: { type: 'string' },
      authTokenUrl: { type: 'string' },
      jwksUrl: { type: 'string' },
      deploymentIds: { type: 'array', items: { type: 'string' } },
      registeredBy: { type: 'string' },
      status: {
        enum: ['active', 'pending'],
        description:
          'pending: registered by LTI Dynamic Registration without a registration link; no launches, events or credentials until approved',
      },
      suggestedName: {
        type: 'string',
        description:
          'The name the LMS gave itself at registration; a suggestion only, never used unconfirmed',
      },
      deploymentPolicy: {
        enum: ['auto', 'approve'],
        description:
          'What a signed launch from a new deployment does: auto records and admits it (default for dynamically registered platforms); approve refuses it and lists it in pendingDeployments (default for platforms registered through the API or CLI)',
      },
      pendingDeployments: {
        type: 'array',
        items: {
          type: 'object',
          required: ['deploymentId', 'firstSeenAt', 'lastSeenAt'],
          properties: { deploymentId: { type: 'string' }, firstSeenAt: dateTime, lastSeenAt: dateTime },
        },
      },
      sameLmsAs: {
        type: ['string', 'null'],
        description:
          'Another registration of the same LMS (same issuer) whose courses and people this one shares',
      },
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  RegistrationLink: {
    type: 'object',
    required: ['id', 'name', 'lms', 'state', 'expiresAt', 'usedAt', 'platformId', 'createdAt'],
    properties: {
      id: { type: 'string' },
      name: { type: ['string', 'null'] },
      lms: { enum: ['moodle', 'canvas', 'other', null] },
      state: { enum: ['open', 'used', 'expired'] },
      expiresAt: dateTime,
      usedAt: nullableDateTime,
      platformId: { type: ['string', 'null'], description: 'The platform the link registered' },
      createdAt: dateTime,
    },
  },
  LaunchStats: {
    type: 'object',
    required: ['platformId', 'total', 'fallbacks', 'paths'],
    properties: {
      platformId: { type: 'string' },
      total: { type: 'integer', minimum: 0 },
      fallbacks: {
        type: 'integer',
        minimum: 0,
        description: "Launches that could not use Laurel's cookie inside the LMS page",
      },
      paths: {
        type: 'object',
        required: ['cookie', 'new-window', 'platform-storage', 'storage-access'],
        additionalProperties: false,
        properties: Object.fromEntries(
          ['cookie', 'new-window', 'platform-storage', 'storage-access'].map((p) => [
            p,
            {
              type: 'object',
              required: ['count', 'lastAt'],
              properties: { count: { type: 'integer', minimum: 0 }, lastAt: nullableDateTime },
            },
          ]),
        ),
      },
    },
  },
  Template: {
    type: 'object',
    required: [
      'id',
      'platformId',
      'courseId',
      'name',
      'state',
      'groups',
      'penalties',
      'allowReEarn',
      'shared',
    ],
    properties: {
      id: { type: 'string' },
      platformId: { type: 'string' },
      courseId: { type: ['string', 'null'] },
      source: { enum: ['local', 'credly', 'accredible'] },
      externalId: { type: ['string', 'null'] },
      name: { type: 'string' },
      description: { type: 'string' },
      criteria: { type: 'string' },
      imageId: { type: ['string', 'null'] },
      tags: { type: 'array', items: { type: 'string' } },
      alignments: { type: 'array', items: { type: 'object' } },
      expiresAfterDays: { type: ['integer', 'null'] },
      expiresAt: nullableDateTime,
      allowReEarn: { type: 'boolean' },
      shared: {
        type: 'boolean',
        description:
          "Set by the platform's administrator: instructors of the platform's other courses may see and require this badge.",
      },
      state: { enum: ['draft', 'active', 'inactive'] },
      activeSince: nullableDateTime,
      groups: { type: 'array', items: { type: 'object' } },
      penalties: { type: 'array', items: { type: 'object' } },
      levels: {
        type: ['object', 'null'],
        description:
          'Levels (tiers): each step its own credential; a learner holds the highest reached. Measured on data.percent of the activity activityId, or of the course grade when activityId is null.',
        required: ['activityId', 'steps'],
        properties: {
          activityId: { type: ['string', 'null'] },
          steps: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'min'],
              properties: {
                id: { type: 'string' },
                name: { type: 'string' },
                min: { type: 'number', minimum: 0, maximum: 100 },
                imageId: { type: ['string', 'null'] },
              },
            },
          },
        },
      },
      regrade: {
        type: 'object',
        description:
          'What a regrade that makes a met requirement fail does: none (it stays met), fallback (progress falls back), revoke (progress falls back and a live credential is revoked after graceDays unless the grade comes back).',
        required: ['policy', 'graceDays'],
        properties: {
          policy: { enum: ['none', 'fallback', 'revoke'] },
          graceDays: { type: 'number', minimum: 0, maximum: 365 },
        },
      },
      version: { type: 'integer' },
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  Credential: {
    type: 'object',
    required: ['id', 'templateId', 'platformId', 'courseId', 'userId', 'status', 'awardedAt', 'url'],
    properties: {
      id: { type: 'string' },
      templateId: { type: 'string' },
      platformId: { type: 'string' },
      courseId: { type: ['string', 'null'] },
      userId: { type: 'string' },
      status: { enum: ['awarded', 'issued', 'failed', 'revoked', 'expired', 'superseded'] },
      error: { type: ['string', 'null'], description: 'Why issuing gave up (status failed)' },
      level: {
        type: ['string', 'null'],
        description: 'A badge with levels: the level (step id) this credential is for',
      },
      supersededAt: {
        ...nullableDateTime,
        description: 'When a higher level replaced it (status superseded)',
      },
      revokeAfter: {
        ...nullableDateTime,
        description: 'A regrade took the badge back: revoked at this time unless the grade comes back',
      },
      awardedAt: dateTime,
      expiresAt: nullableDateTime,
      revokedAt: nullableDateTime,
      revokedReason: { type: ['string', 'null'] },
      url: { type: 'string', format: 'uri' },
      externalId: { type: 'string', description: 'Credly or Accredible: the badge id there, once issued' },
      externalUrl: { type: ['string', 'null'], description: "The badge's page at Credly or Accredible" },
    },
  },
  ProviderSettings: {
    type: 'object',
    required: ['provider', 'environment', 'baseUrl', 'check', 'lastSync'],
    properties: {
      provider: { enum: ['credly', 'accredible'] },
      environment: { enum: ['sandbox', 'production', 'eu'] },
      baseUrl: { type: ['string', 'null'] },
      organizationId: { type: 'string' },
      authToken: { type: 'string', description: 'Masked: only the last four characters' },
      apiKey: { type: 'string', description: 'Masked: only the last four characters' },
      check: {
        type: ['object', 'null'],
        description: "The service's answer to the harmless call made when the settings were saved",
        properties: { ok: { type: 'boolean' }, at: dateTime, message: { type: 'string' } },
      },
      lastSync: {
        type: ['object', 'null'],
        properties: {
          ok: { type: 'boolean' },
          at: dateTime,
          message: { type: 'string' },
          templates: { type: 'integer' },
        },
      },
      updatedAt: dateTime,
    },
  },
  Progress: {
    type: 'object',
    required: ['id', 'templateId', 'userId', 'fulfilled', 'groups', 'ratio', 'completedAt'],
    properties: {
      id: { type: 'string' },
      templateId: { type: 'string' },
      userId: { type: ['string', 'null'] },
      userIds: { type: 'array', items: { type: 'string' } },
      name: { type: ['string', 'null'] },
      fulfilled: { type: 'array', items: { type: 'string' } },
      fulfilments: { type: 'array', items: { type: 'object' } },
      counted: {
        type: 'object',
        additionalProperties: { type: 'array', items: { type: 'string' } },
        description: 'Counts of activities: per counting requirement, the activity ids counted so far',
      },
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['met', 'metBy'],
          properties: {
            met: { type: 'boolean' },
            needed: {
              type: 'integer',
              minimum: 1,
              description: 'How many requirements meet the group (atLeast)',
            },
            metBy: { type: ['string', 'null'] },
            fulfilled: { type: 'array', items: { type: 'string' } },
          },
        },
      },
      ratio: { type: 'number', minimum: 0, maximum: 1 },
      completedAt: nullableDateTime,
      updatedAt: dateTime,
    },
  },
  Failure: {
    type: 'object',
    required: ['kind', 'id', 'subject', 'error', 'at', 'attempts'],
    additionalProperties: false,
    properties: {
      kind: { type: 'string', enum: ['event', 'credential', 'gradebook'] },
      id: { type: 'string' },
      subject: { type: 'string' },
      error: { type: ['string', 'null'] },
      at: { type: ['string', 'null'], format: 'date-time' },
      attempts: { type: 'integer' },
    },
  },
  Issuer: {
    type: 'object',
    required: ['id', 'platformId', 'name', 'keys'],
    properties: {
      id: { type: 'string', format: 'uri' },
      platformId: { type: 'string' },
      name: { type: 'string' },
      url: { type: ['string', 'null'] },
      email: { type: ['string', 'null'] },
      description: { type: ['string', 'null'] },
      imageUrl: { type: ['string', 'null'] },
      imageId: { type: ['string', 'null'] },
      keys: {
        type: 'array',
        items: {
          type: 'object',
          required: ['publicKeyMultibase', 'createdAt', 'retiredAt'],
          properties: {
            publicKeyMultibase: { type: 'string' },
            createdAt: dateTime,
            retiredAt: nullableDateTime,
          },
        },
      },
    },
  },
  AuditEntry: {
    type: 'object',
    required: ['id', 'at', 'actor', 'action', 'target'],
    properties: {
      id: { type: 'string' },
      at: dateTime,
      actor: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: ['admin', 'instructor', 'system', 'lms'] } },
      },
      action: { type: 'string' },
      platformId: { type: ['string', 'null'] },
      target: { type: 'object', required: ['type', 'id'] },
      reason: { type: ['string', 'null'] },
      details: { type: 'object' },
    },
  },
  EventAnswer: {
    type: 'object',
    required: ['stored', 'duplicates', 'rejected'],
    properties: {
      stored: { type: 'integer' },
      duplicates: { type: 'integer' },
      rejected: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'error'],
          properties: { index: { type: 'integer' }, error: { type: 'string' } },
        },
      },
    },
  },
};

/** The OpenAPI 3.1 document of /api/v1, built from the same schemas the routes validate with. */
export function buildOpenApi(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Laurel admin API',
      version: '1.0.0',
      description:
        'Register LMS platforms, define badge templates and what earns them, send learning events, and manage credentials. Every route but /events and /openapi.json takes `Authorization: Bearer $ADMIN_API_KEY`.',
    },
    servers: [{ url: `${publicUrl}/api/v1` }],
    security: [{ adminKey: [] }],
    components: {
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' },
        eventSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Laurel-Signature',
          description:
            't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the platform webhook secret>',
        },
      },
      schemas,
    },
    paths: {
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { 200: ok({ type: 'object' }) } },
      },
      '/platforms': {
        post: {
          summary: 'Register an LMS platform',
          requestBody: { required: true, content: json(bodySchema(platformInputSchema)) },
          responses: {
            201: ok(
              {
                allOf: [
                  ref('Platform'),
                  {
                    type: 'object',
                    required: ['webhookSecret'],
                    properties: { webhookSecret: { type: 'string' } },
                  },
                ],
              },
              'Registered; webhookSecret is shown this once',
            ),
            ...errors(400, 401, 409),
          },
        },
        get: {
          summary: 'List platforms',
          parameters: [
            { name: 'status', in: 'query', schema: { enum: ['active', 'pending'] } },
            ...pagingParams,
          ],
          responses: { 200: ok(list('Platform')), ...errors(400, 401) },
        },
      },
      '/platforms/{id}/approve': {
        post: {
          summary:
            'Approve a platform a dynamic registration left pending (optionally naming it); answers its new webhook secret this once',
          parameters: [idParam],
          requestBody: { required: false, content: json(bodySchema(approvePlatformSchema)) },
          responses: {
            200: ok({
              allOf: [
                ref('Platform'),
                {
                  type: 'object',
                  required: ['webhookSecret'],
                  properties: { webhookSecret: { type: 'string' } },
                },
              ],
            }),
            ...errors(400, 401, 404, 409),
          },
        },
      },
      '/registration-links': {
        post: {
          summary:
            'Create a one-time LTI Dynamic Registration link (PUBLIC_URL/lti/register?code=…) for an LMS administrator to paste into the LMS',
          requestBody: { required: false, content: json(bodySchema(registrationLinkInputSchema)) },
          responses: {
            201: ok(
              {
                allOf: [
                  ref('RegistrationLink'),
                  { type: 'object', required: ['url'], properties: { url: { type: 'string' } } },
                ],
              },
              'Created; url (which holds the one-time code) is shown this once',
            ),
            ...errors(400, 401),
          },
        },
        get: {
          summary: 'List registration links (without their codes)',
          parameters: [
            { name: 'state', in: 'query', schema: { enum: ['open', 'used', 'expired'] } },
            ...pagingParams,
          ],
          responses: { 200: ok(list('RegistrationLink')), ...errors(400, 401) },
        },
      },
      '/registration-links/{id}': {
        delete: {
          summary: 'Revoke a registration link nobody has used',
          parameters: [idParam],
          responses: { 204: { description: 'Revoked' }, ...errors(401, 404, 409) },
        },
      },
      '/platforms/{id}': {
        get: {
          summary: 'One platform',
          parameters: [idParam],
          responses: { 200: ok(ref('Platform')), ...errors(401, 404) },
        },
        delete: {
          summary: 'Remove a platform',
          parameters: [idParam],
          responses: { 204: { description: 'Removed' }, ...errors(401, 404, 409) },
        },
      },
      '/platforms/{id}/settings': {
        patch: {
          summary:
            "Change a platform's deployment policy, or link it to another registration of the same LMS (sameLmsAs)",
          parameters: [idParam],
          requestBody: { required: true, content: json(bodySchema(platformSettingsSchema)) },
          responses: { 200: ok(ref('Platform')), ...errors(400, 401, 404, 409) },
        },
      },
      '/platforms/{id}/deployments': {
        post: {
          summary: 'Accept launches from a deployment (approves a pending one)',
          parameters: [idParam],
          requestBody: { required: true, content: json(bodySchema(deploymentSchema)) },
          responses: { 200: ok(ref('Platform')), ...errors(400, 401, 404) },
        },
      },
      '/platforms/{id}/deployments/{deploymentId}': {
        delete: {
          summary: 'Stop accepting launches from a deployment',
          parameters: [
            idParam,
            { name: 'deploymentId', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: { 200: ok(ref('Platform')), ...errors(401, 404) },
        },
      },
      '/platforms/{id}/webhook-secret': {
        post: {
          summary: 'Rotate the webhook secret (the previous one works 24 more hours)',
          parameters: [idParam],
          responses: {
            200: ok({
              type: 'object',
              required: ['id', 'webhookSecret'],
              properties: { id: { type: 'string' }, webhookSecret: { type: 'string' } },
            }),
            ...errors(401, 404),
          },
        },
      },
      '/platforms/{id}/launch-stats': {
        get: {
          summary:
            "How the platform's launches got past the sign-in check (cookie, or a fallback without it)",
          parameters: [idParam],
          responses: { 200: ok(ref('LaunchStats')), ...errors(401, 404) },
        },
      },
      '/templates': {
        post: {
          summary: 'Create a badge template (state draft)',
          requestBody: { required: true, content: json(bodySchema(createTemplateSchema)) },
          responses: { 201: ok(ref('Template')), ...errors(400, 401, 404) },
        },
        get: {
          summary: 'List badge templates',
          parameters: [
            q('platformId', 'Platform id'),
            q('courseId', 'Course id (needs platformId)'),
            q('state', 'draft, active or inactive'),
            ...pagingParams,
          ],
          responses: { 200: ok(list('Template')), ...errors(400, 401) },
        },
      },
      '/templates/{id}': {
        get: {
          summary: 'One badge template',
          parameters: [idParam],
          responses: { 200: ok(ref('Template')), ...errors(401, 404) },
        },
        patch: {
          summary: 'Change a badge template (requirements and penalties are replaced as a whole)',
          parameters: [idParam],
          requestBody: { required: true, content: json(bodySchema(updateTemplateSchema)) },
          responses: { 200: ok(ref('Template')), ...errors(400, 401, 404) },
        },
      },
      '/templates/{id}/image': {
        put: {
          summary:
            'Upload the badge image: the PNG or SVG file as the body (at most 256 KiB, square-ish, PNG sides 64-2048 px; SVG is sanitised)',
          parameters: [idParam],
          requestBody: {
            required: true,
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/svg+xml': { schema: { type: 'string', format: 'binary' } },
            },
          },
          responses: {
            200: ok(
              {
                allOf: [
                  ref('Template'),
                  {
                    type: 'object',
                    required: ['image'],
                    properties: {
                      image: {
                        type: 'object',
                        required: ['id', 'url', 'contentType', 'width', 'height', 'bytes', 'removed'],
                        properties: {
                          id: { type: 'string' },
                          url: { type: 'string', format: 'uri' },
                          contentType: { enum: ['image/png', 'image/svg+xml'] },
                          width: { type: 'number' },
                          height: { type: 'number' },
                          bytes: { type: 'integer' },
                          sha256: { type: 'string' },
                          removed: {
                            type: 'array',
                            items: { type: 'string' },
                            description:
                              'What sanitising removed from an SVG (scripts, event handlers, remote links)',
                          },
                        },
                      },
                    },
                  },
                ],
              },
              'Stored; the template now uses it (served at image.url)',
            ),
            ...errors(400, 401, 404),
          },
        },
      },
      '/templates/{id}/activate': {
        post: {
          summary:
            'Activate: new events count, and a recalculation job re-evaluates the events already stored',
          parameters: [idParam],
          responses: { 200: ok(ref('Template')), ...errors(400, 401, 404, 409) },
        },
      },
      '/templates/{id}/withdraw': {
        post: {
          summary: 'Withdraw (inactive): no new awards; progress and credentials stay',
          parameters: [idParam],
          responses: { 200: ok(ref('Template')), ...errors(401, 404, 409) },
        },
      },
      '/progress': {
        get: {
          summary: "Learners' progress on a template, or one learner's on every template",
          parameters: [
            q('templateId', 'Template id'),
            q('userId', 'Any id of the learner'),
            q('platformId', 'Platform id'),
            ...pagingParams,
          ],
          responses: { 200: ok(list('Progress')), ...errors(400, 401) },
        },
      },
      '/credentials': {
        get: {
          summary: 'List credentials',
          parameters: [
            q('templateId', 'Template id'),
            q('userId', 'Any id of the learner'),
            q('platformId', 'Platform id'),
            ...pagingParams,
          ],
          responses: { 200: ok(list('Credential')), ...errors(400, 401) },
        },
        post: {
          summary: 'Award a badge by hand',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['templateId', 'userId', 'reason'],
              additionalProperties: false,
              properties: {
                templateId: { type: 'string' },
                userId: { type: 'string' },
                reason: { type: 'string' },
              },
            }),
          },
          responses: { 201: ok(ref('Credential')), ...errors(400, 401, 404, 409) },
        },
      },
      '/credentials/{id}': {
        get: {
          summary: 'One credential',
          parameters: [idParam],
          responses: { 200: ok(ref('Credential')), ...errors(401, 404) },
        },
      },
      '/credentials/{id}/revoke': {
        post: {
          summary: 'Revoke a credential with a reason',
          parameters: [idParam],
          requestBody: { required: true, content: json(reasonBody) },
          responses: { 200: ok(ref('Credential')), ...errors(400, 401, 404, 409) },
        },
      },
      '/credentials/{id}/retry': {
        post: {
          summary: 'Issue a failed credential again (failed → awarded, queued for issuing)',
          parameters: [idParam],
          responses: { 200: ok(ref('Credential')), ...errors(401, 404, 409) },
        },
      },
      '/clr': {
        get: {
          summary:
            "A person's Comprehensive Learner Record: a signed CLR 2.0 ClrCredential (JSON-LD) holding their issued credentials",
          parameters: [
            { ...q('platformId', 'Platform id'), required: true },
            { ...q('userId', 'Any id of the learner on that platform'), required: true },
          ],
          responses: {
            200: {
              description:
                'The signed ClrCredential (eddsa-rdfc-2022 by the platform’s issuer); `partial` is true when some live credential is not in it yet',
              content: {
                ...json(CLR_CREDENTIAL),
                'application/ld+json': { schema: CLR_CREDENTIAL },
              },
            },
            ...errors(400, 401, 404),
          },
        },
      },
      '/platforms/{id}/issuer': {
        get: {
          summary: "The platform's issuer profile (created on first use)",
          parameters: [idParam],
          responses: { 200: ok(ref('Issuer')), ...errors(401, 404) },
        },
        patch: {
          summary: 'Change what the issuer profile says (name, url, email, description, imageId)',
          parameters: [idParam],
          requestBody: { required: true, content: json(bodySchema(issuerProfileChangeSchema)) },
          responses: { 200: ok(ref('Issuer')), ...errors(400, 401, 404) },
        },
      },
      '/platforms/{id}/issuer/rotate-key': {
        post: {
          summary: 'Sign from now on with a new key; old keys stay published so old credentials verify',
          parameters: [idParam],
          responses: { 200: ok(ref('Issuer')), ...errors(401, 404) },
        },
      },
      '/platforms/{id}/failures': {
        get: {
          summary:
            "The platform's work that gave up and waits for a person: learning events whose processing failed, failed issuances, gradebooks (AGS) whose reading keeps failing",
          parameters: [idParam],
          responses: { 200: ok(list('Failure')), ...errors(401, 404) },
        },
      },
      '/platforms/{id}/failures/{kind}/{itemId}/retry': {
        post: {
          summary:
            'Tries one failure again at once (the event is processed, the credential issued, the gradebook read)',
          parameters: [
            idParam,
            {
              name: 'kind',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: ['event', 'credential', 'gradebook'] },
            },
            { ...idParam, name: 'itemId' },
          ],
          responses: {
            202: ok(
              {
                type: 'object',
                required: ['kind', 'id', 'retried'],
                properties: { kind: { type: 'string' }, id: { type: 'string' }, retried: { const: true } },
              },
              'Accepted: the work is queued again',
            ),
            ...errors(400, 401, 404, 409),
          },
        },
      },
      '/audit': {
        get: {
          summary: 'The audit log, newest first: every award, revocation and configuration change',
          parameters: [
            q('platformId', 'Platform id'),
            q('action', 'e.g. credential.revoked'),
            q('targetId', 'Id of the thing acted on'),
            ...pagingParams,
          ],
          responses: { 200: ok(list('AuditEntry')), ...errors(400, 401) },
        },
      },
      '/events': {
        post: {
          summary: 'Send one learning event or { events: [...] } (at most 500, 1 MiB)',
          security: [{ eventSignature: [] }],
          requestBody: { required: true, content: json({ type: 'object' }) },
          responses: { 200: ok(ref('EventAnswer')), ...errors(400, 401, 413) },
        },
      },
      '/webhooks/moodle/{platformId}': {
        post: {
          summary:
            "Events from Laurel's Moodle plugin: the body of /events (one event or { events }), or { catalogue } (the course's activities and grade items), or { test: true }; signed with this platform's webhook secret",
          security: [{ eventSignature: [] }],
          parameters: [{ ...idParam, name: 'platformId' }],
          requestBody: { required: true, content: json({ type: 'object' }) },
          responses: { 200: ok({ type: 'object' }), ...errors(400, 401, 413) },
        },
      },
      '/webhooks/canvas/{platformId}': {
        post: {
          summary:
            'One Canvas Live Event as Canvas delivers it over HTTPS: a compact RS256 JWT signed with the key set of the platform (liveEventsJwksUrl)',
          security: [],
          parameters: [{ ...idParam, name: 'platformId' }],
          requestBody: { required: true, content: { 'application/jwt': { schema: { type: 'string' } } } },
          responses: { 200: ok({ type: 'object' }), ...errors(400, 401, 413, 503) },
        },
      },
      '/platforms/{id}/providers': {
        get: {
          summary: "The platform's Credly and Accredible settings, secrets masked (null where none)",
          parameters: [idParam],
          responses: {
            200: ok({
              type: 'object',
              required: ['credly', 'accredible'],
              properties: {
                credly: { oneOf: [ref('ProviderSettings'), { type: 'null' }] },
                accredible: { oneOf: [ref('ProviderSettings'), { type: 'null' }] },
              },
            }),
            ...errors(401, 404),
          },
        },
      },
      '/platforms/{id}/providers/credly': {
        put: {
          summary:
            'Store the Credly settings: 200 once one harmless call to Credly succeeded, else 422 with its answer (baseUrl replaces the API base URL: <baseUrl>/organizations/…)',
          parameters: [idParam],
          requestBody: { required: true, content: json(bodySchema(credlySettingsSchema)) },
          responses: { 200: ok(ref('ProviderSettings')), ...errors(400, 401, 404, 422) },
        },
      },
      '/platforms/{id}/providers/accredible': {
        put: {
          summary:
            'Store the Accredible settings: 200 once one harmless call to Accredible succeeded, else 422 with its answer (baseUrl replaces the API base URL: <baseUrl>/v1/…)',
          parameters: [idParam],
          requestBody: { required: true, content: json(bodySchema(accredibleSettingsSchema)) },
          responses: { 200: ok(ref('ProviderSettings')), ...errors(400, 401, 404, 422) },
        },
      },
      '/platforms/{id}/providers/{name}': {
        delete: {
          summary: "Remove a service's settings (its synced templates and credentials stay)",
          parameters: [idParam, PROVIDER_PARAM],
          responses: { 204: { description: 'Removed' }, ...errors(401, 404) },
        },
      },
      '/platforms/{id}/providers/{name}/sync': {
        post: {
          summary: "Sync the service's templates now (queued; GET …/providers shows lastSync)",
          parameters: [idParam, PROVIDER_PARAM],
          responses: {
            202: ok(
              {
                type: 'object',
                required: ['queued', 'provider'],
                properties: { queued: { const: true }, provider: { enum: ['credly', 'accredible'] } },
              },
              'Queued',
            ),
            ...errors(401, 404),
          },
        },
      },
      '/webhooks/credly/{platformId}': {
        post: {
          summary:
            "Credly's event notifications ({ id, organization_id, event_type, occurred_at }); the event is fetched from Credly with the platform's token, so a forged one is refused (404)",
          security: [],
          parameters: [{ ...idParam, name: 'platformId' }],
          requestBody: { required: true, content: json({ type: 'object' }) },
          responses: {
            200: ok({
              type: 'object',
              required: ['received', 'applied', 'note'],
              properties: {
                received: { const: true },
                applied: { type: 'boolean' },
                note: { type: 'string' },
              },
            }),
            ...errors(400, 404, 503),
          },
        },
      },
      '/platforms/{id}/canvas/live-events-subscription': {
        post: {
          summary:
            "Subscribes a Canvas platform to the Live Events Laurel uses, through Canvas's Data Services API with the tool's LTI service token",
          parameters: [idParam],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['canvasUrl', 'accountId'],
              additionalProperties: false,
              properties: {
                canvasUrl: { type: 'string', format: 'uri' },
                accountId: { type: 'string', minLength: 1, maxLength: 200 },
                contextId: { type: 'string', minLength: 1, maxLength: 200 },
              },
            }),
          },
          responses: { 200: ok({ type: 'object' }), ...errors(400, 401, 404, 409, 502) },
        },
      },
    },
  };
}

export function openApiRouter(ctx: Context): Router {
  const router = Router();
  const document = buildOpenApi(ctx.config.publicUrl);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
