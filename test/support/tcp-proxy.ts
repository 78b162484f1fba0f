import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of the test database, so a test can make the database unreachable and bring it
 * back (the same for the in-memory engine and a real MongoDB): `cut()` drops every open connection and
 * refuses new ones; `restore()` lets them through again. The data behind it is untouched.
 */
/**
 * Opens the database connection for a client of a proxy: both sockets are tracked in `sockets` and
 * both go when either closes or fails. Piping is left to the caller (a gate reads what passes).
 */
export function connectUpstream(
  client: net.Socket,
  target: { host: string; port: number },
  sockets: Set<net.Socket>,
): net.Socket {
  const upstream = net.connect(target.port, target.host);
  sockets.add(client).add(upstream);
  const drop = () => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on('error', drop).on('close', drop);
  upstream.on('error', drop).on('close', drop);
  return upstream;
}

export type TcpProxy = { port: number; cut(): void; restore(): void; close(): Promise<void> };

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let open = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connectUpstream(client, target, sockets);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The same database URI, reached through the proxy (one server, so the driver never looks past it). */
export function proxiedUri(uri: string, proxy: TcpProxy): string {
  const url = new URL(uri);
  if (url.protocol !== 'mongodb:')
    throw new Error(
      `the outage tests need a mongodb:// URI with one host to put a proxy in front of, not ${url.protocol}`,
    );
  url.host = `127.0.0.1:${proxy.port}`;
  url.searchParams.set('directConnection', 'true');
  return url.toString();
}
