/** The outbound-request guard: which addresses Laurel may call an LMS at, and the limits of every call. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  addressAllowed,
  classifyAddress,
  EMPTY_ALLOW_LIST,
  hostAllowed,
  OutboundError,
  outboundRequest,
  parseAllowList,
  type OutboundPolicy,
} from '../../src/security/outboundFetch.js';

describe('address classification', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.4.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.10', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.127.255.254', 'carrier-grade-nat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'unique-local'],
    ['fc12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:0a00:0001::', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
    ['not an address', 'invalid'],
    ['1.2.3', 'invalid'],
    ['1.2.3.256', 'invalid'],
  ])('%s is %s', (address, range) => {
    expect(classifyAddress(address)).toBe(range);
  });
});

describe('LMS_ALLOWED_HOSTS', () => {
  const list = parseAllowList([
    'moodle.school.internal',
    '.campus.example',
    '10.20.0.0/16',
    '192.168.7.7',
    'fd00:1234::/32',
    ' LMS.Example.EDU. ',
    '',
  ]);

  it('takes host names, .domains, addresses and CIDR ranges', () => {
    expect(hostAllowed(list, 'moodle.school.internal')).toBe(true);
    expect(hostAllowed(list, 'MOODLE.school.internal.')).toBe(true);
    expect(hostAllowed(list, 'lms.example.edu')).toBe(true);
    expect(hostAllowed(list, 'canvas.campus.example')).toBe(true);
    expect(hostAllowed(list, 'campus.example')).toBe(false);
    expect(hostAllowed(list, 'evilcampus.example')).toBe(false);
    expect(hostAllowed(list, 'school.internal')).toBe(false);
    expect(hostAllowed(list, '10.20.3.4')).toBe(true);
    expect(addressAllowed(list, '10.20.3.4')).toBe(true);
    expect(addressAllowed(list, '10.21.0.1')).toBe(false);
    expect(addressAllowed(list, '::ffff:10.20.0.9')).toBe(true);
    expect(addressAllowed(list, '192.168.7.7')).toBe(true);
    expect(addressAllowed(list, '192.168.7.8')).toBe(false);
    expect(addressAllowed(list, 'fd00:1234:5::1')).toBe(true);
    expect(addressAllowed(list, 'fd00:1235::1')).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0.0/8/8',
    '1.2.3.4/x',
    'http://moodle',
    'a b',
    'host_name',
    '*.x',
  ])('refuses %s, naming it', (entry) => {
    expect(() => parseAllowList([entry])).toThrow(entry);
  });
});

/** A local HTTP server whose handler the test sets, counting the requests it gets. */
type Local = { server: Server; port: number; url: string; requests: number; close(): Promise<void> };
async function local(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Local> {
  const server = createServer((req, res) => {
    state.requests++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const state: Local = {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}

const production = (over: Partial<OutboundPolicy> = {}): OutboundPolicy => ({
  publicOnly: true,
  allowList: EMPTY_ALLOW_LIST,
  timeoutMs: 5000,
  maxBytes: 64 * 1024,
  ...over,
});

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OutboundError);
    return err as OutboundError;
  }
  throw new Error('the request did not fail');
}

describe('outbound requests', () => {
  let lms: Local;
  beforeAll(async () => {
    lms = await local((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ host: req.headers.host, auth: req.headers.authorization ?? null }));
    });
  });
  afterAll(() => lms.close());

  it('outside production, reach the test LMS on 127.0.0.1', async () => {
    const answer = await outboundRequest(production({ publicOnly: false }), `${lms.url}/config`, {
      headers: { authorization: 'Bearer t' },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ auth: 'Bearer t' });
  });

  it.each([
    ['127.0.0.1', (port: number) => `http://127.0.0.1:${port}/`],
    ['::1', (port: number) => `http://[::1]:${port}/`],
    ['::ffff:127.0.0.1', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
    ['0.0.0.0', (port: number) => `http://0.0.0.0:${port}/`],
    ['10.x', () => 'http://10.1.2.3/'],
    ['169.254.x', () => 'http://169.254.169.254/latest/meta-data/'],
    ['fd00::', () => 'https://[fd00::1]/'],
    ['fe80::', () => 'https://[fe80::1]/'],
    ['100.64.x', () => 'https://100.64.0.1/'],
    ['2130706433 (127.0.0.1 as a number)', (port: number) => `http://2130706433:${port}/`],
  ])('in production, refuse %s without connecting', async (_name, url) => {
    const before = lms.requests;
    const err = await failure(outboundRequest(production(), url(lms.port)));
    expect(err.reason).toBe('disallowed_address');
    expect(lms.requests).toBe(before);
  });

  it('in production, refuse a host name when any of its addresses is not public', async () => {
    const before = lms.requests;
    const resolve = async (host: string) =>
      host === 'lms.example.edu'
        ? [
            { address: '93.184.216.34', family: 4 },
            { address: '127.0.0.1', family: 4 },
          ]
        : [{ address: 'fd00::5', family: 6 }];
    for (const host of ['lms.example.edu', 'v6.example.edu']) {
      const err = await failure(outboundRequest(production({ resolve }), `http://${host}:${lms.port}/`));
      expect(err.reason).toBe('disallowed_address');
      expect(err.message).toContain(host);
    }
    expect(lms.requests).toBe(before);
  });

  it('connects to the address it checked, not to a second DNS answer', async () => {
    // The name "resolves" only through the policy's resolver, to an allow-listed address: the
    // request arrives, so the socket used the checked answer.
    let lookups = 0;
    const resolve = async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const policy = production({ resolve, allowList: parseAllowList(['127.0.0.0/8']) });
    const answer = await outboundRequest(policy, `http://lms.invalid:${lms.port}/x`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).host).toBe(`lms.invalid:${lms.port}`);
    expect(lookups).toBe(1);

    // A name that turns private between two lookups is refused at the one that counts.
    const answers = [[{ address: '93.184.216.34', family: 4 }], [{ address: '127.0.0.1', family: 4 }]];
    const rebinding = production({ resolve: async () => answers.shift() ?? [] });
    await rebinding.resolve!('rebind.example');
    const err = await failure(outboundRequest(rebinding, `http://rebind.example:${lms.port}/`));
    expect(err.reason).toBe('disallowed_address');
  });

  it('in production, call an allow-listed host or network', async () => {
    const byAddress = production({ allowList: parseAllowList(['127.0.0.1']) });
    expect((await outboundRequest(byAddress, `${lms.url}/`)).status).toBe(200);
    const byName = production({
      allowList: parseAllowList(['moodle.school.internal']),
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect((await outboundRequest(byName, `http://moodle.school.internal:${lms.port}/`)).status).toBe(200);
  });

  it('refuses URLs that are not http(s) or carry credentials', async () => {
    for (const url of [
      'ftp://lms.example.edu/',
      'file:///etc/passwd',
      'http://user:pw@lms.example.edu/',
      'nonsense',
    ])
      expect((await failure(outboundRequest(production(), url))).reason).toBe('invalid_url');
  });

  it('a name that does not resolve is a dns failure', async () => {
    const policy = production({
      resolve: async () => {
        throw new Error('ENOTFOUND');
      },
    });
    expect((await failure(outboundRequest(policy, 'https://nowhere.example/'))).reason).toBe('dns_failed');
  });
});

describe('outbound limits', () => {
  const open = production({ publicOnly: false, maxBytes: 16 * 1024, timeoutMs: 400 });

  it('stops reading an answer past the size limit, while it streams', async () => {
    let written = 0;
    let closedEarly = false;
    const server = await local((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(4096, 'a');
      const timer = setInterval(() => {
        written += chunk.length;
        res.write(chunk);
        if (written > 50 * 1024 * 1024) {
          clearInterval(timer);
          res.end();
        }
      }, 2);
      res.on('close', () => {
        clearInterval(timer);
        closedEarly = !res.writableFinished;
      });
    });
    try {
      const err = await failure(outboundRequest({ ...open, timeoutMs: 5000 }, `${server.url}/`));
      expect(err.reason).toBe('too_large');
      await new Promise((r) => setTimeout(r, 50));
      expect(closedEarly).toBe(true);
      expect(written).toBeLessThan(1024 * 1024);
    } finally {
      await server.close();
    }
  });

  it('refuses a declared length over the limit without reading it', async () => {
    const server = await local((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write('{');
    });
    try {
      expect((await failure(outboundRequest(open, `${server.url}/`))).reason).toBe('too_large');
    } finally {
      await server.close();
    }
  });

  it('gives up after the time limit', async () => {
    const server = await local(() => {
      /* never answers */
    });
    try {
      const started = Date.now();
      expect((await failure(outboundRequest(open, `${server.url}/`))).reason).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await server.close();
    }
  });

  it('does not follow redirects', async () => {
    const server = await local((_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/' });
      res.end();
    });
    try {
      const answer = await outboundRequest(open, `${server.url}/`);
      expect(answer.status).toBe(302);
      expect(server.requests).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('sends a POST body with its length', async () => {
    const server = await local((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        res.end(
          JSON.stringify({
            method: req.method,
            length: req.headers['content-length'],
            body: Buffer.concat(chunks).toString(),
          }),
        ),
      );
    });
    try {
      const answer = await outboundRequest(open, `${server.url}/`, { method: 'POST', body: '{"a":"ü"}' });
      expect(JSON.parse(answer.body.toString())).toEqual({ method: 'POST', length: '10', body: '{"a":"ü"}' });
    } finally {
      await server.close();
    }
  });
});
