<?php
// This file is part of local_laurel, the Moodle side of Laurel (digital badges over LTI 1.3).
//
// local_laurel is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.


namespace local_laurel;

/**
 * Sends signed bodies to Laurel's Moodle receiver, `<Laurel URL>/api/v1/webhooks/moodle/<platform id>`,
 * through Moodle's \curl class (so the site's proxy and outgoing-request security settings apply).
 *
 * @package    local_laurel
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class client {
    /** Seconds to wait for Laurel's answer. */
    const TIMEOUT = 20;

    /** @var string Laurel's base URL */
    private $url;
    /** @var string Laurel's id of this Moodle */
    private $platformid;
    /** @var string the webhook secret */
    private $secret;

    /**
     * A client with explicit settings.
     *
     * @param string $url
     * @param string $platformid
     * @param string $secret
     */
    public function __construct(string $url, string $platformid, string $secret) {
        $this->url = rtrim(trim($url), '/');
        $this->platformid = trim($platformid);
        $this->secret = trim($secret);
    }

    /**
     * The client of this site's settings, or null while any of them is empty.
     *
     * @return client|null
     */
    public static function from_config(): ?client {
        $config = get_config('local_laurel');
        $url = trim((string) ($config->laurelurl ?? ''));
        $platformid = trim((string) ($config->platformid ?? ''));
        $secret = trim((string) ($config->secret ?? ''));
        if ($url === '' || $platformid === '' || $secret === '') {
            return null;
        }
        return new client($url, $platformid, $secret);
    }

    /**
     * Laurel's id of this Moodle, which every message names.
     *
     * @return string
     */
    public function platform_id(): string {
        return $this->platformid;
    }

    /**
     * The receiver's address.
     *
     * @return string
     */
    public function endpoint(): string {
        return $this->url . '/api/v1/webhooks/moodle/' . rawurlencode($this->platformid);
    }

    /**
     * POSTs one body, signed now.
     *
     * @param array $body see payload::body()
     * @return array ['status' => HTTP status or 0, 'body' => Laurel's answer, 'error' => transport error or '']
     */
    public function post(array $body): array {
        global $CFG;
        require_once($CFG->libdir . '/filelib.php');

        $json = payload::encode($body);
        $curl = new \curl();
        $curl->setHeader([
            'Content-Type: application/json',
            'Accept: application/json',
            'X-Laurel-Signature: ' . signature::header($this->secret, $json),
        ]);
        $answer = $curl->post($this->endpoint(), $json, [
            'CURLOPT_TIMEOUT' => self::TIMEOUT,
            'CURLOPT_CONNECTTIMEOUT' => 10,
        ]);
        $info = $curl->get_info();
        $status = (int) ($info['http_code'] ?? 0);
        $error = '';
        if ($curl->get_errno()) {
            $error = (string) $curl->error;
        } else if ($status === 0) {
            // Moodle's outgoing-request security answers a blocked address itself, with no HTTP status.
            $error = is_string($answer) ? $answer : 'no answer';
        }
        return ['status' => $status, 'body' => is_string($answer) ? $answer : '', 'error' => $error];
    }

    /**
     * POSTs one body for a task: returns when Laurel took it (or refused the body itself, which
     * sending again cannot mend), throws otherwise so that the task runs again later.
     *
     * @param array $body
     * @param string $what what the body holds, for the task log
     * @return array what post() returned
     * @throws \moodle_exception when Laurel did not take the body
     */
    public function deliver(array $body, string $what): array {
        $result = $this->post($body);
        if (self::delivered($result)) {
            mtrace("local_laurel: sent {$what} to Laurel: " . $result['body']);
            return $result;
        }
        $reason = $result['error'] !== '' ? $result['error'] : 'HTTP ' . $result['status'] . ' ' . $result['body'];
        if (self::refused_for_good($result)) {
            mtrace("local_laurel: Laurel refused {$what}; sending it again would not help: {$reason}");
            return $result;
        }
        throw new \moodle_exception('sendfailed', 'local_laurel', '', $reason);
    }

    /**
     * Whether an answer means Laurel has the body (2xx).
     *
     * @param array $result what post() returned
     * @return bool
     */
    public static function delivered(array $result): bool {
        return $result['status'] >= 200 && $result['status'] < 300;
    }

    /**
     * Whether sending the same body again cannot succeed: Laurel verified the signature and refused
     * the body itself (400 or 413). A 401 is retried, as the secret may be corrected meanwhile.
     *
     * @param array $result
     * @return bool
     */
    public static function refused_for_good(array $result): bool {
        return in_array($result['status'], [400, 413, 422], true);
    }
}
