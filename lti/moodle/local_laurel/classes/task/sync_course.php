<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel\task;

use local_laurel\catalogue;
use local_laurel\client;
use local_laurel\payload;

/**
 * Sends one course's whole list of activities and grade items to Laurel, as it is when the task
 * runs. Queued once per course however many changes wait (the observers ask Moodle not to queue a
 * second identical task); fails and is retried like send_events.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sync_course extends \core\task\adhoc_task {
    /**
     * The task's name on the task pages.
     *
     * @return string
     */
    public function get_name() {
        return get_string('tasksynccourse', 'local_laurel');
    }

    /**
     * Reads the course's activities and sends them.
     */
    public function execute() {
        $client = client::from_config();
        if (!$client) {
            throw new \moodle_exception('notconfigured', 'local_laurel');
        }
        $courseid = (int) ($this->get_custom_data()->courseid ?? 0);
        if ($courseid <= 0) {
            return;
        }
        $entry = catalogue::for_course($courseid);
        $client->deliver(payload::body($client->platform_id(), [], [$entry]),
            'the activities of course ' . $courseid);
    }
}
