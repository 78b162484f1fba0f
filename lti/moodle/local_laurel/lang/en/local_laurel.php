<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


/**
 * English strings of local_laurel.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['endpoint'] = 'Messages go to {$a}.';
$string['laurelanswer'] = 'Laurel\'s answer';
$string['laurelurl'] = 'Laurel URL';
$string['laurelurl_desc'] = 'The address of the Laurel server, e.g. https://badges.example.edu (without /lti or /api).';
$string['notconfigured'] = 'The Laurel plugin is not set up: fill in the Laurel URL, the platform id and the webhook secret.';
$string['notconfigured_link'] = 'Nothing is sent until the Laurel URL, the platform id and the webhook secret are filled in on <a href="{$a}">the plugin\'s settings</a>.';
$string['platformid'] = 'Platform id';
$string['platformid_desc'] = 'The id Laurel gave this Moodle when it was registered (shown in Laurel\'s platform list and answered by its admin API).';
$string['pluginname'] = 'Laurel';
$string['privacy:metadata:laurel'] = 'To award badges, the plugin sends Laurel (the badge tool this site connects to over LTI) the grades, completions and enrolments of learners.';
$string['privacy:metadata:laurel:completion'] = 'That an activity or a course was completed.';
$string['privacy:metadata:laurel:courseid'] = 'The id and full name of the course.';
$string['privacy:metadata:laurel:email'] = 'The learner\'s email address.';
$string['privacy:metadata:laurel:enrolment'] = 'That the learner was enrolled in or unenrolled from the course, and by which method.';
$string['privacy:metadata:laurel:fullname'] = 'The learner\'s full name.';
$string['privacy:metadata:laurel:grade'] = 'The grade received, with the grade item\'s range.';
$string['privacy:metadata:laurel:timecreated'] = 'When it happened.';
$string['privacy:metadata:laurel:userid'] = 'The learner\'s user id, which is also the id this site sends to Laurel in LTI launches.';
$string['secret'] = 'Webhook secret';
$string['secret_desc'] = 'The webhook secret Laurel showed when this Moodle was registered (or after rotating it). Every message is signed with it.';
$string['sendfailed'] = 'Laurel did not take the message; it will be sent again later. {$a}';
$string['sendtest'] = 'Send a test event';
$string['settingsintro'] = 'Grades, completions and enrolments are sent to Laurel by ad hoc tasks, so cron must run (every minute; badges then arrive within a minute of the grade). Check the connection on <a href="{$a}">the test page</a>.';
$string['syncall'] = 'Send all courses\' activities';
$string['syncall_desc'] = 'Laurel learns of each course\'s activities and grade items whenever they change. To send every course\'s list now (for instance right after installing the plugin), use this button; the lists go out with the next cron run.';
$string['syncqueued'] = 'The activities of every course will be sent with the next cron run.';
$string['tasksendevents'] = 'Send learning events to Laurel';
$string['tasksyncall'] = 'Queue the activities of every course for Laurel';
$string['tasksynccourse'] = 'Send a course\'s activities to Laurel';
$string['testfailed'] = 'Laurel did not accept the test message (status {$a}).';
$string['testok'] = 'Laurel verified the signed test message (status {$a}).';
$string['testpage'] = 'Laurel connection test';
