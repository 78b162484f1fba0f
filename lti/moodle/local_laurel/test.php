<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


/**
 * Sends Laurel a signed test message and shows its answer; queues the activities of every course.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

require_once(__DIR__ . '/../../config.php');
require_once($CFG->libdir . '/adminlib.php');

admin_externalpage_setup('local_laurel_test');

$action = optional_param('action', '', PARAM_ALPHA);
$pageurl = new moodle_url('/local/laurel/test.php');
$client = \local_laurel\client::from_config();
$result = null;
$queued = false;

if ($action !== '') {
    require_sesskey();
    if ($client && $action === 'test') {
        $body = \local_laurel\payload::body($client->platform_id(), []);
        $body['test'] = true;
        $result = $client->post($body);
    } else if ($client && $action === 'sync') {
        \core\task\manager::queue_adhoc_task(new \local_laurel\task\sync_all_courses(), true);
        $queued = true;
    }
}

echo $OUTPUT->header();
echo $OUTPUT->heading(get_string('testpage', 'local_laurel'));

if (!$client) {
    $settingsurl = new moodle_url('/admin/settings.php', ['section' => 'local_laurel']);
    echo $OUTPUT->notification(get_string('notconfigured_link', 'local_laurel', $settingsurl->out(false)),
        \core\output\notification::NOTIFY_WARNING);
} else {
    echo html_writer::tag('p', get_string('endpoint', 'local_laurel', s($client->endpoint())));
    if ($result !== null) {
        $ok = \local_laurel\client::delivered($result);
        $summary = $ok ? get_string('testok', 'local_laurel', $result['status'])
            : get_string('testfailed', 'local_laurel', $result['status'] ?: '—');
        echo $OUTPUT->notification($summary, $ok ? \core\output\notification::NOTIFY_SUCCESS
            : \core\output\notification::NOTIFY_ERROR);
        if ($result['error'] !== '') {
            echo html_writer::tag('p', s($result['error']));
        }
        if ($result['body'] !== '') {
            $decoded = json_decode($result['body']);
            $shown = $decoded === null ? $result['body']
                : json_encode($decoded, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            echo html_writer::tag('h3', get_string('laurelanswer', 'local_laurel'));
            echo html_writer::tag('pre', s($shown));
        }
    }
    if ($queued) {
        echo $OUTPUT->notification(get_string('syncqueued', 'local_laurel'), \core\output\notification::NOTIFY_SUCCESS);
    }
    echo $OUTPUT->single_button(new moodle_url($pageurl, ['action' => 'test']), get_string('sendtest', 'local_laurel'));
    echo html_writer::tag('p', get_string('syncall_desc', 'local_laurel'));
    echo $OUTPUT->single_button(new moodle_url($pageurl, ['action' => 'sync']), get_string('syncall', 'local_laurel'));
}

echo $OUTPUT->footer();
