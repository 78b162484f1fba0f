/** The demo home page: accessible markup, and launch buttons that really start a launch. */
import { Browser } from '../support/lms-platform/browser.js';
import { findAutoSubmitForm, parseForms } from '../support/lms-platform/index.js';
import { startRig, type Rig } from './helpers.js';

describe.each(['moodle', 'canvas'] as const)('%s demo home page', (flavour) => {
  let rig: Rig;
  let html: string;
  beforeAll(async () => {
    rig = await startRig(flavour);
    const res = await fetch(`${rig.platform.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    html = await res.text();
  });
  afterAll(() => rig.close());

  test('names the platform, the demo courses and people, with an embedded tool frame', () => {
    expect(html).toContain(`<title>${rig.platform.name}</title>`);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('name="viewport" content="width=device-width, initial-scale=1"');
    for (const text of [
      'Chemistry 101',
      'World History',
      'Iris Instructor',
      'Ada Lovelace',
      'Grace Hopper',
    ]) {
      expect(html).toContain(text);
    }
    expect(html).toContain('<iframe name="tool" title="Laurel"');
    expect(html).toContain('@media (max-width:400px)');
  });

  test('offers instructor and learner launches into the frame or a new window', () => {
    const forms = parseForms(html);
    // Two courses × (one instructor, a deep-linking launch of the instructor, two learners).
    expect(forms).toHaveLength(8);
    for (const form of forms) {
      expect(form).toMatchObject({ method: 'POST', action: `${rig.tool.url}/lti/login`, target: 'tool' });
      expect(form.fields.map(([n]) => n)).toEqual(
        expect.arrayContaining([
          'iss',
          'login_hint',
          'target_link_uri',
          'lti_message_hint',
          'client_id',
          'lti_deployment_id',
        ]),
      );
    }
    expect(html.split('>Launch as instructor<').length - 1).toBe(2);
    expect(html.split('>Launch as learner<').length - 1).toBe(4);
    expect(html.split('>Add Laurel to the course<').length - 1).toBe(2);
    expect(html.split('formtarget="_blank"').length - 1).toBe(8);
    expect(html).toContain('aria-label="Launch as learner (Grace Hopper) in a new window"');
  });

  test('a button of the page launches the tool for real', async () => {
    const browser = new Browser({ topUrl: rig.platform.url });
    const instructorForm = parseForms(html)[0];
    let page = await browser.submit(instructorForm, `${rig.platform.url}/`);
    const idTokenForm = findAutoSubmitForm(page.body)!;
    expect(idTokenForm.action).toBe(`${rig.tool.url}/lti/launch`);
    page = await browser.submit(idTokenForm, page.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Instructor view');
    expect(page.body).toContain('Chemistry 101');
  });
});
