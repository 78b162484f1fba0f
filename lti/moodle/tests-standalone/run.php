<?php
// Runs local_laurel's own code under php-cli, without a Moodle, for Laurel's jest tests
// (test/moodle/). Reads a JSON fixture on standard input:
//   { "config": { laurelurl, platformid, secret }, "db": { table: [rows] },
//     "events": [ { "eventname": "\\core\\event\\user_graded", ...get_data() } ],
//     "run": true|false, "sign": { "secret", "time", "body" }, "post": body,
//     "tasks": [ { "class", "customdata" } ] (queued before the events' own, as `queued` prints them),
//     "payload": [[method, ...arguments]] }
// and prints one JSON object: the signature asked for, the tasks the observers queued, and, with
// "run", what running them did (the requests sent, failures, the task log).

require(__DIR__ . '/stubs.php');

$GLOBALS['LAUREL_FIXTURE'] = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$fixture = $GLOBALS['LAUREL_FIXTURE'];
$out = [];

if (isset($fixture['sign'])) {
    $out['signature'] = \local_laurel\signature::header($fixture['sign']['secret'], $fixture['sign']['body'],
        (int) $fixture['sign']['time']);
}

if (isset($fixture['payload'])) {
    // Direct calls of the payload builder: [ method, ...arguments ].
    $out['payload'] = array_map(function(array $call) {
        $method = array_shift($call);
        return call_user_func_array(['\local_laurel\payload', $method], $call);
    }, $fixture['payload']);
}

if (isset($fixture['post'])) {
    // One body through the plugin's client, as the test page sends its test message.
    $client = \local_laurel\client::from_config();
    $out['post'] = $client ? $client->post($fixture['post']) : null;
}

foreach ($fixture['tasks'] ?? [] as $queued) {
    // Tasks an earlier cron run left in Moodle's queue (a failed one waits there to be run again).
    $task = new $queued['class']();
    $task->set_custom_data($queued['customdata']);
    \core\task\manager::queue_adhoc_task($task);
}

$observers = [];
include(__DIR__ . '/../local_laurel/db/events.php');
foreach ($fixture['events'] ?? [] as $data) {
    $matched = false;
    foreach ($observers as $observer) {
        if ($observer['eventname'] !== $data['eventname']) {
            continue;
        }
        $class = $data['eventname'];
        call_user_func($observer['callback'], new $class($data));
        $matched = true;
    }
    if (!$matched) {
        fwrite(STDERR, "no observer for {$data['eventname']}\n");
        exit(2);
    }
}
$describe = function(\core\task\adhoc_task $task) {
    return ['class' => get_class($task), 'customdata' => json_decode($task->get_custom_data_as_string())];
};
$out['queued'] = array_map($describe, \core\task\manager::$queue);

if (!empty($fixture['run'])) {
    $out['runs'] = [];
    // Like cron: each task once, in order; those queued while running also run.
    for ($i = 0; $i < count(\core\task\manager::$queue); $i++) {
        $task = \core\task\manager::$queue[$i];
        $run = $describe($task);
        try {
            $task->execute();
            $run['ok'] = true;
        } catch (\Throwable $e) {
            $run['ok'] = false;
            $run['error'] = get_class($e) . ': ' . $e->getMessage();
        }
        $out['runs'][] = $run;
    }
    $out['requests'] = $GLOBALS['LAUREL_TEST_REQUESTS'];
    $out['log'] = $GLOBALS['LAUREL_TEST_LOG'];
}

echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION), "\n";
