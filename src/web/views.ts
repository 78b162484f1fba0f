import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import express from 'express';
import { engine } from 'express-handlebars';

/** The views/ folder at the project root, found from this file whether it runs from src/ or dist/src/. */
export function viewsRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..';
  return path.resolve(here, up, 'views');
}

export function configureViews(app: Express): void {
  const root = viewsRoot();
  app.engine(
    'hbs',
    engine({
      extname: '.hbs',
      defaultLayout: 'main',
      layoutsDir: path.join(root, 'layouts'),
      partialsDir: path.join(root, 'partials'),
      helpers: {
        eq: (a: unknown, b: unknown) => a === b,
        year: () => new Date().getUTCFullYear(),
      },
    }),
  );
  app.set('view engine', 'hbs');
  app.set('views', root);
  app.use('/static', express.static(path.join(root, 'static'), { maxAge: '1h', index: false }));
}
