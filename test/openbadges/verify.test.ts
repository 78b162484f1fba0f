import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { CompactSign, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { bakePng, bakeSvg, unbakePng, unbakeSvg } from '../../src/issuers/openbadges/bake.js';
import { staticResolver } from '../../src/issuers/openbadges/documentLoader.js';
import type { Fetcher } from '../../src/issuers/openbadges/fetcher.js';
import { verifyBadge } from '../../src/issuers/openbadges/verify.js';
import { encodeRgbaPng } from '../../src/images/rasterBadge.js';
import { dataPath, oneEdTechDocuments, readJson } from './helpers.js';

const failed = (r: { checks: { check: string; ok: boolean }[] }) =>
  r.checks.filter((c) => !c.ok).map((c) => c.check);
const offline = { resolvers: [staticResolver(oneEdTechDocuments())] };

describe('verifying 1EdTech’s OB 3.0 examples (offline)', () => {
  it.each([['validator-ob30-simple.json'], ['spec-testvector-ob3-signed.json']])(
    'accepts %s',
    async (file) => {
      const result = await verifyBadge(readJson('1edtech', file), offline);
      expect(failed(result)).toEqual([]);
      expect(result).toMatchObject({ valid: true, format: 'ob3-data-integrity' });
      expect(result.achievement?.name).toBe('Teamwork');
    },
  );

  it('names the signature when the proof value is wrong', async () => {
    const result = await verifyBadge(
      readJson('1edtech', 'validator-ob30-simple-err-proof-value.json'),
      offline,
    );
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(['signature']);
  });

  it('names the dates when the credential has expired', async () => {
    const result = await verifyBadge(readJson('1edtech', 'validator-ob30-simple-err-expired.json'), offline);
    expect(failed(result)).toEqual(['expiry']);
    expect(result.checks.find((c) => c.check === 'expiry')?.message).toContain('Expired on 2010-01-01');
  });

  it('names the status when the bitstring status list marks it revoked', async () => {
    const result = await verifyBadge(
      readJson('1edtech', 'validator-ob30-credential-status-revoked.json'),
      offline,
    );
    expect(failed(result)).toEqual(['status']);
    expect(result.checks.find((c) => c.check === 'status')?.message).toMatch(/^Revoked by its issuer/);
  });

  it('resolves a did:key offline; the signature holds but the key is not the issuer’s', async () => {
    // 1EdTech's validator accepts this example; Laurel does not let a key vouch for an issuer id
    // (urn:uuid:…) it is not bound to, and says so.
    const result = await verifyBadge(readJson('1edtech', 'validator-ob30-simple-did-key-method.json'));
    expect(result.checks.find((c) => c.check === 'signature')?.ok).toBe(true);
    expect(failed(result)).toEqual(['issuer']);
  });

  it('cannot confirm the issuer when its profile is unknown (nothing is fetched)', async () => {
    const result = await verifyBadge(readJson('1edtech', 'validator-ob30-simple.json'));
    expect(result.checks.find((c) => c.check === 'signature')?.ok).toBe(true);
    expect(failed(result)).toEqual(['issuer']);
  });

  it('unbakes and verifies 1EdTech’s baked PNG and SVG', async () => {
    for (const file of ['validator-ob30-simple-json.png', 'validator-ob30-simple-json.svg']) {
      const result = await verifyBadge(readFileSync(dataPath('1edtech', file)), offline);
      expect([file, failed(result)]).toEqual([file, []]);
      expect(result.format).toBe('ob3-data-integrity');
    }
  });

  it('reports unreadable input as a format failure instead of throwing', async () => {
    for (const input of ['not a badge', '{"a": 1}', Buffer.from('GIF89a....')]) {
      const result = await verifyBadge(input);
      expect(result.valid).toBe(false);
      expect(failed(result)).toEqual(['format']);
    }
  });
});

describe('baking', () => {
  const png = () => encodeRgbaPng(64, 64, new Uint8Array(64 * 64 * 4).fill(200));

  it('round-trips OB 3.0 and OB 2.0 text through a PNG, one badge chunk at a time', () => {
    const json = JSON.stringify({ id: 'urn:uuid:1', name: 'Ünïcödé badge' });
    const baked = bakePng(png(), 'ob3', json);
    expect(unbakePng(baked)).toEqual({ kind: 'ob3', text: json });
    // Re-baking replaces the chunk rather than adding a second one.
    const rebaked = bakePng(baked, 'ob2', 'https://laurel.example.edu/ob2/assertions/1');
    expect(unbakePng(rebaked)).toEqual({ kind: 'ob2', text: 'https://laurel.example.edu/ob2/assertions/1' });
    expect(rebaked.toString('latin1').match(/openbadge/g)).toHaveLength(1);
    expect(unbakePng(png())).toBeNull();
  });

  it('round-trips through an SVG, escaping ]]> inside the CDATA', () => {
    const svg =
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="5"/></svg>';
    const json = JSON.stringify({ narrative: 'tricky ]]> text' });
    const baked = bakeSvg(svg, 'ob3', { json });
    expect(baked).toContain('xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"');
    expect(unbakeSvg(baked)).toEqual({ kind: 'ob3', text: json, verify: null });
    const ob2 = bakeSvg(baked, 'ob2', { verify: 'https://laurel.example.edu/ob2/assertions/1' });
    expect(unbakeSvg(ob2)).toEqual({
      kind: 'ob2',
      text: null,
      verify: 'https://laurel.example.edu/ob2/assertions/1',
    });
    expect(ob2.match(/openbadges:(credential|assertion)/g)).toHaveLength(2); // one element: open and close tag
  });
});

describe('VC-JWT credentials', () => {
  const issuer = 'https://jwt-issuer.example.org/issuers/1';
  const kid = `${issuer}#key-1`;
  const credential = () => ({
    ...readJson('1edtech', 'validator-ob30-simple.json'),
    id: 'urn:uuid:2b0a4c1e-5d9e-4c53-9d51-0b1f7f0f3a10',
    issuer: { id: issuer, type: ['Profile'], name: 'JWT Issuer' },
    proof: undefined,
  });

  async function setup() {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const profile = {
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      id: issuer,
      type: ['Profile'],
      name: 'JWT Issuer',
      assertionMethod: [{ id: kid, type: 'JsonWebKey', controller: issuer, publicKeyJwk: jwk }],
    };
    const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = { kid }) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', ...header })
        .setIssuer(issuer)
        .setNotBefore(Date.parse('2010-01-01T00:00:00Z') / 1000)
        .sign(privateKey);
    return { sign, jwk, options: { resolvers: [staticResolver({ [issuer]: profile })] } };
  }

  it('verifies a VC-JWT signed by a key the issuer lists', async () => {
    const { sign, options } = await setup();
    const result = await verifyBadge(await sign(credential()), options);
    expect(failed(result)).toEqual([]);
    expect(result).toMatchObject({ valid: true, format: 'ob3-jwt' });
  });

  it('names the signature when the payload was changed', async () => {
    const { sign, options } = await setup();
    const [header, , signature] = (await sign(credential())).split('.');
    const payload = Buffer.from(JSON.stringify({ ...credential(), name: 'Forged', iss: issuer })).toString(
      'base64url',
    );
    const result = await verifyBadge(`${header}.${payload}.${signature}`, options);
    expect(failed(result)).toEqual(['signature']);
  });

  it('does not let a key embedded in the token speak for the issuer', async () => {
    const { sign, jwk, options } = await setup();
    const result = await verifyBadge(await sign(credential(), { jwk }), options);
    expect(result.checks.find((c) => c.check === 'signature')?.ok).toBe(true);
    expect(failed(result)).toEqual(['issuer']);
  });
});

describe('OB 2.0 assertions from another issuer (local HTTP server)', () => {
  let server: http.Server;
  let base: string;
  const routes = new Map<string, { status: number; body: unknown }>();
  /** Answers only from the local server, as a verifier would fetch the issuer's URLs. */
  const fetcher: Fetcher = async (url) => {
    const res = await fetch(url);
    return { url, status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
  };
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      res.writeHead(route?.status ?? 404, { 'content-type': 'application/ld+json' });
      res.end(JSON.stringify(route?.body ?? { error: 'not found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ctx = 'https://w3id.org/openbadges/v2';
    routes.set('/issuer', {
      status: 200,
      body: {
        '@context': ctx,
        type: 'Issuer',
        id: `${base}/issuer`,
        name: 'Hosted U',
        url: 'https://hosted.example.edu',
        email: 'badges@hosted.example.edu',
        publicKey: `${base}/key`,
        revocationList: `${base}/revocations`,
      },
    });
    routes.set('/key', {
      status: 200,
      body: {
        '@context': ctx,
        type: 'CryptographicKey',
        id: `${base}/key`,
        owner: `${base}/issuer`,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }),
      },
    });
    routes.set('/revocations', {
      status: 200,
      body: {
        '@context': ctx,
        type: 'RevocationList',
        id: `${base}/revocations`,
        revokedAssertions: [{ id: 'urn:uuid:revoked', revocationReason: 'Plagiarism' }],
      },
    });
    routes.set('/badge', {
      status: 200,
      body: {
        '@context': ctx,
        type: 'BadgeClass',
        id: `${base}/badge`,
        name: 'Hosted badge',
        description: 'Awarded by Hosted U.',
        image: `${base}/badge.png`,
        criteria: { narrative: 'Do the thing.' },
        issuer: `${base}/issuer`,
      },
    });
    const assertion = (id: string, verification: Record<string, unknown> = { type: 'HostedBadge' }) => ({
      '@context': ctx,
      type: 'Assertion',
      id,
      recipient: { type: 'email', hashed: false, identity: 'ada@example.edu' },
      badge: `${base}/badge`,
      verification,
      issuedOn: '2026-01-01T00:00:00Z',
    });
    routes.set('/assertions/good', { status: 200, body: assertion(`${base}/assertions/good`) });
    routes.set('/assertions/revoked', {
      status: 410,
      body: {
        '@context': ctx,
        type: 'Assertion',
        id: `${base}/assertions/revoked`,
        revoked: true,
        revocationReason: 'Withdrawn',
      },
    });
    routes.set('/assertions/elsewhere', {
      status: 200,
      body: assertion('https://elsewhere.example.org/a/1'),
    });
    routes.set('/signed', {
      status: 200,
      body: assertion('urn:uuid:x', { type: 'SignedBadge', creator: `${base}/key` }),
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('verifies a hosted assertion fetched from its id, with every required property', async () => {
    const result = await verifyBadge(`${base}/assertions/good`, { fetcher });
    expect(failed(result)).toEqual([]);
    expect(result).toMatchObject({ valid: true, format: 'ob2-hosted' });
    expect(result.issuer?.name).toBe('Hosted U');
    expect(result.achievement?.name).toBe('Hosted badge');
  });

  it('reports a hosted assertion that answers 410 as revoked, with the reason', async () => {
    const result = await verifyBadge(
      { ...(routes.get('/assertions/good')!.body as object), id: `${base}/assertions/revoked` },
      { fetcher },
    );
    expect(failed(result)).toEqual(['status']);
    expect(result.checks[0]?.message).toBe('Revoked by its issuer: Withdrawn.');
  });

  it('refuses a hosted assertion whose fetched copy claims an id off the issuer’s origin', async () => {
    const body = routes.get('/assertions/elsewhere')!.body as Record<string, unknown>;
    // Served from the local server but claiming to live elsewhere: the fetched copy names another origin.
    const result = await verifyBadge(`${base}/assertions/elsewhere`, { fetcher });
    expect(body.id).toBe('https://elsewhere.example.org/a/1');
    expect(failed(result)).toEqual(['issuer']);
  });

  it('verifies a signed assertion (RS256 JWS) against the issuer’s key, and its revocation list', async () => {
    const payload = (id: string) =>
      Buffer.from(JSON.stringify({ ...(routes.get('/signed')!.body as object), id }), 'utf8');
    const sign = (id: string) =>
      new CompactSign(payload(id)).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const good = await verifyBadge(await sign('urn:uuid:good'), { fetcher });
    expect(failed(good)).toEqual([]);
    expect(good.format).toBe('ob2-signed');
    const revoked = await verifyBadge(await sign('urn:uuid:revoked'), { fetcher });
    expect(failed(revoked)).toEqual(['status']);
    expect(revoked.checks.find((c) => c.check === 'status')?.message).toContain('Plagiarism');
    const [h, , sig] = (await sign('urn:uuid:good')).split('.');
    const forged = await verifyBadge(`${h}.${payload('urn:uuid:forged').toString('base64url')}.${sig}`, {
      fetcher,
    });
    expect(failed(forged)).toContain('signature');
  });

  it('never fetches without a fetcher', async () => {
    const result = await verifyBadge(`${base}/assertions/good`);
    expect(failed(result)).toEqual(['format']);
  });
});
