<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


/**
 * Site administration > Plugins > Local plugins > Laurel: where Laurel is, and the page that sends
 * it a test message.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if ($hassiteconfig) {
    $settings = new admin_settingpage('local_laurel', new lang_string('pluginname', 'local_laurel'));
    $ADMIN->add('localplugins', $settings);

    if ($ADMIN->fulltree) {
        $settings->add(new admin_setting_heading('local_laurel/intro', '',
            new lang_string('settingsintro', 'local_laurel', (new moodle_url('/local/laurel/test.php'))->out(false))));
        $settings->add(new admin_setting_configtext('local_laurel/laurelurl',
            new lang_string('laurelurl', 'local_laurel'),
            new lang_string('laurelurl_desc', 'local_laurel'), '', PARAM_URL));
        $settings->add(new admin_setting_configtext('local_laurel/platformid',
            new lang_string('platformid', 'local_laurel'),
            new lang_string('platformid_desc', 'local_laurel'), '', PARAM_RAW_TRIMMED));
        $settings->add(new admin_setting_configpasswordunmask('local_laurel/secret',
            new lang_string('secret', 'local_laurel'),
            new lang_string('secret_desc', 'local_laurel'), ''));
    }

    $ADMIN->add('localplugins', new admin_externalpage('local_laurel_test',
        new lang_string('testpage', 'local_laurel'),
        new moodle_url('/local/laurel/test.php'), 'moodle/site:config'));
}
