/** Unit tests of the driver's HTML form scanner and cookie jar. */
import {
  CookieJar,
  decodeEntities,
  findAutoSubmitForm,
  parseForms,
  parseSetCookie,
  siteOf,
} from '../support/lms-platform/index.js';

describe('HTML forms', () => {
  test('reads attributes in any order, quoted or not, and decodes character references', () => {
    const html = `
      <FORM method=POST id='f1' ACTION="https://tool.example/lti/launch?a=1&amp;b=2" target=_self>
        <input value="x&quot;y&#39;z&#x2F;" type="hidden" name=id_token>
        <input name='state' type=hidden value='s&lt;1&gt;'>
        <input type="submit" name="go" value="Go">
        <input type="checkbox" name="unchecked" value="no">
        <input type="checkbox" name="checked" checked>
        <input name="off" value="1" disabled>
        <textarea name="note">a &amp; b</textarea>
      </form>`;
    const [form] = parseForms(html);
    expect(form).toMatchObject({
      id: 'f1',
      method: 'POST',
      action: 'https://tool.example/lti/launch?a=1&b=2',
      target: '_self',
    });
    expect(form.fields).toEqual([
      ['id_token', `x"y'z/`],
      ['state', 's<1>'],
      ['checked', 'on'],
      ['note', 'a & b'],
    ]);
  });

  test('ignores forms in comments and scripts; a missing method means GET', () => {
    const html =
      '<!-- <form action="/hidden"></form> --><script>var s = "<form action=/js>";</script><form action="/real"></form>';
    const forms = parseForms(html);
    expect(forms).toHaveLength(1);
    expect(forms[0]).toMatchObject({ action: '/real', method: 'GET' });
  });

  test('finds the form a script submits, by id when there are several', () => {
    const html =
      '<form id="other" action="/a"></form><form id="lti" method="post" action="/b"><input type="hidden" name="x" value="1"></form>' +
      '<script>document.getElementById("lti").submit();</script>';
    expect(findAutoSubmitForm(html)?.action).toBe('/b');
    expect(findAutoSubmitForm('<form action="/a"></form>')).toBeUndefined();
    expect(
      findAutoSubmitForm('<form action="/a"></form><script>document.forms[0].submit()</script>')?.action,
    ).toBe('/a');
  });

  test('leaves unknown references alone', () => {
    expect(decodeEntities('a &unknown; b & c &#65;')).toBe('a &unknown; b & c A');
  });
});

describe('cookie jar', () => {
  const tool = new URL('http://localhost:3000/lti/login');
  const same = { crossSite: false, topLevel: true, method: 'GET' };

  test('sites ignore ports and keep schemes; localhost is secure', () => {
    expect(siteOf('http://localhost:3000/x')).toBe(siteOf('http://localhost:4000/'));
    expect(siteOf('http://localhost/')).not.toBe(siteOf('http://127.0.0.1/'));
    expect(siteOf('https://a.school.edu/')).toBe(siteOf('https://b.school.edu/'));
    const jar = new CookieJar();
    jar.store(tool, ['s=1; Secure; SameSite=None'], same);
    jar.store(new URL('http://tool.example/'), ['t=1; Secure'], same);
    expect(jar.list().map((c) => c.name)).toEqual(['s']);
    expect(jar.rejected[0].reason).toContain('insecure');
  });

  test('parses attributes; Max-Age beats Expires; Domain must match', () => {
    const c = parseSetCookie(
      'a=b=c; Path=/lti; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly',
      tool,
      1000,
    )!;
    expect(c).toMatchObject({
      name: 'a',
      value: 'b=c',
      path: '/lti',
      expires: 61000,
      httpOnly: true,
      hostOnly: true,
    });
    expect(parseSetCookie('a=1; Domain=other.example', tool)).toBeUndefined();
    expect(parseSetCookie('__Host-a=1; Secure; Path=/x', tool)).toBeUndefined();
  });

  test('Max-Age=0 deletes; paths limit where cookies go', () => {
    const jar = new CookieJar();
    jar.store(tool, ['a=1; Path=/lti', 'b=2; Path=/other'], same);
    expect(jar.header(new URL('http://localhost:3000/lti/launch'), same)).toBe('a=1');
    jar.store(tool, ['a=gone; Path=/lti; Max-Age=0'], same);
    expect(jar.header(new URL('http://localhost:3000/lti/launch'), same)).toBeUndefined();
  });

  test('SameSite decides what a cross-site request carries', () => {
    const jar = new CookieJar();
    const t0 = 1_000_000;
    jar.store(
      tool,
      ['none=1; SameSite=None; Secure', 'lax=1; SameSite=Lax', 'strict=1; SameSite=Strict', 'unset=1'],
      same,
      t0,
    );
    const at = (method: string, topLevel: boolean, now = t0) =>
      jar
        .header(tool, { crossSite: true, topLevel, method }, now)
        ?.split('; ')
        .map((p) => p.split('=')[0]);
    expect(at('GET', true)).toEqual(['none', 'lax', 'unset']);
    expect(at('POST', true)).toEqual(['none', 'unset']);
    expect(at('POST', true, t0 + 3 * 60 * 1000)).toEqual(['none']);
    expect(at('GET', false)).toEqual(['none']);
    expect(
      jar.header(tool, { crossSite: true, topLevel: false, method: 'GET', blockThirdParty: true }, t0),
    ).toBeUndefined();
  });
});
