import type { DeepLinkingService, LtiIdToken } from 'ltijs';

/**
 * Deep Linking: the instructor places "Badges" in the course (a Moodle activity, a Canvas module item
 * or link). The item launches Laurel's ordinary launch URL; role routing does the rest.
 */
export function badgesContentItem(publicUrl: string): Record<string, unknown> {
  return {
    type: 'ltiResourceLink',
    title: 'Badges',
    text: 'The badges you can earn in this course, and your progress towards them.',
    url: `${publicUrl}/lti/launch`,
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
