import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy in front of a test service (a Credly or Accredible stand-in, or Laurel itself) that
 * plays the faults of the network between them:
 * - `down('refused')`: nothing listens on the port (connection refused) until `up()`;
 * - `down({ status, headers })`: the gate answers every request itself (a 503 from a load balancer);
 * - `holdNext(match)`: the next matching request (after `skip` of them passed) reaches the service,
 *   which acts on it, but its answer is held back until `release()` (a caller killed mid-request
 *   never gets it);
 * - `loseAnswers(match, n)`: the next n matching requests reach the service, then the caller's
 *   connection is cut before the answer (the caller cannot know the request was taken).
 * Requests that reach the service are logged with their method, path and the answer's status.
 */
export type GateMatch = { method?: string; path?: RegExp; skip?: number };
export type HeldRequest = { method: string; path: string; status: number; body: string };
export type GateLog = { method: string; path: string; status: number | 'refused' | 'lost' | 'held' };

export type HttpGate = {
  url: string;
  port: number;
  log: GateLog[];
  down(mode: 'refused' | { status: number; headers?: Record<string, string>; body?: string }): Promise<void>;
  up(): Promise<void>;
  /** Resolves once the service has answered a matching request and the answer is held. */
  holdNext(match: GateMatch): Promise<HeldRequest & { release(): void }>;
  loseAnswers(match: GateMatch, times: number): void;
  close(): Promise<void>;
};

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);
const matches = (m: GateMatch, method: string, path: string) =>
  (!m.method || m.method === method) && (!m.path || m.path.test(path));

export async function startHttpGate(target: string): Promise<HttpGate> {
  const upstream = new URL(target);
  let answerItself: { status: number; headers?: Record<string, string>; body?: string } | null = null;
  const holds: {
    match: GateMatch;
    skip: number;
    found: (h: HeldRequest & { release(): void }) => void;
  }[] = [];
  const losses: { match: GateMatch; times: number }[] = [];
  const pending = new Set<() => void>();
  const sockets = new Set<Socket>();
  const log: GateLog[] = [];

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (answerItself) {
        log.push({ method, path, status: answerItself.status });
        res.writeHead(answerItself.status, { 'content-type': 'application/json', ...answerItself.headers });
        res.end(answerItself.body ?? '');
        return;
      }
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method, path, headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const status = answer.statusCode ?? 502;
            const text = Buffer.concat(body);
            const send = () => {
              const back: Record<string, string | string[]> = {};
              for (const [k, v] of Object.entries(answer.headers))
                if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'content-length') back[k] = v;
              res.writeHead(status, back);
              res.end(text);
            };
            const loss = losses.find((l) => l.times > 0 && matches(l.match, method, path));
            if (loss) {
              loss.times--;
              log.push({ method, path, status: 'lost' });
              req.socket.destroy();
              return;
            }
            const hold = holds.findIndex((h) => matches(h.match, method, path) && h.skip-- <= 0);
            if (hold >= 0) {
              const [{ found }] = holds.splice(hold, 1) as [(typeof holds)[number]];
              log.push({ method, path, status: 'held' });
              const release = () => {
                pending.delete(release);
                if (!res.destroyed) send();
              };
              pending.add(release);
              found({ method, path, status, body: text.toString('utf8'), release });
              return;
            }
            log.push({ method, path, status });
            send();
          });
        },
      );
      out.on('error', () => {
        log.push({ method, path, status: 'refused' });
        req.socket.destroy();
      });
      out.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    async down(mode) {
      if (mode === 'refused') {
        if (server.listening) await stopListening();
      } else {
        answerItself = mode;
        if (!server.listening) await listen(port);
      }
    },
    async up() {
      answerItself = null;
      if (!server.listening) await listen(port);
    },
    holdNext(match) {
      return new Promise((found) => holds.push({ match, skip: match.skip ?? 0, found }));
    },
    loseAnswers(match, times) {
      losses.push({ match, times });
    },
    async close() {
      for (const release of [...pending]) release();
      if (server.listening) await stopListening();
    },
  };
}
