import type { Connection } from 'mongoose';
import { agsCourseModel, agsResultSeenModel } from './agsPoll.js';
import { auditEntryModel } from './auditEntry.js';
import { backpackSessionModel } from './backpackSession.js';
import { badgeCollectionModel } from './badgeCollection.js';
import { badgeSharingModel } from './badgeSharing.js';
import { courseModel } from './course.js';
import { credentialModel } from './credential.js';
import { digestSubscriptionModel } from './digestSubscription.js';
import { importedBadgeModel } from './importedBadge.js';
import { issuerProfileModel } from './issuerProfile.js';
import { learnerNoticeModel } from './learnerNotice.js';
import { learnerRecordShareModel } from './learnerRecordShare.js';
import { learningEventModel } from './learningEvent.js';
import { liveEventReceiptModel } from './liveEventReceipt.js';
import { lmsActivityModel } from './lmsActivity.js';
import { mailOptOutModel } from './mailOptOut.js';
import { noticeCursorModel } from './noticeCursor.js';
import { personModel } from './person.js';
import { platformModel } from './platform.js';
import { progressModel } from './progress.js';
import { providerEventModel } from './providerEvent.js';
import { providerSettingsModel } from './providerSettings.js';
import { rateWindowModel } from './rateLimit.js';
import { registrationLinkModel } from './registrationLink.js';
import { signInLinkModel } from './signInLink.js';
import { statusListModel } from './statusList.js';
import { templateModel } from './template.js';
import { pathwayModel } from './pathway.js';
import { pathwayEnrolmentModel } from './pathwayEnrolment.js';

/** Every model of Laurel's own collections, bound to one connection. */
export function createModels(connection: Connection) {
  return {
    platforms: platformModel(connection),
    courses: courseModel(connection),
    people: personModel(connection),
    templates: templateModel(connection),
    events: learningEventModel(connection),
    progress: progressModel(connection),
    credentials: credentialModel(connection),
    audit: auditEntryModel(connection),
    issuerProfiles: issuerProfileModel(connection),
    statusLists: statusListModel(connection),
    rateWindows: rateWindowModel(connection),
    registrationLinks: registrationLinkModel(connection),
    liveEventReceipts: liveEventReceiptModel(connection),
    lmsActivities: lmsActivityModel(connection),
    agsCourses: agsCourseModel(connection),
    agsResultsSeen: agsResultSeenModel(connection),
    // The learner's backpack (src/backpack) and its e-mail (src/mail).
    backpackSessions: backpackSessionModel(connection),
    signInLinks: signInLinkModel(connection),
    badgeSharings: badgeSharingModel(connection),
    mailOptOuts: mailOptOutModel(connection),
    learnerNotices: learnerNoticeModel(connection),
    noticeCursors: noticeCursorModel(connection),
    importedBadges: importedBadgeModel(connection),
    badgeCollections: badgeCollectionModel(connection),
    providerSettings: providerSettingsModel(connection),
    providerEvents: providerEventModel(connection),
    // What a learner shows of their learner record (src/records).
    learnerRecordShares: learnerRecordShareModel(connection),
    // Instructors' weekly digests (src/mail/digest.ts).
    digestSubscriptions: digestSubscriptionModel(connection),
    // Pathways across courses and learners' progress on them (src/pathways).
    pathways: pathwayModel(connection),
    pathwayEnrolments: pathwayEnrolmentModel(connection),
  };
}

export type Models = ReturnType<typeof createModels>;

/** Builds every index now, so uniqueness holds from the first request on. */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) {
    await model.createCollection().catch((err: { code?: number }) => {
      if (err.code !== 48) throw err;
    });
    await model.syncIndexes();
  }
}
