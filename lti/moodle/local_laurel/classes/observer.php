<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel;

/**
 * Turns Moodle events into messages for Laurel. Nothing here talks to Laurel: each observer reads
 * what the event names, builds the message and queues an ad hoc task that sends it (and retries).
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {
    /**
     * A grade written to the gradebook: an activity's (quiz attempt, assignment, ...), a manual
     * item's, or the course total.
     *
     * @param \core\event\user_graded $event
     */
    public static function user_graded(\core\event\user_graded $event): void {
        global $DB;
        if (!self::configured()) {
            return;
        }
        $data = $event->get_data();
        $item = $DB->get_record('grade_items', ['id' => $data['other']['itemid']]);
        if (!$item) {
            return;
        }
        $activity = [];
        if ($item->itemtype === 'mod') {
            $cm = get_coursemodule_from_instance($item->itemmodule, $item->iteminstance, $item->courseid, false,
                IGNORE_MISSING);
            if (!$cm) {
                return;
            }
            $activity = ['cmid' => $cm->id, 'name' => self::text($cm->name, \context_module::instance($cm->id))];
        }
        self::queue(payload::grade('', $data, (array) $item, $activity, self::course((int) $data['courseid']),
            self::user((int) $data['relateduserid'])));
    }

    /**
     * An activity's completion changed for one learner.
     *
     * @param \core\event\course_module_completion_updated $event
     */
    public static function course_module_completion_updated(\core\event\course_module_completion_updated $event): void {
        if (!self::configured()) {
            return;
        }
        $data = $event->get_data();
        $cm = get_coursemodule_from_id('', $data['contextinstanceid'], 0, false, IGNORE_MISSING);
        $activity = $cm ? [
            'cmid' => $cm->id,
            'name' => self::text($cm->name, \context_module::instance($cm->id)),
            'modname' => $cm->modname,
        ] : ['cmid' => $data['contextinstanceid']];
        self::queue(payload::activity_completion('', $data, $activity, self::course((int) $data['courseid']),
            self::user((int) $data['relateduserid'])));
    }

    /**
     * A learner completed a course.
     *
     * @param \core\event\course_completed $event
     */
    public static function course_completed(\core\event\course_completed $event): void {
        if (!self::configured()) {
            return;
        }
        $data = $event->get_data();
        $userid = (int) ($data['relateduserid'] ?? $data['other']['relateduserid'] ?? 0);
        self::queue(payload::course_completion('', $data, self::course((int) $data['courseid']), self::user($userid)));
    }

    /**
     * A user was enrolled in a course.
     *
     * @param \core\event\user_enrolment_created $event
     */
    public static function user_enrolment_created(\core\event\user_enrolment_created $event): void {
        self::enrolment($event);
    }

    /**
     * A user's enrolment in a course was removed.
     *
     * @param \core\event\user_enrolment_deleted $event
     */
    public static function user_enrolment_deleted(\core\event\user_enrolment_deleted $event): void {
        self::enrolment($event);
    }

    /**
     * A course module or grade item was added, changed or removed: Laurel's list of the course's
     * activities is sent again, once for any number of changes waiting in the queue.
     *
     * @param \core\event\base $event
     */
    public static function course_content_changed(\core\event\base $event): void {
        if (!self::configured()) {
            return;
        }
        $courseid = (int) $event->courseid;
        if ($courseid <= 0 || $courseid == SITEID) {
            return;
        }
        $task = new task\sync_course();
        $task->set_custom_data(['courseid' => $courseid]);
        \core\task\manager::queue_adhoc_task($task, true);
    }

    /**
     * Shared by both enrolment events.
     *
     * @param \core\event\base $event
     */
    private static function enrolment(\core\event\base $event): void {
        if (!self::configured()) {
            return;
        }
        $data = $event->get_data();
        if ((int) $data['courseid'] == SITEID) {
            return;
        }
        self::queue(payload::enrolment('', $data, self::course((int) $data['courseid']),
            self::user((int) $data['relateduserid'])));
    }

    /**
     * Queues one learning event for sending (the task fills in the platform id).
     *
     * @param array|null $message
     */
    private static function queue(?array $message): void {
        if ($message === null) {
            return;
        }
        $task = new task\send_events();
        $task->set_custom_data(['events' => [$message]]);
        \core\task\manager::queue_adhoc_task($task);
    }

    /**
     * Whether the site has told the plugin where Laurel is.
     *
     * @return bool
     */
    private static function configured(): bool {
        return client::from_config() !== null;
    }

    /**
     * The course's id and full name.
     *
     * @param int $courseid
     * @return array
     */
    public static function course(int $courseid): array {
        global $DB;
        $course = $DB->get_record('course', ['id' => $courseid], 'id, fullname');
        if (!$course) {
            return ['id' => $courseid];
        }
        $context = \context_course::instance($courseid, IGNORE_MISSING);
        return ['id' => $courseid, 'fullname' => self::text($course->fullname, $context ?: null)];
    }

    /**
     * The learner's e-mail address and full name, or null for an unknown or deleted user.
     *
     * @param int $userid
     * @return array|null
     */
    private static function user(int $userid): ?array {
        $user = \core_user::get_user($userid);
        if (!$user || !empty($user->deleted)) {
            return null;
        }
        return ['email' => $user->email, 'fullname' => fullname($user)];
    }

    /**
     * A name as plain text, with the site's multi-language filters applied.
     *
     * @param string $text
     * @param \context|null $context
     * @return string
     */
    public static function text(string $text, ?\context $context): string {
        $options = ['escape' => false];
        if ($context) {
            $options['context'] = $context;
        }
        return trim(format_string($text, true, $options));
    }
}
