<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_laurel;

/**
 * Builds the messages Laurel reads, from plain arrays (an event's get_data() and the records it
 * names), without touching the database, so that the shapes can be tested without a Moodle.
 *
 * Learning events follow the generic contract of Laurel's ARCHITECTURE.md: `course.id` is the Moodle
 * course id (the LTI context id Moodle sends), `user.id` the Moodle user id (the LTI `sub`), and
 * `data.activityId` the course module id. Ids are built from what the event recorded, so a message
 * sent again after a failure carries the same id and Laurel counts it once.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class payload {
    /** Moodle's completion states (COMPLETION_COMPLETE and COMPLETION_COMPLETE_PASS) that count as done. */
    const COMPLETION_DONE = [1 => 'complete', 2 => 'pass'];

    /** Grade types with a numeric range (GRADE_TYPE_VALUE and GRADE_TYPE_SCALE). */
    const NUMERIC_GRADE_TYPES = [1, 2];

    /**
     * The stable id of the learning event made from one Moodle event.
     *
     * @param array $event the event's get_data()
     * @return string e.g. moodle-user_graded-812-1765100000
     */
    public static function event_id(array $event): string {
        $parts = explode('\\', trim((string) $event['eventname'], '\\'));
        $name = end($parts);
        return 'moodle-' . $name . '-' . (int) $event['objectid'] . '-' . (int) $event['timecreated'];
    }

    /**
     * The ISO 8601 time of a Unix timestamp, in UTC.
     *
     * @param int $time
     * @return string
     */
    public static function iso_time(int $time): string {
        return gmdate('Y-m-d\TH:i:s\Z', $time);
    }

    /**
     * The `user` member: the Moodle user id, and the e-mail address and full name where known.
     *
     * @param int $userid
     * @param array|null $user ['email' => ..., 'fullname' => ...], either may be missing
     * @return array
     */
    public static function user(int $userid, ?array $user = null): array {
        $out = ['id' => (string) $userid];
        if (!empty($user['email']) && self::is_email((string) $user['email'])) {
            $out['email'] = (string) $user['email'];
        }
        if (isset($user['fullname']) && trim((string) $user['fullname']) !== '') {
            $out['name'] = self::clip(trim((string) $user['fullname']), 300);
        }
        return $out;
    }

    /**
     * The `course` member.
     *
     * @param int $courseid
     * @param string|null $title the course's full name
     * @return array
     */
    public static function course(int $courseid, ?string $title = null): array {
        $out = ['id' => (string) $courseid];
        if ($title !== null && trim($title) !== '') {
            $out['title'] = self::clip(trim($title), 500);
        }
        return $out;
    }

    /**
     * The learning event of a grade written to the gradebook (\core\event\user_graded), or null when
     * it says nothing Laurel counts: no final grade, a text-only or unused grade item, or a grade
     * category's total.
     *
     * @param string $platform Laurel's id of this Moodle
     * @param array $event the event's get_data(): objectid, courseid, relateduserid, timecreated,
     *        other.itemid, other.finalgrade
     * @param array $item the grade_items record: id, itemtype, itemmodule, itemnumber, itemname,
     *        gradetype, grademax, grademin
     * @param array $activity the activity the item grades: ['cmid' => ..., 'name' => ...] or []
     * @param array $course ['id' => ..., 'fullname' => ...]
     * @param array|null $user ['email' => ..., 'fullname' => ...]
     * @return array|null
     */
    public static function grade(string $platform, array $event, array $item, array $activity,
            array $course, ?array $user): ?array {
        $other = (array) ($event['other'] ?? []);
        if (!isset($other['finalgrade']) || $other['finalgrade'] === '' || !is_numeric($other['finalgrade'])) {
            return null;
        }
        if (!in_array((int) $item['gradetype'], self::NUMERIC_GRADE_TYPES, true)) {
            return null;
        }
        $score = self::number($other['finalgrade']);
        $max = self::number($item['grademax']);
        $min = self::number($item['grademin']);
        $data = ['score' => $score, 'maxScore' => $max];
        if ($max > $min) {
            $data['percent'] = round(($score - $min) / ($max - $min) * 100, 2);
        }
        $data['gradeItemId'] = (string) $item['id'];

        switch ($item['itemtype']) {
            case 'course':
                $type = 'course.grade.updated';
                break;
            case 'mod':
                if (empty($activity['cmid'])) {
                    return null;
                }
                $type = 'activity.grade.updated';
                $data = [
                    'activityId' => (string) $activity['cmid'],
                    'activityName' => self::clip((string) ($activity['name'] ?? $item['itemname'] ?? ''), 500),
                    'activityType' => (string) $item['itemmodule'],
                ] + $data;
                if ((int) ($item['itemnumber'] ?? 0) !== 0) {
                    $data['itemNumber'] = (int) $item['itemnumber'];
                }
                break;
            case 'manual':
                $type = 'activity.grade.updated';
                $data = [
                    'activityId' => self::manual_item_id((int) $item['id']),
                    'activityName' => self::clip((string) ($item['itemname'] ?? ''), 500),
                    'activityType' => 'manual',
                ] + $data;
                break;
            default:
                return null; // A grade category's total.
        }
        if (isset($data['activityName']) && $data['activityName'] === '') {
            unset($data['activityName']);
        }
        if (!empty($other['overridden'])) {
            $data['overridden'] = true;
        }
        return self::envelope($platform, $event, $type, $course, (int) $event['relateduserid'], $user, $data);
    }

    /**
     * The learning event of an activity completion (\core\event\course_module_completion_updated),
     * or null unless the new state is complete or passed.
     *
     * @param string $platform
     * @param array $event get_data(): objectid, courseid, contextinstanceid (the cmid), relateduserid,
     *        timecreated, other.completionstate
     * @param array $activity ['cmid' => ..., 'name' => ..., 'modname' => ...]
     * @param array $course
     * @param array|null $user
     * @return array|null
     */
    public static function activity_completion(string $platform, array $event, array $activity,
            array $course, ?array $user): ?array {
        $state = (int) (((array) ($event['other'] ?? []))['completionstate'] ?? -1);
        if (!isset(self::COMPLETION_DONE[$state])) {
            return null;
        }
        $cmid = (int) ($activity['cmid'] ?? $event['contextinstanceid']);
        $data = ['activityId' => (string) $cmid];
        if (!empty($activity['name'])) {
            $data['activityName'] = self::clip((string) $activity['name'], 500);
        }
        if (!empty($activity['modname'])) {
            $data['activityType'] = (string) $activity['modname'];
        }
        $data['completionState'] = self::COMPLETION_DONE[$state];
        return self::envelope($platform, $event, 'activity.completed', $course,
            (int) $event['relateduserid'], $user, $data);
    }

    /**
     * The learning event of a course completion (\core\event\course_completed).
     *
     * @param string $platform
     * @param array $event
     * @param array $course
     * @param array|null $user
     * @return array
     */
    public static function course_completion(string $platform, array $event, array $course, ?array $user): array {
        $userid = (int) ($event['relateduserid'] ?? ((array) ($event['other'] ?? []))['relateduserid'] ?? 0);
        return self::envelope($platform, $event, 'course.completed', $course, $userid, $user, []);
    }

    /**
     * The learning event of an enrolment made or removed (\core\event\user_enrolment_created or
     * \core\event\user_enrolment_deleted).
     *
     * @param string $platform
     * @param array $event get_data(): other.enrol names the enrolment method
     * @param array $course
     * @param array|null $user
     * @return array
     */
    public static function enrolment(string $platform, array $event, array $course, ?array $user): array {
        $deleted = substr((string) $event['eventname'], -strlen('user_enrolment_deleted')) === 'user_enrolment_deleted';
        $data = [];
        $enrol = ((array) ($event['other'] ?? []))['enrol'] ?? null;
        if (is_string($enrol) && $enrol !== '') {
            $data['enrolmentMethod'] = $enrol;
        }
        return self::envelope($platform, $event, $deleted ? 'enrollment.deleted' : 'enrollment.created', $course,
            (int) $event['relateduserid'], $user, $data);
    }

    /**
     * One course's list of gradable things for Laurel's badge builder: its activities (course
     * modules) with their main grade item, and its manual grade items.
     *
     * @param array $course ['id' => ..., 'fullname' => ..., 'enddate' => unix seconds, 0 = none (optional)]
     * @param array $cms each ['cmid', 'name', 'modname', 'instance', 'visible', 'tags' (optional: tag names)]
     * @param array $items the course's grade_items records (as arrays)
     * @return array a catalogue entry: course, full (always true: the list is the whole course), activities
     */
    public static function catalogue(array $course, array $cms, array $items): array {
        $main = [];
        $manual = [];
        foreach ($items as $item) {
            $item = (array) $item;
            if ($item['itemtype'] === 'mod') {
                $key = $item['itemmodule'] . ':' . (int) $item['iteminstance'];
                if (!isset($main[$key]) || (int) $item['itemnumber'] < (int) $main[$key]['itemnumber']) {
                    $main[$key] = $item;
                }
            } else if ($item['itemtype'] === 'manual') {
                $manual[] = $item;
            }
        }
        $activities = [];
        foreach ($cms as $cm) {
            $cm = (array) $cm;
            $entry = [
                'id' => (string) $cm['cmid'],
                'name' => self::clip((string) $cm['name'], 500),
                'type' => (string) $cm['modname'],
            ];
            $item = $main[$cm['modname'] . ':' . (int) $cm['instance']] ?? null;
            if ($item && in_array((int) $item['gradetype'], self::NUMERIC_GRADE_TYPES, true)) {
                $entry['gradeItemId'] = (string) $item['id'];
                $entry['maxScore'] = self::number($item['grademax']);
                $entry['minScore'] = self::number($item['grademin']);
            }
            if (isset($cm['visible'])) {
                $entry['visible'] = (bool) $cm['visible'];
            }
            $tags = self::tags($cm['tags'] ?? []);
            if ($tags) {
                $entry['tags'] = $tags;
            }
            $activities[] = $entry;
        }
        foreach ($manual as $item) {
            if (!in_array((int) $item['gradetype'], self::NUMERIC_GRADE_TYPES, true)) {
                continue;
            }
            $activities[] = [
                'id' => self::manual_item_id((int) $item['id']),
                'name' => self::clip((string) $item['itemname'], 500),
                'type' => 'manual',
                'gradeItemId' => (string) $item['id'],
                'maxScore' => self::number($item['grademax']),
                'minScore' => self::number($item['grademin']),
            ];
        }
        $entry = self::course((int) $course['id'], $course['fullname'] ?? null);
        if (array_key_exists('enddate', $course)) {
            // Moodle keeps 0 for "no end date"; Laurel is told so (null), so an end removed in Moodle is removed.
            $entry['endDate'] = (int) $course['enddate'] > 0 ? gmdate('Y-m-d\TH:i:s\Z', (int) $course['enddate']) : null;
        }
        return [
            'course' => $entry,
            'full' => true,
            'activities' => $activities,
        ];
    }

    /**
     * A course module's tag names for Laurel (counts of activities by tag): trimmed, clipped to 50
     * characters, each once, at most 20.
     *
     * @param array $names
     * @return array
     */
    public static function tags(array $names): array {
        $out = [];
        foreach ($names as $name) {
            $name = self::clip(trim((string) $name), 50);
            if ($name !== '' && !in_array(mb_strtolower($name), array_map('mb_strtolower', $out), true)) {
                $out[] = $name;
            }
        }
        return array_slice($out, 0, 20);
    }

    /**
     * The body of one POST: learning events and catalogue entries, naming the platform.
     *
     * @param string $platform
     * @param array $events
     * @param array $catalogue
     * @return array
     */
    public static function body(string $platform, array $events, array $catalogue = []): array {
        $body = ['platform' => $platform];
        if ($events) {
            $body['events'] = array_values($events);
        }
        if ($catalogue) {
            $body['catalogue'] = array_values($catalogue);
        }
        return $body;
    }

    /**
     * The body's exact bytes, as signed and sent.
     *
     * @param array $body
     * @return string
     */
    public static function encode(array $body): string {
        return json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
            | JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
    }

    /**
     * Events as an ad hoc task's custom data gives them back (objects decoded as arrays), ready to
     * send again: each names the platform as configured now, and an empty `data` stays an object.
     *
     * @param array $events
     * @param string $platform
     * @return array
     */
    public static function restore_events(array $events, string $platform): array {
        $out = [];
        foreach ($events as $event) {
            $event = (array) $event;
            $event['platform'] = $platform;
            if (empty($event['data'])) {
                $event['data'] = new \stdClass();
            }
            $out[] = $event;
        }
        return $out;
    }

    /**
     * The activity id Laurel knows a manual grade item by (it has no course module).
     *
     * @param int $itemid
     * @return string
     */
    public static function manual_item_id(int $itemid): string {
        return 'gradeitem-' . $itemid;
    }

    /**
     * The common frame of every learning event.
     *
     * @param string $platform
     * @param array $event
     * @param string $type
     * @param array $course
     * @param int $userid
     * @param array|null $user
     * @param array $data
     * @return array
     */
    private static function envelope(string $platform, array $event, string $type, array $course, int $userid,
            ?array $user, array $data): array {
        $out = [
            'id' => self::event_id($event),
            'type' => $type,
            'occurredAt' => self::iso_time((int) $event['timecreated']),
            'platform' => $platform,
            'course' => self::course((int) ($course['id'] ?? $event['courseid']), $course['fullname'] ?? null),
            'user' => self::user($userid, $user),
        ];
        $out['data'] = $data ? $data : new \stdClass();
        return $out;
    }

    /**
     * A grade as a JSON number: an int when whole, else a float.
     *
     * @param mixed $value
     * @return int|float
     */
    private static function number($value) {
        $float = (float) $value;
        return floor($float) == $float && abs($float) < PHP_INT_MAX ? (int) $float : $float;
    }

    /**
     * Whether Laurel takes this as an e-mail address (a dotted domain with a top-level name of two
     * letters or more, as its validation wants): an address it would refuse, such as admin@localhost,
     * is left out rather than have the whole event refused.
     *
     * @param string $email
     * @return bool
     */
    public static function is_email(string $email): bool {
        return strlen($email) <= 320 && preg_match(
            "/^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$/D",
            $email) === 1;
    }

    /**
     * At most $max characters, with control characters (which Laurel refuses in names) made spaces.
     *
     * @param string $text
     * @param int $max
     * @return string
     */
    private static function clip(string $text, int $max): string {
        $text = trim((string) preg_replace('/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/', ' ', $text));
        if (preg_match('/^.{0,' . $max . '}/us', $text, $match) !== 1) {
            return ''; // Not UTF-8.
        }
        return $match[0];
    }
}
