/** Shared set-up of the platform tests: a fake tool, a platform of one flavour pointing at it, seeded people. */
import {
  startTestPlatform,
  type Flavour,
  type StartTestPlatformOptions,
  type TestPlatform,
} from '../support/lms-platform/index.js';
import { startFakeTool, type FakeTool } from './fake-tool.js';

export interface Rig {
  tool: FakeTool;
  platform: TestPlatform;
  courseId: string;
  instructor: string;
  learner: string;
  close(): Promise<void>;
}

export async function startRig(
  flavour: Flavour,
  options: Partial<StartTestPlatformOptions> = {},
): Promise<Rig> {
  const tool = await startFakeTool();
  const platform = await startTestPlatform({ toolUrl: tool.url, flavour, seedDemo: true, ...options });
  tool.configure(platform.registrationInfo());
  const demo = platform.demo!;
  return {
    tool,
    platform,
    courseId: demo.courses.chemistry.id,
    instructor: demo.users.instructor.sub,
    learner: demo.users.ada.sub,
    close: async () => {
      await platform.close();
      await tool.close();
    },
  };
}

/** Gets a service access token for the fake tool with the given scopes. */
export async function accessToken(rig: Rig, scopes: string[]): Promise<string> {
  const res = await fetch(rig.platform.authTokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: rig.tool.clientAssertion(),
      scope: scopes.join(' '),
    }),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
