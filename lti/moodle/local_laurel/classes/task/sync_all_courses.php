<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel\task;

/**
 * Queues a sync_course task for every course of the site: the "send all activities" button.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sync_all_courses extends \core\task\adhoc_task {
    /**
     * The task's name on the task pages.
     *
     * @return string
     */
    public function get_name() {
        return get_string('tasksyncall', 'local_laurel');
    }

    /**
     * Queues the per-course tasks.
     */
    public function execute() {
        global $DB;
        $ids = $DB->get_fieldset_select('course', 'id', 'id <> ?', [SITEID]);
        foreach ($ids as $id) {
            $task = new sync_course();
            $task->set_custom_data(['courseid' => (int) $id]);
            \core\task\manager::queue_adhoc_task($task, true);
        }
        mtrace('local_laurel: queued the activities of ' . count($ids) . ' course(s) for Laurel');
    }
}
