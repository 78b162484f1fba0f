<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel\task;

use local_laurel\client;
use local_laurel\payload;

/**
 * Sends queued learning events to Laurel. When Laurel cannot be reached or does not take them, the
 * task fails, and Moodle's task runner tries it again later, waiting longer after each failure;
 * the events keep their ids, so Laurel stores each once however often it is sent.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class send_events extends \core\task\adhoc_task {
    /**
     * The task's name on the task pages.
     *
     * @return string
     */
    public function get_name() {
        return get_string('tasksendevents', 'local_laurel');
    }

    /**
     * Sends the events; throws when Laurel has not taken them, so that they are sent again later.
     */
    public function execute() {
        $client = client::from_config();
        if (!$client) {
            throw new \moodle_exception('notconfigured', 'local_laurel');
        }
        $data = json_decode(json_encode($this->get_custom_data()), true);
        $events = payload::restore_events((array) ($data['events'] ?? []), $client->platform_id());
        if (!$events) {
            return;
        }
        $client->deliver(payload::body($client->platform_id(), $events), count($events) . ' event(s)');
    }
}
