/** Shared set-up of the Canvas Live Events tests: Laurel and a Canvas-flavoured test LMS whose Live Events it trusts. */
import { admin } from '../support/api.js';
import type { TestLaurel } from '../support/laurel.js';
import {
  DATA_SERVICES_SCOPES,
  startTestPlatform,
  type StartTestPlatformOptions,
  type TestPlatform,
} from '../support/lms-platform/index.js';
import { SERVICE_SCOPES } from '../support/lms-platform/types.js';

export type CanvasSetup = { platform: TestPlatform; id: string; webhookUrl: string };

/**
 * A Canvas-like platform registered through the admin API with `liveEventsJwksUrl` at its own Live Events key
 * set and its root account bound; its developer key also holds the Data Services scopes.
 */
export async function startCanvas(
  t: TestLaurel,
  options: Partial<StartTestPlatformOptions> = {},
  registration: Record<string, unknown> = {},
): Promise<CanvasSetup> {
  const platform = await startTestPlatform({
    toolUrl: t.laurel.config.publicUrl,
    flavour: 'canvas',
    host: '127.0.0.1',
    seedDemo: true,
    scopes: [...SERVICE_SCOPES, ...DATA_SERVICES_SCOPES],
    ...options,
  });
  const answer = await admin(t, 'POST', '/platforms', {
    ...platform.registrationInfo(),
    liveEventsJwksUrl: platform.liveEventsJwksUrl,
    liveEventsRootAccountGuid: platform.rootAccount.ltiGuid,
    ...registration,
  });
  if (answer.status !== 201) {
    await platform.close();
    throw new Error(`registering the canvas platform failed: ${JSON.stringify(answer.body)}`);
  }
  const id = String(answer.body.id);
  return { platform, id, webhookUrl: `${t.url}/api/v1/webhooks/canvas/${id}` };
}

/** Canvas's global id of a local id on shard 1, as Live Events carry it. */
export const globalId = (local: string) => (10n ** 13n + BigInt(local)).toString();

/** A grade_change body (gradebook or SpeedGrader), global ids as Canvas sends them. */
export function gradeChangeBody(o: {
  assignmentId: string;
  assignmentName: string;
  userId: string;
  score: number | null;
  pointsPossible: number;
  muted?: boolean;
}) {
  return {
    submission_id: globalId(String(9000 + Number(o.userId))),
    assignment_id: globalId(o.assignmentId),
    assignment_name: o.assignmentName,
    grade: o.score === null ? null : String(o.score),
    old_grade: null,
    score: o.score,
    old_score: null,
    points_possible: o.pointsPossible,
    old_points_possible: o.pointsPossible,
    grader_id: globalId('1'),
    student_id: globalId(o.userId),
    student_sis_id: null,
    user_id: globalId(o.userId),
    grading_complete: true,
    muted: o.muted ?? false,
  };
}

export const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
