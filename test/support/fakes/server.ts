import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the Credly and Accredible fakes share: a local HTTP server, a log of the requests it got,
 * and knobs that make the next matching requests fail the way a real service can.
 */

export type LoggedRequest = {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
};

/** One injected fault for the next request whose method and path match. */
export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** The service does the work, then never answers (the client times out: outcome unknown). */
  | { kind: 'act-then-hang' }
  /** The connection is cut before anything is done. */
  | { kind: 'drop' };

export type FaultRule = { method?: string; path?: RegExp; fault: Fault; times: number };

export type Reply = { status: number; body?: unknown; text?: string; headers?: Record<string, string> };
export type Handler = (req: {
  method: string;
  url: URL;
  body: unknown;
  authorization: string | undefined;
}) => Reply;

export class FakeService {
  readonly requests: LoggedRequest[] = [];
  private faults: FaultRule[] = [];
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  url = '';

  constructor(private readonly handle: Handler) {}

  /** The next `times` requests matching `method` and `path` get `fault`. */
  inject(fault: Fault, match: { method?: string; path?: RegExp; times?: number } = {}): void {
    this.faults.push({ method: match.method, path: match.path, fault, times: match.times ?? 1 });
  }

  /** Requests of one method whose path matches. */
  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.serve(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private takeFault(method: string, path: string): Fault | null {
    const rule = this.faults.find(
      (f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)) && f.times > 0,
    );
    if (!rule) return null;
    rule.times--;
    this.faults = this.faults.filter((f) => f.times > 0);
    return rule.fault;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":"body is not JSON"}');
        return;
      }
    }
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      body,
    });
    const fault = this.takeFault(method, url.pathname);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? '');
      return;
    }
    const reply = this.handle({ method, url, body, authorization: req.headers.authorization });
    // The work is done; the answer never comes.
    if (fault?.kind === 'act-then-hang') return;
    const text = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    res.writeHead(reply.status, {
      'content-type': reply.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json',
      ...reply.headers,
    });
    res.end(text);
  }
}
