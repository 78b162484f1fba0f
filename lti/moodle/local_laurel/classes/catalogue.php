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
        $course = $DB->get_record('course', ['id' => $courseid], 'id, fullname, enddate');
        if (!$course) {
            return payload::catalogue(['id' => $courseid], [], []);
        }
        $cms = [];
        $modules = array_filter(get_fast_modinfo($course->id)->get_cms(), function($cm) {
            return empty($cm->deletioninprogress);
        });
        // The course modules' tags (Moodle's "Tags" field of an activity), read at once for the course.
        $tags = \core_tag_tag::get_items_tags('core', 'course_modules', array_keys($modules));
        foreach ($modules as $cm) {
            $cms[] = [
                'cmid' => $cm->id,
                'name' => observer::text($cm->name, $cm->context),
                'modname' => $cm->modname,
                'instance' => $cm->instance,
                'visible' => $cm->visible,
                'tags' => array_values(array_map(function($tag) {
                    return $tag->rawname;
                }, $tags[$cm->id] ?? [])),
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
        return payload::catalogue(observer::course((int) $course->id) + ['enddate' => (int) ($course->enddate ?? 0)],
            $cms, $items);
    }
}
