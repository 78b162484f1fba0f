import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

/** One message, in plain text and HTML; `headers` carries List-Unsubscribe and the like. */
export type Mail = {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
};

/** What sends mail: nodemailer over SMTP_URL in Laurel, anything with this shape in a test or the demo. */
export type Mailer = { send(mail: Mail): Promise<void>; close(): void };

/**
 * The SMTP mailer of SMTP_URL (smtp:// with STARTTLS when the server offers it, smtps:// for TLS
 * from the start), or null when SMTP_URL is unset: then Laurel sends no mail at all.
 */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom'>): Mailer | null {
  if (!config.smtpUrl) return null;
  const transport = nodemailer.createTransport(config.smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({ from: config.mailFrom, ...mail });
    },
    close: () => transport.close(),
  };
}
