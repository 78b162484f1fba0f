import { globalCanvasId, localCanvasId } from '../../src/lms/canvas/ids.js';
import { mapLiveEvent } from '../../src/lms/canvas/mapping.js';
import { compactTokenOf } from '../../src/lms/canvas/receive.js';

/** The grade_change example of Canvas's documentation (doc/api/data_services/json/canvas/event-types). */
const documentedGradeChange = {
  metadata: {
    client_ip: '93.184.216.34',
    context_account_id: '21070000000000079',
    context_id: '21070000000000565',
    context_role: 'TeacherEnrollment',
    context_sis_source_id: '2017.100.101.101-1',
    context_type: 'Course',
    event_name: 'grade_change',
    event_time: '2019-11-01T19:11:05.222Z',
    hostname: 'oxana.instructure.com',
    producer: 'canvas',
    request_id: '1dd9dc6f-2fb0-4c19-a6c5-7ee1bf3ed295',
    root_account_id: '21070000000000001',
    root_account_lti_guid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs.oxana.instructure.com',
    root_account_uuid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs',
    user_id: '21070000000000987',
  },
  body: {
    assignment_id: '21070000000000355',
    grade: '5',
    grader_id: '21070000000000987',
    grading_complete: true,
    muted: false,
    old_grade: '4',
    old_points_possible: 1,
    old_score: 4,
    points_possible: 1,
    score: 5,
    student_id: '21070000000000048',
    student_sis_id: 'ABC.123',
    submission_id: '21070000000011086',
    user_id: '21070000000000048',
  },
};

describe('Canvas ids and Live Event mapping', () => {
  it('turns global ids into the local form launches use, on the root account’s shard only; never through a number', () => {
    expect(localCanvasId('21070000000000565', '21070000000000001')).toBe('565');
    expect(localCanvasId('21070000000000565')).toBe('565');
    // A user of another shard (a trusted account) keeps the global id, as $Canvas.user.id gives it.
    expect(localCanvasId('30000000000000048', '21070000000000001')).toBe('30000000000000048');
    expect(localCanvasId('565', '21070000000000001')).toBe('565');
    expect(localCanvasId(565)).toBe('565');
    expect(localCanvasId('sis_user_id:ABC')).toBe('sis_user_id:ABC');
    // Beyond 2^53: exact, as strings.
    expect(localCanvasId('9007199254740993123', '9007190000000000001')).toBe('9254740993123');
    expect(globalCanvasId('565', '21070000000000001')).toBe('21070000000000565');
    expect(localCanvasId(null)).toBeNull();
  });

  it('maps the documented grade_change to activity.grade.updated with local ids and the global ones kept', () => {
    const mapped = mapLiveEvent(documentedGradeChange, 'p1', new Date('2019-11-01T19:11:06Z'));
    expect(mapped.ignored).toBeUndefined();
    expect(mapped.events).toEqual([
      {
        id: expect.stringMatching(/^canvas-grade_change-[0-9a-f]{40}$/),
        type: 'activity.grade.updated',
        occurredAt: '2019-11-01T19:11:05.222Z',
        platform: 'p1',
        course: { id: '565' },
        user: { id: '48' },
        data: {
          activityId: '355',
          score: 5,
          maxScore: 1,
          grade: '5',
          gradingComplete: true,
          canvas: {
            assignmentId: '21070000000000355',
            submissionId: '21070000000011086',
            userId: '21070000000000048',
            studentSisId: 'ABC.123',
          },
        },
      },
    ]);
    // The same event again (a retry) has the same id; another event another.
    expect(mapLiveEvent(documentedGradeChange, 'p1', new Date()).events[0]!.id).toBe(mapped.events[0]!.id);
    const other = { ...documentedGradeChange, body: { ...documentedGradeChange.body, score: 4 } };
    expect(mapLiveEvent(other, 'p1', new Date()).events[0]!.id).not.toBe(mapped.events[0]!.id);
  });

  it('takes a bare compact token or one in JSON string quotes, and nothing else', () => {
    expect(compactTokenOf(Buffer.from(' aaa.bbb.ccc\n'))).toBe('aaa.bbb.ccc');
    expect(compactTokenOf(Buffer.from('"aaa.bbb.ccc"'))).toBe('aaa.bbb.ccc');
    expect(compactTokenOf(Buffer.from('{"metadata":{}}'))).toBeNull();
    expect(compactTokenOf(Buffer.from('"aaa.bbb"'))).toBeNull();
  });
});
