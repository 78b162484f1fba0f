<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel;

/**
 * Reads one course's activities and grade items, for Laurel's badge builder.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class catalogue {
    /**
     * The catalogue entry of a course (see payload::catalogue()); an empty list for a course that
     * no longer exists, so that Laurel forgets its activities.
     *
     * @param int $courseid
     * @return array
     */
    public static function for_course(int $courseid): array {
        global $DB;
        $course = $DB->get_record('course', ['id' => $courseid], 'id, fullname');
        if (!$course) {
            return payload::catalogue(['id' => $courseid], [], []);
        }
        $cms = [];
        foreach (get_fast_modinfo($course->id)->get_cms() as $cm) {
            if (!empty($cm->deletioninprogress)) {
                continue;
            }
            $cms[] = [
                'cmid' => $cm->id,
                'name' => observer::text($cm->name, $cm->context),
                'modname' => $cm->modname,
                'instance' => $cm->instance,
                'visible' => $cm->visible,
            ];
        }
        $items = $DB->get_records('grade_items', ['courseid' => $course->id], 'sortorder, id',
            'id, itemtype, itemmodule, iteminstance, itemnumber, itemname, gradetype, grademax, grademin');
        $items = array_map(function($item) use ($course) {
            $item = (array) $item;
            if ($item['itemname'] !== null) {
                $item['itemname'] = observer::text($item['itemname'], \context_course::instance($course->id));
            }
            return $item;
        }, array_values($items));
        return payload::catalogue(observer::course((int) $course->id), $cms, $items);
    }
}
