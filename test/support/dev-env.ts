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
