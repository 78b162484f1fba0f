<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * The events local_laurel listens to. Every observer only queues an ad hoc task, so no teacher or
 * learner ever waits on Laurel; `internal => false` runs them once the database transaction that
 * fired the event has committed.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$observers = [
    // Learning events in Laurel's generic contract.
    [
        'eventname' => '\core\event\user_graded',
        'callback' => '\local_laurel\observer::user_graded',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\course_module_completion_updated',
        'callback' => '\local_laurel\observer::course_module_completion_updated',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\course_completed',
        'callback' => '\local_laurel\observer::course_completed',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\user_enrolment_created',
        'callback' => '\local_laurel\observer::user_enrolment_created',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\user_enrolment_deleted',
        'callback' => '\local_laurel\observer::user_enrolment_deleted',
        'internal' => false,
    ],
    // Changes to a course's activities and grade items: Laurel's list of them is refreshed.
    [
        'eventname' => '\core\event\course_module_created',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\course_module_updated',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\course_module_deleted',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
    // A course's settings changed (its end date among them): its list is sent again with the date.
    [
        'eventname' => '\core\event\course_updated',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\grade_item_created',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\grade_item_updated',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
    [
        'eventname' => '\core\event\grade_item_deleted',
        'callback' => '\local_laurel\observer::course_content_changed',
        'internal' => false,
    ],
];
