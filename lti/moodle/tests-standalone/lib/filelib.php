<?php
// Test double of Moodle's \curl (lib/filelib.php) for the standalone tests: the same methods the
// plugin calls, over PHP's own HTTP stream wrapper (Debian's php-cli has no curl extension).

class curl {
    /** @var string */
    public $error = '';
    /** @var array */
    public $info = [];
    /** @var int */
    private $errno = 0;
    /** @var string[] */
    private $headers = [];

    public function setHeader($header) {
        foreach ((array) $header as $line) {
            $this->headers[] = $line;
        }
    }

    public function post($url, $params = '', $options = []) {
        $GLOBALS['LAUREL_TEST_REQUESTS'][] = ['url' => $url, 'headers' => $this->headers, 'body' => $params];
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => implode("\r\n", $this->headers),
            'content' => $params,
            'ignore_errors' => true,
            'timeout' => $options['CURLOPT_TIMEOUT'] ?? 20,
        ]]);
        $body = @file_get_contents($url, false, $context);
        if ($body === false) {
            $this->errno = 7;
            $this->error = 'Failed to connect to ' . $url;
            $this->info = ['http_code' => 0];
            return $this->error;
        }
        $status = 0;
        foreach ($http_response_header as $line) {
            if (preg_match('{^HTTP/\S+\s+(\d{3})}', $line, $m)) {
                $status = (int) $m[1];
            }
        }
        $this->info = ['http_code' => $status];
        return $body;
    }

    public function get_errno() {
        return $this->errno;
    }

    public function get_info() {
        return $this->info;
    }
}
