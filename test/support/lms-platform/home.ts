/**
 * The demo home page: the platform's courses with buttons that start real browser launches of the tool (a form
 * POST to its OIDC initiation URL), embedded in an iframe as LMSs do, or in a new window.
 */
import { Router, type Request, type Response } from 'express';
import type { PlatformContext } from './context.js';
import { escapeHtml, hiddenInputs, page } from './html.js';
import { createLaunch, loginParams } from './oidc.js';
import { capabilitiesScript, storageFrame } from './storage.js';
import type { Course, CourseRole, PlatformUser } from './types.js';

const STYLE =
  'main{max-width:64rem}header{border-bottom:1px solid #ccc;margin-bottom:1rem}' +
  '.courses{display:flex;flex-wrap:wrap;gap:1rem}' +
  '.course{flex:1 1 18rem;border:1px solid #bbb;border-radius:.5rem;padding:.75rem 1rem}' +
  '.course h3{margin:.25rem 0}.launch{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}' +
  '.launch button{min-height:2.75rem}.secondary{background:#fff;border:1px solid #555}' +
  'iframe{width:100%;min-height:36rem;border:1px solid #888;border-radius:.25rem}' +
  'ul.people{padding-left:1.25rem}@media (max-width:400px){body{padding:.5rem}.launch button{width:100%}}';

function isStaff(roles: CourseRole[]): boolean {
  return roles.includes('Instructor') || roles.includes('TeachingAssistant');
}

function launchForm(
  ctx: PlatformContext,
  course: Course,
  user: PlatformUser,
  label: string,
  messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest' = 'LtiResourceLinkRequest',
): string {
  const launch = createLaunch(ctx, { courseId: course.id, sub: user.sub, messageType });
  const action = ctx.store.client(launch.clientId).initiateLoginUri;
  const describedBy = `who-${escapeHtml(launch.id)}`;
  return (
    `<form class="launch" method="post" action="${escapeHtml(action)}" target="tool">` +
    hiddenInputs(loginParams(ctx, launch)) +
    `<button type="submit" aria-describedby="${describedBy}">${escapeHtml(label)}</button>` +
    `<button type="submit" class="secondary" formtarget="_blank" ` +
    `aria-label="${escapeHtml(`${label} (${user.name}) in a new window`)}">New window</button>` +
    `<span id="${describedBy}">${escapeHtml(user.name)}</span></form>`
  );
}

function courseCard(ctx: PlatformContext, course: Course): string {
  const members = ctx.store.members(course.id).filter((m) => m.enrolment.status === 'Active');
  const instructor = members.find((m) => isStaff(m.enrolment.roles));
  const learners = members.filter((m) => m.enrolment.roles.includes('Learner'));
  // Site administrators launch from any course, enrolled or not, as in Moodle and Canvas.
  const admins = [...ctx.store.users.values()].filter((u) => u.admin);
  const forms = [
    ...(instructor ? [launchForm(ctx, course, instructor.user, 'Launch as instructor')] : []),
    // "Select content" of Moodle's activity form, "Add a module item" of Canvas: a deep-linking launch.
    ...(instructor
      ? [launchForm(ctx, course, instructor.user, 'Add Laurel to the course', 'LtiDeepLinkingRequest')]
      : []),
    ...learners.map((m) => launchForm(ctx, course, m.user, 'Launch as learner')),
    ...admins.map((u) => launchForm(ctx, course, u, 'Launch as administrator')),
  ];
  const people = members
    .map((m) => `<li>${escapeHtml(m.user.name)} — ${escapeHtml(m.enrolment.roles.join(', '))}</li>`)
    .join('');
  return (
    `<section class="course" aria-labelledby="course-${escapeHtml(course.id)}">` +
    `<h3 id="course-${escapeHtml(course.id)}">${escapeHtml(course.title)}</h3>` +
    `<p>Course ${escapeHtml(course.label)} · id ${escapeHtml(course.id)}</p>` +
    (forms.length > 0 ? forms.join('') : '<p>No one is enrolled yet.</p>') +
    `<details><summary>People</summary><ul class="people">${people}</ul></details></section>`
  );
}

/**
 * What Moodle's activity form does with a deep-linking answer: its return page, loaded in the tool's
 * frame, calls processContentItemReturnData on the page around it (mod/lti/contentitem_return.php).
 */
function contentItemReceiver(): string {
  return (
    '<script>window.processContentItemReturnData=function(items){' +
    "document.getElementById('content-item-result').textContent=" +
    "'Selected: '+items.map(function(i){return i.title;}).join(', ');};</script>"
  );
}

export function homePage(ctx: PlatformContext): string {
  const courses = [...ctx.store.courses.values()];
  const body =
    `<main><header><h1>${escapeHtml(ctx.name)}</h1>` +
    `<p>A test ${escapeHtml(ctx.profile.flavour === 'canvas' ? 'Canvas' : 'Moodle')} platform for Laurel. ` +
    `Issuer <code>${escapeHtml(ctx.issuer)}</code>, client id <code>${escapeHtml(ctx.defaultClientId)}</code>.</p>` +
    (ctx.homeLinks ?? [])
      .map((l) => `<p><a href="${escapeHtml(l.href)}" target="_blank">${escapeHtml(l.label)}</a></p>`)
      .join('') +
    '</header>' +
    `<section aria-labelledby="courses-h"><h2 id="courses-h">Courses</h2>` +
    (courses.length > 0
      ? `<div class="courses">${courses.map((c) => courseCard(ctx, c)).join('')}</div>`
      : '<p>No courses yet.</p>') +
    '</section><section aria-labelledby="tool-h"><h2 id="tool-h">Laurel</h2>' +
    '<iframe name="tool" title="Laurel" src="about:blank" allow="clipboard-write"></iframe>' +
    '<p id="content-item-result" role="status"></p>' +
    '</section></main>' +
    contentItemReceiver() +
    storageFrame(ctx) +
    capabilitiesScript(ctx);
  return page(ctx.name, body, STYLE);
}

export function homeRouter(ctx: PlatformContext): Router {
  const router = Router();
  router.get('/', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').type('html').send(homePage(ctx));
  });
  return router;
}
