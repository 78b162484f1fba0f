import { createHash } from 'node:crypto';
import type { Express } from 'express';
import { perContext } from '../../context.js';

/**
 * Rendered public pages, keyed by a hash of everything the template is given (view name, view
 * model, the year the layout prints): a view whose model is the same gets the same bytes without
 * running the templates again. The key is the content itself, so an entry cannot go stale: a
 * revocation, an expiry, a renamed badge or learner changes the model, hence the key. Nothing is
 * shared between processes and nothing has to agree; least recently used entries go first.
 *
 * Pages go through `app.render` with the model alone (not `res.render`, which would mix in
 * `res.locals`, per-request values the key does not cover).
 */
export class RenderedPages {
  private readonly entries = new Map<string, Promise<string>>();
  readonly stats = { renders: 0, hits: 0 };

  constructor(private readonly maxEntries = 200) {}

  async render(app: Pick<Express, 'render'>, view: string, model: object): Promise<string> {
    const key = createHash('sha256')
      .update(`${view}\n${new Date().getUTCFullYear()}\n${JSON.stringify(model)}`)
      .digest('base64url');
    let html = this.entries.get(key);
    if (html) {
      this.stats.hits++;
      this.entries.delete(key);
    } else {
      this.stats.renders++;
      html = new Promise<string>((resolve, reject) =>
        app.render(view, model as Record<string, unknown>, (err: Error | null, out?: string) =>
          err ? reject(err) : resolve(out ?? ''),
        ),
      );
      html.catch(() => {
        if (this.entries.get(key) === html) this.entries.delete(key);
      });
    }
    this.entries.set(key, html);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return html;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The rendered pages of a Laurel. */
export const renderedPages = perContext(() => new RenderedPages());
