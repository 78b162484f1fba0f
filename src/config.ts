import { z } from 'zod';
import { parseAllowList } from './security/outboundFetch.js';

/**
 * Every setting comes from the environment and is checked once, at start-up, so that a
 * bad value stops the process with one line naming the variable instead of failing later.
 */
const hexOrBase64Key = (bytes: number) =>
  z
    .string()
    .refine(
      (v) => decodeKey(v)?.length === bytes,
      `${bytes} random bytes, as ${bytes * 2} hex characters or base64 (e.g. \`openssl rand -hex ${bytes}\`)`,
    );

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: z.coerce
    .number({ error: 'a TCP port number (0-65535; 0 picks a free port)' })
    .int('a TCP port number (0-65535; 0 picks a free port)')
    .min(0, 'a TCP port number (0-65535; 0 picks a free port)')
    .max(65535, 'a TCP port number (0-65535; 0 picks a free port)')
    .default(3000),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'an absolute http(s) URL such as https://laurel.example.edu' })
    .transform((v) => v.replace(/\/+$/, '')),
  MONGODB_URI: z
    .string({ error: 'a MongoDB connection string (mongodb:// or mongodb+srv://)' })
    .regex(/^mongodb(\+srv)?:\/\/.+/, 'a MongoDB connection string (mongodb:// or mongodb+srv://)'),
  LTI_KEY: z
    .string({ error: 'a random secret of at least 32 characters (signs LTI launch tokens)' })
    .min(32, 'a random secret of at least 32 characters (signs LTI launch tokens)'),
  ADMIN_API_KEY: z
    .string({ error: 'a random secret of at least 24 characters (Bearer key of the admin API)' })
    .min(24, 'a random secret of at least 24 characters (Bearer key of the admin API)'),
  ENCRYPTION_KEY: hexOrBase64Key(32),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'an SMTP URL such as smtp://user:pass@mail.example.edu:587')
    .optional(),
  MAIL_FROM: z.string().email('an e-mail address such as badges@example.edu').default('badges@localhost'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LAUREL_ROLE: z.enum(['web', 'worker', 'all']).default('all'),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2})$/, 'true, false, or the number of proxy hops in front of Laurel (0-99)')
    .default('false'),
  JOBS_PROCESS_EVERY_MS: z.coerce
    .number({ error: 'a number of milliseconds (100-60000)' })
    .int()
    .min(100, 'a number of milliseconds (100-60000)')
    .max(60000, 'a number of milliseconds (100-60000)')
    .default(2000),
  JOBS_LOCK_LIFETIME_MS: z.coerce
    .number({ error: 'a number of milliseconds (1000-3600000)' })
    .int()
    .min(1000, 'a number of milliseconds (1000-3600000)')
    .max(3_600_000, 'a number of milliseconds (1000-3600000)')
    .default(300_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120000).default(10000),
  CLAIM_LEASE_MS: z.coerce
    .number({ error: 'a number of milliseconds (1000-3600000)' })
    .int('a number of milliseconds (1000-3600000)')
    .min(1000, 'a number of milliseconds (1000-3600000)')
    .max(3_600_000, 'a number of milliseconds (1000-3600000)')
    .default(120_000),
  ISSUE_BATCH_SIZE: z.coerce
    .number({ error: 'a number of credentials (1-1000)' })
    .int('a number of credentials (1-1000)')
    .min(1, 'a number of credentials (1-1000)')
    .max(1000, 'a number of credentials (1-1000)')
    .default(200),
  PUBLIC_PAGE_FRESH_MS: z.coerce
    .number({ error: 'a number of milliseconds (0-60000)' })
    .int('a number of milliseconds (0-60000)')
    .min(0, 'a number of milliseconds (0-60000)')
    .max(60_000, 'a number of milliseconds (0-60000)')
    .default(1000),
  REGISTRATION_WITHOUT_LINK: z
    .enum(['refuse', 'pending'], {
      error: 'refuse or pending (what LTI Dynamic Registration does without a registration link)',
    })
    .default('refuse'),
  LMS_ALLOWED_HOSTS: z
    .string()
    .transform((v) => v.split(',').map((e) => e.trim()))
    .superRefine((entries, ctx) => {
      try {
        parseAllowList(entries);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `comma-separated host names, .domains, IP addresses or CIDR ranges (e.g. moodle.school.internal,10.20.0.0/16): ${(err as Error).message}`,
        });
      }
    })
    .default([]),
});

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  port: number;
  publicUrl: string;
  mongodbUri: string;
  ltiKey: string;
  adminApiKey: string;
  encryptionKey: Buffer;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: string;
  role: 'web' | 'worker' | 'all';
  trustProxy: boolean | number;
  jobsProcessEveryMs: number;
  jobsLockLifetimeMs: number;
  shutdownGraceMs: number;
  /**
   * How long a worker holds the learning events, credentials and Credly/Accredible calls it claimed;
   * a worker that dies leaves them to another once this lapses (longer than any one batch takes).
   */
  claimLeaseMs: number;
  /**
   * Credentials one issuing run claims and signs together: a batch's round trips are shared by that
   * many (the burst bench's awarded → issued p99 fell from about 5 s to under 1.5 s going from 50 to
   * 200), and signing 200 takes well under a second, far inside the lease.
   */
  issueBatchSize: number;
  /**
   * How long a finished verification page may be shown again by a web process although another
   * process changed the credential meanwhile (changes made by the same process show at once;
   * src/web/public/freshPages.ts). 0 renders every view.
   */
  publicPageFreshMs: number;
  /** What LTI Dynamic Registration does without a valid registration link. */
  registrationWithoutLink: 'refuse' | 'pending';
  /** Host names, .domains, IPs and CIDR ranges of LMSs Laurel may call although they are not public. */
  lmsAllowedHosts: readonly string[];
}>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
  ) {
    super(`Invalid configuration: ${variable} must be ${expected}`);
    this.name = 'ConfigError';
  }
}

export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return Buffer.from(value, 'base64');
  return undefined;
}

/** Reads and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = { ...env };
  // Empty strings count as unset, as they do in most .env tooling.
  for (const key of Object.keys(input)) if (input[key] === '') delete input[key];
  if (input.PUBLIC_URL === undefined && input.NODE_ENV !== 'production' && input.NODE_ENV !== undefined) {
    input.PUBLIC_URL = `http://localhost:${input.PORT ?? 3000}`;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const missing = input[variable] === undefined;
    throw new ConfigError(variable, missing ? `set: ${issue.message}` : issue.message);
  }
  const c = parsed.data;
  return Object.freeze({
    env: c.NODE_ENV,
    port: c.PORT,
    publicUrl: c.PUBLIC_URL,
    mongodbUri: c.MONGODB_URI,
    ltiKey: c.LTI_KEY,
    adminApiKey: c.ADMIN_API_KEY,
    encryptionKey: decodeKey(c.ENCRYPTION_KEY)!,
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    logLevel: c.LOG_LEVEL,
    role: c.LAUREL_ROLE,
    trustProxy: c.TRUST_PROXY === 'true' ? true : c.TRUST_PROXY === 'false' ? false : Number(c.TRUST_PROXY),
    jobsProcessEveryMs: c.JOBS_PROCESS_EVERY_MS,
    jobsLockLifetimeMs: c.JOBS_LOCK_LIFETIME_MS,
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    claimLeaseMs: c.CLAIM_LEASE_MS,
    issueBatchSize: c.ISSUE_BATCH_SIZE,
    publicPageFreshMs: c.PUBLIC_PAGE_FRESH_MS,
    registrationWithoutLink: c.REGISTRATION_WITHOUT_LINK,
    lmsAllowedHosts: Object.freeze(c.LMS_ALLOWED_HOSTS.filter((e) => e !== '')),
  });
}
