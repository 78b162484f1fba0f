/** Demo roster: two courses, one instructor and two learners enrolled in both. */
import type { PlatformStore } from './store.js';
import type { Course, PlatformUser } from './types.js';

export interface DemoData {
  courses: { chemistry: Course; history: Course };
  users: { instructor: PlatformUser; ada: PlatformUser; grace: PlatformUser };
}

export function seedDemo(store: PlatformStore): DemoData {
  const chemistry = store.addCourse({
    id: store.newCourseId(),
    title: 'Chemistry 101',
    label: 'CHEM101',
    sourcedId: 'CHEM101-2026',
  });
  const history = store.addCourse({
    id: store.newCourseId(),
    title: 'World History',
    label: 'HIST110',
    sourcedId: 'HIST110-2026',
  });
  const both = (role: 'Instructor' | 'Learner') => ({ [chemistry.id]: [role], [history.id]: [role] });
  const instructor = store.addUser({
    name: 'Iris Instructor',
    email: 'iris@example.edu',
    sourcedId: 'T-1001',
    roles: both('Instructor'),
  });
  const ada = store.addUser({
    name: 'Ada Lovelace',
    email: 'ada@example.edu',
    sourcedId: 'S-2041',
    roles: both('Learner'),
  });
  const grace = store.addUser({
    name: 'Grace Hopper',
    email: 'grace@example.edu',
    sourcedId: 'S-2042',
    roles: both('Learner'),
  });
  return { courses: { chemistry, history }, users: { instructor, ada, grace } };
}
