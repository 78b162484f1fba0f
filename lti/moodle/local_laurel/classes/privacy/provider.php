<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel\privacy;

use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\userlist;

/**
 * local_laurel sends personal data to Laurel, an external system, and keeps none in tables of its
 * own (what waits to be sent sits in Moodle's ad hoc task queue for minutes). So it declares the
 * external location, and the request side finds nothing here to export or delete: requests about
 * the data held in Laurel go to Laurel's operator.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements
        \core_privacy\local\metadata\provider,
        \core_privacy\local\request\plugin\provider,
        \core_privacy\local\request\core_userlist_provider {
    /**
     * Describes the personal data sent to Laurel.
     *
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_external_location_link('laurel', [
            'userid' => 'privacy:metadata:laurel:userid',
            'email' => 'privacy:metadata:laurel:email',
            'fullname' => 'privacy:metadata:laurel:fullname',
            'courseid' => 'privacy:metadata:laurel:courseid',
            'grade' => 'privacy:metadata:laurel:grade',
            'completion' => 'privacy:metadata:laurel:completion',
            'enrolment' => 'privacy:metadata:laurel:enrolment',
            'timecreated' => 'privacy:metadata:laurel:timecreated',
        ], 'privacy:metadata:laurel');
        return $collection;
    }

    /**
     * No context holds data of this plugin.
     *
     * @param int $userid
     * @return contextlist
     */
    public static function get_contexts_for_userid(int $userid): contextlist {
        return new contextlist();
    }

    /**
     * No user has data of this plugin in any context.
     *
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist) {
    }

    /**
     * Nothing to export: the plugin stores nothing.
     *
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist) {
    }

    /**
     * Nothing to delete: the plugin stores nothing.
     *
     * @param \context $context
     */
    public static function delete_data_for_all_users_in_context(\context $context) {
    }

    /**
     * Nothing to delete: the plugin stores nothing.
     *
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist) {
    }

    /**
     * Nothing to delete: the plugin stores nothing.
     *
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist) {
    }
}
