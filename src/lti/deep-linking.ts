import { randomBytes } from 'node:crypto';
import type { DeepLinkingService, LtiIdToken } from 'ltijs';

/**
 * Deep Linking: the instructor places "Badges" in the course (a Moodle activity, a Canvas module item
 * or link). The item launches Laurel's ordinary launch URL; role routing does the rest.
 *
 * The instructor may give the item a gradebook column: the content item then carries a `lineItem`
 * (LTI Deep Linking 2.0, §3.2 "Line item"), from which Moodle makes the activity's grade item and
 * Canvas an assignment. Grades entered there reach Laurel through the AGS results poll
 * (src/lms/ags/poll.ts), named by the line item's `resourceId`, which is made here and unique per item.
 */

/** The tag of every line item Laurel asks an LMS to create. */
export const LAUREL_LINE_ITEM_TAG = 'laurel';
export const DEEP_LINK_TITLE = { default: 'Badges', maxLength: 100 } as const;
export const DEEP_LINK_SCORE_MAXIMUM = { default: 100, max: 10_000 } as const;

/** What the instructor chose on the deep-linking page. */
export type DeepLinkChoice = {
  title: string;
  /** A gradebook column of this many points, or none. */
  scoreMaximum: number | null;
};

export type DeepLinkForm = { title: string; graded: boolean; scoreMaximum: string };

export type DeepLinkChoiceResult =
  | { ok: true; choice: DeepLinkChoice }
  | { ok: false; form: DeepLinkForm; errors: { title?: string; scoreMaximum?: string } };

/** The form as first shown. */
export const defaultDeepLinkForm = (): DeepLinkForm => ({
  title: DEEP_LINK_TITLE.default,
  graded: false,
  scoreMaximum: String(DEEP_LINK_SCORE_MAXIMUM.default),
});

const field = (v: unknown): string => (typeof v === 'string' ? v : '');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Reads the deep-linking form. A form without the fields (an older page, a plain confirmation) is the
 * default "Badges" item without a column; `acceptLineItem` false (the LMS said it ignores line items)
 * never asks for a column.
 */
export function parseDeepLinkChoice(
  body: Record<string, unknown>,
  acceptLineItem: boolean,
): DeepLinkChoiceResult {
  const form: DeepLinkForm = {
    title: 'title' in body ? field(body.title).trim() : DEEP_LINK_TITLE.default,
    graded: acceptLineItem && field(body.graded) === 'on',
    scoreMaximum:
      'scoreMaximum' in body ? field(body.scoreMaximum).trim() : String(DEEP_LINK_SCORE_MAXIMUM.default),
  };
  const errors: { title?: string; scoreMaximum?: string } = {};
  if (form.title === '') errors.title = 'Give the item a name.';
  else if (form.title.length > DEEP_LINK_TITLE.maxLength)
    errors.title = `The name may have at most ${DEEP_LINK_TITLE.maxLength} characters.`;
  else if (CONTROL.test(form.title)) errors.title = 'The name may not contain control characters.';
  let scoreMaximum: number | null = null;
  if (form.graded) {
    const n = /^\d{1,5}(\.\d{1,2})?$/.test(form.scoreMaximum) ? Number(form.scoreMaximum) : NaN;
    if (!(n > 0 && n <= DEEP_LINK_SCORE_MAXIMUM.max))
      errors.scoreMaximum = `Maximum points: a number above 0 and at most ${DEEP_LINK_SCORE_MAXIMUM.max}, with at most two decimals.`;
    else scoreMaximum = n;
  }
  if (errors.title || errors.scoreMaximum) return { ok: false, form, errors };
  return { ok: true, choice: { title: form.title, scoreMaximum } };
}

/** Whether the LMS takes line items in this deep-linking request (absent: assume it does, as Moodle and Canvas do). */
export const acceptsLineItem = (token: LtiIdToken): boolean =>
  token.platformContext.deepLinkingSettings?.accept_lineitem !== false;

/** A new `resourceId` for a line item: Laurel's own id of the activity, unique per placement. */
export const newActivityResourceId = (): string => `laurel-${randomBytes(9).toString('base64url')}`;

/**
 * The LtiResourceLink content item of a choice. `resourceId` is needed when the choice has a column:
 * it becomes `data.activityId` of the grades the AGS poll reads, what badge rules name.
 */
export function badgesContentItem(
  publicUrl: string,
  choice: DeepLinkChoice = { title: DEEP_LINK_TITLE.default, scoreMaximum: null },
  resourceId?: string,
): Record<string, unknown> {
  if (choice.scoreMaximum !== null && !resourceId)
    throw new Error('a content item with a gradebook column needs its resourceId');
  return {
    type: 'ltiResourceLink',
    title: choice.title,
    text: 'The badges you can earn in this course, and your progress towards them.',
    url: `${publicUrl}/lti/launch`,
    ...(choice.scoreMaximum !== null
      ? {
          lineItem: {
            scoreMaximum: choice.scoreMaximum,
            label: choice.title,
            resourceId,
            tag: LAUREL_LINE_ITEM_TAG,
          },
        }
      : {}),
  };
}

export type DeepLinkingAnswer = { returnUrl: string; jwt: string };

/** The signed LtiDeepLinkingResponse (through ltijs, with the platform's own key pair) and where to post it. */
export async function deepLinkingAnswer(
  service: DeepLinkingService,
  token: LtiIdToken,
  items: Record<string, unknown>[],
): Promise<DeepLinkingAnswer> {
  const settings = token.platformContext.deepLinkingSettings;
  if (!settings?.deep_link_return_url)
    throw new Error(`the launch of ${token.iss} (client ${token.clientId}) is not a deep-linking request`);
  const jwt = await service.createDeepLinkingMessage(token, items, {
    message:
      items.length === 1
        ? `Laurel added "${String(items[0]!.title)}".`
        : `Laurel added ${items.length} items.`,
  });
  return { returnUrl: settings.deep_link_return_url, jwt };
}
