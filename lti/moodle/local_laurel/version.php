<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

/**
 * Version information of local_laurel.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_laurel';
$plugin->version   = 2026120701;
$plugin->requires  = 2022112800; // Moodle 4.1.
$plugin->supported = [401, 501];
$plugin->maturity  = MATURITY_BETA;
$plugin->release   = '0.1.0';
