/** Requirement and penalty evaluation for badge templates: pure functions, no I/O. */
export type {
  BadgeRequirement,
  EventRequirement,
  EventType,
  LearningEventLike,
  Operator,
  Penalty,
  PenaltyInput,
  Requirement,
  RequirementGroupInput,
  RequirementInput,
  RequirementGroup,
  Rule,
  TemplateRules,
} from './types.js';
export { EVENT_TYPES, OPERATORS, isBadgeRequirement, neededIn, usesHistory } from './types.js';
export type { ActivityPattern, TimeWindow } from './types.js';
export type {
  ActivityInfo,
  HistoryEnvironment,
  HistoryFulfilment,
  HistoryResult,
  TimedEvent,
} from './history.js';
export {
  activityMatches,
  courseEndOf,
  foldName,
  isWildcard,
  partialShares,
  replayHistory,
  wildcardMatch,
  windowHolds,
} from './history.js';
export type { PathResult } from './path.js';
export { FORBIDDEN_SEGMENTS, pathSegments, readPath } from './path.js';
export type { ApplyResult, GroupStatus } from './evaluate.js';
export {
  applyEvent,
  deepEqual,
  groupStatus,
  isComplete,
  penaltyMatches,
  progressFraction,
  requirementMatches,
  ruleHolds,
} from './evaluate.js';
export type { IssueDetail, ParseResult } from './validate.js';
export {
  assignRequirementIds,
  formatIssues,
  groupSchema,
  parseTemplateRules,
  penaltySchema,
  refineTemplateRules,
  requirementSchema,
  ruleSchema,
  templateRulesSchema,
  templateRulesShape,
} from './validate.js';
export type { DescribeContext, RequirementTarget } from './describe.js';
export {
  activitiesPhrase,
  capitalise,
  countNoun,
  countProgressText,
  describeBest,
  describeCondition,
  describeForLearner,
  describeGroup,
  describePenalty,
  describeRequirement,
  describeRule,
  describeRuleClause,
  formatAmount,
  formatCourseEnd,
  learnerGroupPhrase,
  learnerPhrase,
  requirementTarget,
} from './describe.js';
export type { LevelMeasure, LevelStep, Levels, Regrade, RegradePolicy } from './types.js';
export { REGRADE_POLICIES } from './types.js';
export type { LadderRung } from './levels.js';
export {
  EMPTY_MEASURE,
  ladderOf,
  levelRank,
  levelReached,
  levelScoreOf,
  levelShare,
  regradeOf,
  scoreFor,
  updateMeasure,
} from './levels.js';
export type { RegradeFulfilment } from './regrade.js';
export { confirmedBy, isRegradeOf, regradedBy, subjectOf } from './regrade.js';
export type { StepFulfilment, StepResult, StepState, StepTemplate } from './step.js';
export { completeOf, fractionOf, levelOf, stepLearner } from './step.js';
export { levelsAndRegradeShape, levelsSchema, regradeSchema } from './validateLevels.js';
export {
  describeLevels,
  describeLevelsForLearner,
  describeRegrade,
  describeRegradeForLearner,
  levelsMeasureName,
} from './describeLevels.js';
