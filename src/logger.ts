import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One structured logger for the process. Secrets never reach a log line: the paths below
 * cover headers, LTI tokens and the settings that hold keys.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'laurel' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-laurel-signature"]',
        'res.headers["set-cookie"]',
        '*.webhookSecret',
        '*.privateKey',
        '*.id_token',
        '*.ltik',
        '*.password',
        '*.token',
      ],
      censor: '[redacted]',
    },
  });
}
