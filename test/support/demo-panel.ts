import { randomBytes } from 'node:crypto';
import express, { Router } from 'express';
import { signatureHeader } from '../../src/events/signature.js';

/**
 * The demo LMS's event panel: a person plays the LMS for a demo learner (set a grade, complete an
 * activity, complete the course). Each action is a signed event sent over HTTP to Laurel's public
 * event endpoint, exactly as an LMS plugin sends it, and the page shows what was sent and the answer.
 */
export type PanelCourse = { id: string; title: string };
export type PanelUser = { id: string; name: string; email: string };

export type EventPanelOptions = {
  /** Where Laurel listens (its /api/v1/events). */
  laurelUrl: string;
  platformId: () => string | undefined;
  webhookSecret: () => string | undefined;
  courses: () => PanelCourse[];
  learners: () => PanelUser[];
  /** Path the router is mounted at. */
  basePath?: string;
  /** With the admin key, the panel reads the learner's progress before and after, and says which badges moved. */
  adminApiKey?: string;
  /** The LMS's home page, linked back to from the panel. */
  lmsUrl?: () => string | undefined;
};

/** What the panel was last asked to send, offered again (a person sends a few grades in a row). */
type Choice = { course?: string; user?: string; activity?: string; score?: string; maxScore?: string };

/** One badge's progress for a learner, as the admin API's /progress answers it. */
type ProgressItem = { templateId: string; ratio: number; completedAt: string | null };
export type BadgeMove = { name: string; before: number; after: number; earned: boolean };

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const DEMO_ACTIVITIES = [
  { id: 'quiz-1', title: 'Quiz 1', type: 'quiz' },
  { id: 'quiz-2', title: 'Quiz 2', type: 'quiz' },
  { id: 'quiz-3', title: 'Quiz 3', type: 'quiz' },
  { id: 'lab-report', title: 'Lab report', type: 'assign' },
  { id: 'final-exam', title: 'Final exam', type: 'quiz' },
];

/**
 * Tells Laurel the demo courses' activities, as the Moodle plugin does with its course structure
 * (a signed `catalogue` to the Moodle receiver), so the badge builder offers them by name.
 */
export async function announceDemoActivities(
  laurelUrl: string,
  platformId: string,
  webhookSecret: string,
  courses: PanelCourse[],
): Promise<number> {
  const raw = JSON.stringify({
    catalogue: courses.map((c) => ({
      course: { id: c.id, title: c.title },
      full: true,
      activities: DEMO_ACTIVITIES.map((a) => ({ id: a.id, name: a.title, type: a.type, maxScore: 100 })),
    })),
  });
  const res = await fetch(`${laurelUrl}/api/v1/webhooks/moodle/${encodeURIComponent(platformId)}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-laurel-signature': signatureHeader(webhookSecret, raw),
    },
    body: raw,
  });
  return res.status;
}

/** The learner's progress on every badge, by template id (empty without the admin key). */
async function progressOf(options: EventPanelOptions, platformId: string, userId: string) {
  const out = new Map<string, ProgressItem>();
  if (!options.adminApiKey) return out;
  const res = await fetch(
    `${options.laurelUrl}/api/v1/progress?${new URLSearchParams({ userId, platformId, limit: '500' })}`,
    { headers: { authorization: `Bearer ${options.adminApiKey}` } },
  );
  if (!res.ok) return out;
  for (const item of ((await res.json()) as { items: ProgressItem[] }).items) out.set(item.templateId, item);
  return out;
}

/** Waits (a few seconds at most) for the event to be processed, then compares the learner's progress. */
async function badgesMoved(
  options: EventPanelOptions,
  platformId: string,
  userId: string,
  before: Map<string, ProgressItem>,
): Promise<BadgeMove[]> {
  const deadline = Date.now() + 4000;
  let after = before;
  const changed = () =>
    [...after.values()].filter((a) => {
      const b = before.get(a.templateId);
      return !b || b.ratio !== a.ratio || b.completedAt !== a.completedAt;
    });
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    after = await progressOf(options, platformId, userId);
    if (changed().length) break;
  }
  const moves: BadgeMove[] = [];
  for (const a of changed()) {
    const res = await fetch(`${options.laurelUrl}/api/v1/templates/${a.templateId}`, {
      headers: { authorization: `Bearer ${options.adminApiKey}` },
    });
    const name = res.ok ? ((await res.json()) as { name: string }).name : a.templateId;
    const b = before.get(a.templateId);
    moves.push({
      name,
      before: Math.round((b?.ratio ?? 0) * 100),
      after: Math.round(a.ratio * 100),
      earned: a.completedAt !== null && !b?.completedAt,
    });
  }
  return moves;
}

export function eventPanelRouter(options: EventPanelOptions): Router {
  const base = options.basePath ?? '/lms-panel';
  const router = Router();
  const last: Choice = {};
  router.use(base, express.urlencoded({ extended: false, limit: '16kb' }));

  router.get(base, (_req, res) => {
    res.type('html').send(page(options, base, null, last));
  });

  router.post(`${base}/send`, async (req, res) => {
    const body = req.body as Record<string, string>;
    for (const key of ['course', 'user', 'activity', 'score', 'maxScore'] as const)
      if (typeof body[key] === 'string' && body[key] !== '') last[key] = body[key].slice(0, 200);
    const course = options.courses().find((c) => c.id === body.course);
    const user = options.learners().find((u) => u.id === body.user);
    const platformId = options.platformId();
    const secret = options.webhookSecret();
    if (!course || !user || !platformId || !secret) {
      res
        .status(400)
        .type('html')
        .send(page(options, base, { error: 'Choose a course and a learner.' }, last));
      return;
    }
    const activity = DEMO_ACTIVITIES.find((a) => a.id === body.activity);
    const data: Record<string, unknown> = {};
    let type: string;
    if (body.action === 'grade') {
      const score = Number(body.score);
      const maxScore = Number(body.maxScore || 100);
      if (!activity || !Number.isFinite(score) || !Number.isFinite(maxScore) || maxScore <= 0) {
        res
          .status(400)
          .type('html')
          .send(
            page(
              options,
              base,
              { error: 'Choose an activity and give a score and a maximum above 0.' },
              last,
            ),
          );
        return;
      }
      type = 'activity.grade.updated';
      Object.assign(data, { activityId: activity.id, activityTitle: activity.title, score, maxScore });
    } else if (body.action === 'complete-activity') {
      if (!activity) {
        res
          .status(400)
          .type('html')
          .send(page(options, base, { error: 'Choose an activity.' }, last));
        return;
      }
      type = 'activity.completed';
      Object.assign(data, { activityId: activity.id, activityTitle: activity.title });
    } else if (body.action === 'complete-course') {
      type = 'course.completed';
    } else {
      res
        .status(400)
        .type('html')
        .send(page(options, base, { error: 'Choose what happened.' }, last));
      return;
    }
    const event = {
      id: `demo-${Date.now()}-${randomBytes(3).toString('hex')}`,
      type,
      occurredAt: new Date().toISOString(),
      platform: platformId,
      course: { id: course.id, title: course.title },
      user: { id: user.id, email: user.email, name: user.name },
      data,
    };
    const raw = JSON.stringify(event);
    const signature = signatureHeader(secret, raw);
    let status = 0;
    let answer = '';
    const before = await progressOf(options, platformId, user.id).catch(() => new Map());
    let moves: BadgeMove[] | null = null;
    try {
      const sent = await fetch(`${options.laurelUrl}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-laurel-signature': signature },
        body: raw,
      });
      status = sent.status;
      answer = await sent.text();
      if (status === 200 && options.adminApiKey)
        moves = await badgesMoved(options, platformId, user.id, before).catch(() => null);
    } catch (err) {
      answer = `Laurel could not be reached: ${(err as Error).message}`;
    }
    res
      .type('html')
      .send(
        page(options, base, { sent: JSON.stringify(event, null, 2), signature, status, answer, moves }, last),
      );
  });
  return router;
}

function page(
  options: EventPanelOptions,
  base: string,
  result: {
    error?: string;
    sent?: string;
    signature?: string;
    status?: number;
    answer?: string;
    moves?: BadgeMove[] | null;
  } | null,
  last: Choice = {},
): string {
  const courses = options.courses();
  const learners = options.learners();
  const selected = (value: string, chosen: string | undefined) => (value === chosen ? ' selected' : '');
  const courseOptions = courses
    .map((c) => `<option value="${esc(c.id)}"${selected(c.id, last.course)}>${esc(c.title)}</option>`)
    .join('');
  const learnerOptions = learners
    .map((u) => `<option value="${esc(u.id)}"${selected(u.id, last.user)}>${esc(u.name)}</option>`)
    .join('');
  const activityOptions = DEMO_ACTIVITIES.map(
    (a) =>
      `<option value="${esc(a.id)}"${selected(a.id, last.activity)}>${esc(a.title)} (id ${esc(a.id)})</option>`,
  ).join('');
  const lmsUrl = options.lmsUrl?.();
  const backLink = lmsUrl ? `<p><a href="${esc(lmsUrl)}">Back to the LMS</a></p>` : '';
  const who = (prefix: string) => `
      <label for="${prefix}-course">Course</label><select id="${prefix}-course" name="course">${courseOptions}</select>
      <label for="${prefix}-user">Learner</label><select id="${prefix}-user" name="user">${learnerOptions}</select>`;
  let outcome = '';
  if (result?.error) outcome = `<p class="error" role="alert">${esc(result.error)}</p>`;
  else if (result?.sent) {
    let pretty = result.answer ?? '';
    try {
      pretty = JSON.stringify(JSON.parse(pretty), null, 2);
    } catch {
      /* not JSON: shown as it came */
    }
    const moves = result.moves;
    const moved =
      moves == null
        ? ''
        : moves.length === 0
          ? '<p id="moved">No badge moved: no active badge of this course asks for this, or nothing changed.</p>'
          : `<h3>Badges this event moved</h3><ul id="moved">${moves
              .map((m) => `<li>${esc(m.name)}: ${m.before}% → ${m.after}%${m.earned ? ' — earned' : ''}</li>`)
              .join('')}</ul>`;
    outcome = `<section aria-labelledby="result-title" class="result" role="status">
      <h2 id="result-title">Sent to Laurel: answer ${result.status}</h2>${moved}
      <h3>Event</h3><pre>${esc(result.sent)}</pre>
      <h3>Header</h3><pre>X-Laurel-Signature: ${esc(result.signature ?? '')}</pre>
      <h3>Laurel's answer</h3><pre>${esc(pretty)}</pre>
    </section>`;
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Play the LMS: send learning events</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;color:#1b1f24;margin:0 auto;max-width:900px;padding:1rem}
fieldset{border:1px solid #d0d7de;border-radius:8px;margin:1rem 0;padding:.5rem 1rem 1rem}
label{display:block;font-weight:600;margin-top:.5rem}select,input{font:inherit;padding:.3rem;max-width:100%}
button{font:inherit;margin-top:.75rem;padding:.5rem 1rem;min-height:44px;background:#0b5cad;color:#fff;border:0;border-radius:6px}
:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}pre{background:#f6f8fa;padding:.5rem;overflow:auto}
.error{color:#b3261e;font-weight:600}
</style></head><body><main>
<h1>Play the LMS: send learning events</h1>${backLink}
<p>Each button sends one signed event to Laurel, as a Moodle or Canvas plugin would, and shows the answer.
Open the learner's view in Laurel beside this page to watch the progress bar move.</p>
${outcome}
<form method="post" action="${base}/send"><fieldset><legend>Set a grade on an activity</legend>
  <input type="hidden" name="action" value="grade">${who('g')}
  <label for="g-activity">Activity</label><select id="g-activity" name="activity">${activityOptions}</select>
  <label for="g-score">Score</label><input id="g-score" name="score" inputmode="decimal" value="${esc(last.score ?? '85')}" size="6">
  <label for="g-max">Out of</label><input id="g-max" name="maxScore" inputmode="decimal" value="${esc(last.maxScore ?? '100')}" size="6">
  <button type="submit">Send the grade</button></fieldset></form>
<form method="post" action="${base}/send"><fieldset><legend>Complete an activity</legend>
  <input type="hidden" name="action" value="complete-activity">${who('a')}
  <label for="a-activity">Activity</label><select id="a-activity" name="activity">${activityOptions}</select>
  <button type="submit">Send the completion</button></fieldset></form>
<form method="post" action="${base}/send"><fieldset><legend>Complete the course</legend>
  <input type="hidden" name="action" value="complete-course">${who('c')}
  <button type="submit">Send the course completion</button></fieldset></form>
</main></body></html>`;
}
