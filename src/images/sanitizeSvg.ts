import createDOMPurify, { type DOMPurify } from 'dompurify';
import { JSDOM } from 'jsdom';

let purifier: { purify: DOMPurify; window: JSDOM['window'] } | undefined;

/** A safe link inside a badge: to the badge itself, or an embedded raster image. */
const SAFE_HREF = /^(#|data:image\/(png|jpeg|gif);base64,)/i;

function instance() {
  if (purifier) return purifier;
  const { window } = new JSDOM('');
  const purify = createDOMPurify(window as unknown as Parameters<typeof createDOMPurify>[0]);
  // A badge is shown to anyone who opens a credential: it may not load anything from elsewhere
  // (tracking pixels, remote fonts), so links and CSS URLs must stay inside the document.
  purify.addHook('uponSanitizeAttribute', (_node, data) => {
    if (
      (data.attrName === 'href' || data.attrName === 'xlink:href') &&
      !SAFE_HREF.test(data.attrValue.trim())
    )
      data.keepAttr = false;
    if (data.attrName === 'style' && /url\s*\(\s*['"]?\s*(?!#|data:)/i.test(data.attrValue))
      data.keepAttr = false;
  });
  purify.addHook('uponSanitizeElement', (node, data) => {
    if (data.tagName === 'style' && node.textContent)
      node.textContent = node.textContent
        .replace(/@import[^;]*;?/gi, '')
        .replace(/url\s*\(\s*['"]?\s*(?!#|data:)[^)]*\)/gi, 'none');
  });
  purifier = { purify, window };
  return purifier;
}

export type SanitisedSvg = { svg: string; removed: string[] };

/**
 * Sanitises an uploaded SVG with DOMPurify (SVG profile): scripts, event handlers,
 * foreignObject, javascript: and remote links are removed. Returns well-formed XML and what was
 * removed, so the uploader can be told.
 */
export function sanitizeSvg(source: string): SanitisedSvg {
  const { purify, window } = instance();
  const body = purify.sanitize(source, {
    USE_PROFILES: { svg: true, svgFilters: true },
    RETURN_DOM: true,
  }) as unknown as { querySelector(s: string): unknown };
  const removed = purify.removed
    .map((r) =>
      'attribute' in r && r.attribute
        ? `attribute ${r.attribute.name}`
        : 'element' in r
          ? `<${r.element.nodeName.toLowerCase()}>`
          : '',
    )
    .filter((r) => r && r !== '<body>' && r !== '<html>' && r !== '<head>');
  const root = body.querySelector('svg');
  if (!root) return { svg: '', removed };
  const xml = new window.XMLSerializer().serializeToString(
    root as Parameters<InstanceType<typeof window.XMLSerializer>['serializeToString']>[0],
  );
  return { svg: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, removed: [...new Set(removed)] };
}
