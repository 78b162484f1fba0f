/**
 * Development defaults for `npm run demo` and the tests: fixed, printed, and never for production
 * (the demo's database is in memory, so nothing they protect outlives the process).
 */
export const DEV_DEFAULTS: Readonly<Record<string, string>> = {
  NODE_ENV: 'development',
  LTI_KEY: 'laurel-demo-lti-key-not-for-production-0001',
  ADMIN_API_KEY: 'laurel-demo-admin-key-not-for-production',
  ENCRYPTION_KEY: '6c617572656c2d64656d6f2d656e6372797074696f6e2d6b65792d3030303031',
  LOG_LEVEL: 'info',
  JOBS_PROCESS_EVERY_MS: '500',
};

/** The environment with every unset variable given its development default; reports which were filled. */
export function withDevDefaults(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}) {
  const filled: Record<string, string> = {};
  const result: NodeJS.ProcessEnv = { ...env };
  for (const [key, value] of Object.entries({ ...DEV_DEFAULTS, ...extra })) {
    if (result[key] === undefined || result[key] === '') {
      result[key] = value;
      filled[key] = value;
    }
  }
  return { env: result, filled };
}

/** The secrets whose development defaults are printed, and so public. */
const PUBLIC_SECRETS = ['LTI_KEY', 'ADMIN_API_KEY', 'ENCRYPTION_KEY'] as const;

/**
 * Why this environment must not run: NODE_ENV=production with a development key (printed by the demo,
 * written in this file, so known to anyone). Undefined when nothing is wrong.
 */
export function publicKeysInProduction(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_ENV !== 'production') return undefined;
  const public_ = PUBLIC_SECRETS.filter((key) => !env[key] || env[key] === DEV_DEFAULTS[key]);
  if (public_.length === 0) return undefined;
  return (
    `Refusing to start with NODE_ENV=production: ${public_.join(', ')} ` +
    `${public_.length === 1 ? 'is' : 'are'} unset or the public development default. ` +
    'Set your own secrets (see .env.example), or leave NODE_ENV unset for the demo.'
  );
}
