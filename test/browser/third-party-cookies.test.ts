import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';

/**
 * The cookieless launch path exists because browsers block a framed tool's cookies. This proves
 * the test browser does block them, so that browser tests of that path test what they claim.
 */
describe('headless Chromium as the test browser', () => {
  let browser: Browser;
  let server: http.Server;
  let port: number;
  const cookiesSeen: (string | undefined)[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/lms') {
        // The LMS page on 127.0.0.1 frames the tool on localhost: another site.
        res.setHeader('content-type', 'text/html');
        res.end(
          `<!doctype html><title>LMS</title><iframe name="tool" src="http://localhost:${port}/tool"></iframe>`,
        );
        return;
      }
      if (req.url === '/tool') {
        cookiesSeen.push(req.headers.cookie);
        res.setHeader('set-cookie', 'probe=1; Path=/; SameSite=None; Secure');
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><title>Tool</title><p>tool</p>');
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as AddressInfo).port;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('blocks the cookies of a tool framed by another site, and keeps them for the site itself', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/lms`);
    await page.frame({ name: 'tool' })!.waitForLoadState();
    await page.reload();
    await page.frame({ name: 'tool' })!.waitForLoadState();
    expect(cookiesSeen).toEqual([undefined, undefined]);

    // The same tool opened top-level (first-party) keeps its cookie.
    await page.goto(`http://localhost:${port}/tool`);
    await page.goto(`http://localhost:${port}/tool`);
    expect(cookiesSeen[cookiesSeen.length - 1]).toBe('probe=1');
    await page.close();
  });
});
