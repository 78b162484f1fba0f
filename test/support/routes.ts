/**
 * Every route the app answers, read from express's routers (express 5 / router 2, and the express 4
 * app ltijs mounts), so a test over "every route" cannot miss one added later.
 */
export type AppRoute = { method: string; path: string };

type Layer = {
  rawPath?: unknown;
  regexp?: RegExp & { fast_slash?: boolean };
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[]; _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } };
  name?: string;
};

function pathsOf(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.flatMap(pathsOf);
  if (typeof raw === 'string') return [raw];
  if (raw instanceof RegExp) return [`regexp:${raw.source}`];
  return [''];
}

/** express 4 keeps only the regexp of a mounted router; recover its plain prefix where it has one. */
function prefixOfExpress4(layer: Layer): string {
  const source = layer.regexp?.source;
  if (!source || layer.regexp?.fast_slash) return '';
  const m = /^\^((?:\\\/[\w.-]+)*)\\\/\?\(\?=\\\/\|\$\)$/.exec(source);
  return m ? m[1]!.replace(/\\\//g, '/') : `regexp:${source}`;
}

function join(prefix: string, path: string): string {
  if (path === '' || path === '/') return prefix || '/';
  return `${prefix.replace(/\/$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
}

export function listRoutes(stack: Layer[], prefix = ''): AppRoute[] {
  const routes: AppRoute[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      // express 4's app.all() names every method it knows: one ALL route, as express 5 says it.
      if (methods.length > 20) {
        for (const path of pathsOf(layer.route.path))
          routes.push({ method: 'ALL', path: join(prefix, path) });
        continue;
      }
      for (const path of pathsOf(layer.route.path))
        for (const method of methods) routes.push({ method: method.toUpperCase(), path: join(prefix, path) });
      if (layer.route.methods._all)
        for (const path of pathsOf(layer.route.path))
          routes.push({ method: 'ALL', path: join(prefix, path) });
      continue;
    }
    const inner = layer.handle?.stack ?? layer.handle?._router?.stack ?? layer.handle?.router?.stack;
    if (!inner) continue;
    const mounts = layer.rawPath !== undefined ? pathsOf(layer.rawPath) : [prefixOfExpress4(layer)];
    for (const mount of mounts) routes.push(...listRoutes(inner, join(prefix, mount === '/' ? '' : mount)));
  }
  return routes;
}
