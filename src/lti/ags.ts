import type { GradeService, LineItem, LtiIdToken } from 'ltijs';

/**
 * Assignment and Grade Services, through ltijs's Grade service and its access tokens. A tool sees only
 * its own line items and their results (on Canvas and Moodle alike), so these helpers manage the
 * columns Laurel creates and read what the LMS recorded in them: the basis of grade-triggered awards.
 * Native quiz and assignment grades come from the LMS's event feeds instead.
 */

/** Where a course's line items live; kept from a launch so that jobs can call AGS later without one. */
export type AgsTarget = {
  issuer: string;
  clientId: string;
  /** The AGS claim's `lineitems` URL of the course. */
  lineItemsUrl: string;
  /** Binds created line items to this resource link, when given. */
  resourceLinkId?: string | null;
};

export type AgsResult = {
  userId: string;
  resultScore: number | null;
  resultMaximum: number | null;
  comment: string | null;
};

/** The AGS target of a launch, or null when the LMS granted no AGS (no `lineitems` URL in the claim). */
export function agsTargetOf(token: LtiIdToken): AgsTarget | null {
  const lineItemsUrl = token.platformContext.endpoint?.lineitems;
  if (!lineItemsUrl) return null;
  return {
    issuer: token.iss,
    clientId: token.clientId,
    lineItemsUrl,
    resourceLinkId: token.platformContext.resource?.id ?? null,
  };
}

const tokenFor = (target: AgsTarget) => ({
  iss: target.issuer,
  clientId: target.clientId,
  platformContext: {
    endpoint: { lineitems: target.lineItemsUrl },
    resource: target.resourceLinkId ? { id: target.resourceLinkId } : null,
  },
});

export async function createLineItem(
  grade: GradeService,
  target: AgsTarget,
  item: {
    label: string;
    scoreMaximum: number;
    resourceId?: string;
    tag?: string;
    bindToResourceLink?: boolean;
  },
): Promise<LineItem & { id: string }> {
  if (!(item.scoreMaximum > 0)) throw new Error(`line item "${item.label}" needs a scoreMaximum above 0`);
  const body: LineItem = { label: item.label, scoreMaximum: item.scoreMaximum };
  if (item.resourceId) body.resourceId = item.resourceId;
  if (item.tag) body.tag = item.tag;
  if (item.bindToResourceLink && target.resourceLinkId) body.resourceLinkId = target.resourceLinkId;
  const created = await grade.createLineItem(tokenFor(target), body);
  if (!created?.id)
    throw new Error(`the LMS at ${target.issuer} created line item "${item.label}" without an id`);
  return created as LineItem & { id: string };
}

/** Every line item of the course that this tool owns (all pages), optionally filtered. */
export async function listLineItems(
  grade: GradeService,
  target: AgsTarget,
  filter: { resourceId?: string; tag?: string } = {},
): Promise<LineItem[]> {
  const items: LineItem[] = [];
  let page = await grade.getLineItems(tokenFor(target), filter);
  items.push(...page.lineItems);
  for (let pages = 1; page.next && pages < 100; pages++) {
    page = await grade.getLineItems(tokenFor(target), { url: page.next });
    items.push(...page.lineItems);
  }
  return items;
}

/** The results of one line item (all pages), as numbers; needs the result.readonly scope. */
export async function readResults(
  grade: GradeService,
  target: AgsTarget,
  lineItemUrl: string,
  filter: { userId?: string } = {},
): Promise<AgsResult[]> {
  const out: AgsResult[] = [];
  const add = (scores: Record<string, unknown>[]) => {
    for (const s of scores) {
      if (typeof s.userId !== 'string') continue;
      out.push({
        userId: s.userId,
        resultScore: typeof s.resultScore === 'number' ? s.resultScore : null,
        resultMaximum: typeof s.resultMaximum === 'number' ? s.resultMaximum : null,
        comment: typeof s.comment === 'string' ? s.comment : null,
      });
    }
  };
  let page = await grade.getScores(
    tokenFor(target),
    lineItemUrl,
    filter.userId ? { userId: filter.userId } : {},
  );
  add(page.scores);
  for (let pages = 1; page.next && pages < 100; pages++) {
    page = await grade.getScores(tokenFor(target), lineItemUrl, { url: page.next });
    add(page.scores);
  }
  return out;
}
