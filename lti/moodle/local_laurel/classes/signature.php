<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel;

/**
 * The X-Laurel-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the
 * webhook secret Laurel gave this platform.
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class signature {
    /**
     * The header's value for these exact body bytes.
     *
     * @param string $secret the platform's webhook secret
     * @param string $body the raw body, byte for byte as sent
     * @param int|null $time Unix seconds; now when null
     * @return string
     */
    public static function header(string $secret, string $body, ?int $time = null): string {
        $time = $time ?? time();
        return 't=' . $time . ',v1=' . hash_hmac('sha256', $time . '.' . $body, $secret);
    }
}
