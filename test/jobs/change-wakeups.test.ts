/** Which stored changes wake which of a worker's loops (src/jobs/changeWakeups.ts). */
import { WORK_WATCHES } from '../../src/jobs/changeWakeups.js';

const watch = (model: string) => WORK_WATCHES.find((w) => w.model === model)!;

describe('change-stream wake-up rules', () => {
  it('wakes event processing for stored events and for events put back to pending', () => {
    const events = watch('events');
    expect(events.wakes({ operationType: 'insert' })).toEqual(['process-events']);
    expect(
      events.wakes({ operationType: 'update', updateDescription: { updatedFields: { status: 'pending' } } }),
    ).toEqual(['process-events']);
    expect(
      events.wakes({
        operationType: 'update',
        updateDescription: { updatedFields: { status: 'processed' } },
      }),
    ).toEqual([]);
    expect(events.wakes({ operationType: 'delete' })).toEqual([]);
  });

  it('wakes local issuing or the service outbox for credentials put into the outbox', () => {
    const credentials = watch('credentials');
    expect(credentials.wakes({ operationType: 'insert', fullDocument: { outbox: 'issue' } })).toEqual([
      'issue-credentials',
    ]);
    expect(
      credentials.wakes({ operationType: 'insert', fullDocument: { outbox: 'provider-issue' } }),
    ).toEqual(['provider-outbox']);
    expect(
      credentials.wakes({
        operationType: 'update',
        updateDescription: { updatedFields: { outbox: 'provider-revoke' } },
      }),
    ).toEqual(['provider-outbox']);
    expect(
      credentials.wakes({ operationType: 'update', updateDescription: { updatedFields: { outbox: null } } }),
    ).toEqual([]);
    expect(credentials.wakes({ operationType: 'insert', fullDocument: { outbox: null } })).toEqual([]);
  });

  it('wakes recalculation when one is queued, whether the change names the whole field or its state', () => {
    const templates = watch('templates');
    const whole = { recalculation: { state: 'queued', done: 0 } };
    expect(templates.wakes({ operationType: 'update', updateDescription: { updatedFields: whole } })).toEqual(
      ['recalculate-badges'],
    );
    const inside = { 'recalculation.state': 'queued', 'recalculation.done': 0 };
    expect(
      templates.wakes({ operationType: 'update', updateDescription: { updatedFields: inside } }),
    ).toEqual(['recalculate-badges']);
    // A run's own progress is not a request.
    const progress = { 'recalculation.state': 'running', 'recalculation.done': 40 };
    expect(
      templates.wakes({ operationType: 'update', updateDescription: { updatedFields: progress } }),
    ).toEqual([]);
    expect(
      templates.wakes({ operationType: 'update', updateDescription: { updatedFields: { name: 'x' } } }),
    ).toEqual([]);
  });
});

describe('what each watch may wake', () => {
  it('lists every loop its rule can wake (woken once when the watch opens)', () => {
    expect(WORK_WATCHES.map((w) => [w.model, w.loops])).toEqual([
      ['events', ['process-events']],
      ['credentials', ['issue-credentials', 'provider-outbox']],
      ['templates', ['recalculate-badges']],
    ]);
  });
});
