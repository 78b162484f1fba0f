import { z } from 'zod';

/**
 * Text that outside input may put into names, ids and descriptions. NUL and the other C0 controls
 * (but tab and line breaks) break logs, cookies and other programs that read our data; a lone UTF-16
 * surrogate is not a character at all and cannot be written as UTF-8 or BSON faithfully.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string is unfit as outside text, or undefined when it is fine. */
export function unsafeTextReason(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters';
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(value)) return 'must not contain lone surrogates (invalid Unicode)';
  return undefined;
}

/** A trimmed string of at most `max` characters with no NUL, control characters or lone surrogates. */
export function safeText(max: number) {
  return z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .superRefine((value, ctx) => {
      const reason = unsafeTextReason(value);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    });
}
