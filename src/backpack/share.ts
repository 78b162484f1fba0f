/**
 * The ways to share a badge, pure: LinkedIn's "add to profile" certification form and post, X and
 * Facebook share links, and an embed code. `url` is the badge's public page (or the holder's link).
 */
export type ShareInput = {
  badgeName: string;
  issuerName: string;
  /** The issuer's LinkedIn organisation id, when the issuer profile names one. */
  linkedInOrganizationId?: string | null;
  issuedAt: Date;
  expiresAt: Date | null;
  credentialId: string;
  url: string;
  /** The embed card's URL (an iframe). */
  embedUrl: string;
  /** The badge's public picture (baked PNG), for the HTML snippet that needs no frame. */
  imageUrl?: string;
};

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function shareLinks(s: ShareInput) {
  const add = new URLSearchParams({ startTask: 'CERTIFICATION_NAME', name: s.badgeName });
  if (s.linkedInOrganizationId) add.set('organizationId', s.linkedInOrganizationId);
  else add.set('organizationName', s.issuerName);
  add.set('issueYear', String(s.issuedAt.getUTCFullYear()));
  add.set('issueMonth', String(s.issuedAt.getUTCMonth() + 1));
  if (s.expiresAt) {
    add.set('expirationYear', String(s.expiresAt.getUTCFullYear()));
    add.set('expirationMonth', String(s.expiresAt.getUTCMonth() + 1));
  }
  add.set('certUrl', s.url);
  add.set('certId', s.credentialId);
  const text = `I earned the badge “${s.badgeName}” from ${s.issuerName}.`;
  return {
    linkedInAdd: `https://www.linkedin.com/profile/add?${add.toString()}`,
    linkedInPost: `https://www.linkedin.com/sharing/share-offsite/?${new URLSearchParams({ url: s.url }).toString()}`,
    x: `https://x.com/intent/post?${new URLSearchParams({ text, url: s.url }).toString()}`,
    facebook: `https://www.facebook.com/sharer/sharer.php?${new URLSearchParams({ u: s.url }).toString()}`,
    embedHtml:
      `<iframe src="${escape(s.embedUrl)}" title="${escape(`Badge: ${s.badgeName}`)}" ` +
      `style="width:100%;max-width:360px;height:420px;border:0" loading="lazy"></iframe>`,
    embedUrl: s.embedUrl,
    // For sites that allow no iframe: the picture and the name, each linked to the badge's page.
    snippetHtml: s.imageUrl
      ? `<a href="${escape(s.url)}"><img src="${escape(s.imageUrl)}" alt="${escape(`Badge: ${s.badgeName}`)}" ` +
        `width="120" height="120" style="max-width:100%;height:auto"></a>\n` +
        `<p><a href="${escape(s.url)}">${escape(s.badgeName)}</a>, awarded by ${escape(s.issuerName)}</p>`
      : null,
  };
}
