<?php
// The few pieces of Moodle that local_laurel touches, as test doubles, so that its classes run under
// plain php-cli. The data they serve comes from the fixture the test gives (see run.php).

namespace {
    define('MOODLE_INTERNAL', true);
    define('SITEID', 1);
    define('IGNORE_MISSING', 0);
    define('MUST_EXIST', 2);
    define('MATURITY_BETA', 100);

    $CFG = new stdClass();
    $CFG->libdir = __DIR__ . '/lib';
    $LAUREL_TEST_REQUESTS = [];
    $LAUREL_TEST_LOG = [];

    spl_autoload_register(function (string $class): void {
        $prefix = 'local_laurel\\';
        if (strpos($class, $prefix) !== 0) {
            return;
        }
        $file = __DIR__ . '/../local_laurel/classes/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require_once($file);
        }
    });

    function laurel_fixture(string $key): array {
        return (array) ($GLOBALS['LAUREL_FIXTURE'][$key] ?? []);
    }

    function laurel_find(string $table, array $conditions): array {
        $out = [];
        foreach (laurel_fixture('db')[$table] ?? [] as $row) {
            $match = true;
            foreach ($conditions as $field => $value) {
                if (!array_key_exists($field, $row) || (string) $row[$field] !== (string) $value) {
                    $match = false;
                }
            }
            if ($match) {
                $out[] = (object) $row;
            }
        }
        return $out;
    }

    class stub_database {
        public function get_record($table, array $conditions, $fields = '*') {
            return laurel_find($table, $conditions)[0] ?? false;
        }
        public function get_records($table, array $conditions = [], $sort = '', $fields = '*') {
            $out = [];
            foreach (laurel_find($table, $conditions) as $row) {
                $out[$row->id] = $row;
            }
            return $out;
        }
        public function get_fieldset_select($table, $field, $select, array $params = []) {
            return array_values(array_filter(array_map(function($r) use ($field) {
                return $r->$field;
            }, laurel_find($table, [])), function($id) {
                return (int) $id !== SITEID;
            }));
        }
    }
    $DB = new stub_database();

    function get_config($plugin) {
        return (object) laurel_fixture('config');
    }

    function mtrace($text) {
        $GLOBALS['LAUREL_TEST_LOG'][] = $text;
    }

    function format_string($text, $striplinks = true, $options = []) {
        return (string) $text;
    }

    function fullname($user) {
        return trim($user->firstname . ' ' . $user->lastname);
    }

    function get_string($id, $component = '', $a = null) {
        $string = [];
        include(__DIR__ . '/../local_laurel/lang/en/local_laurel.php');
        return str_replace('{$a}', (string) $a, $string[$id] ?? "[[{$id}]]");
    }

    function laurel_cm(object $row): object {
        $cm = clone $row;
        $cm->context = context_module::instance($row->id);
        $cm->deletioninprogress = $row->deletioninprogress ?? 0;
        return $cm;
    }

    function get_coursemodule_from_instance($modname, $instance, $courseid = 0, $sectionnum = false, $strictness = IGNORE_MISSING) {
        $found = laurel_find('course_modules', ['modname' => $modname, 'instance' => $instance]);
        return $found ? laurel_cm($found[0]) : false;
    }

    function get_coursemodule_from_id($modulename, $cmid, $courseid = 0, $sectionnum = false, $strictness = IGNORE_MISSING) {
        $found = laurel_find('course_modules', ['id' => $cmid]);
        return $found ? laurel_cm($found[0]) : false;
    }

    function get_fast_modinfo($courseorid) {
        $courseid = is_object($courseorid) ? $courseorid->id : $courseorid;
        return new class((int) $courseid) {
            private $courseid;
            public function __construct(int $courseid) {
                $this->courseid = $courseid;
            }
            public function get_cms() {
                $out = [];
                foreach (laurel_find('course_modules', ['course' => $this->courseid]) as $row) {
                    $out[$row->id] = laurel_cm($row);
                }
                return $out;
            }
        };
    }

    /** Moodle's tag API, as far as the plugin reads it: tag names per course module (fixture table cm_tags). */
    class core_tag_tag {
        public static function get_items_tags($component, $itemtype, $itemids) {
            $out = [];
            foreach ($itemids as $id) {
                $out[$id] = array_map(function($row) {
                    return (object) ['rawname' => $row->rawname];
                }, laurel_find('cm_tags', ['cmid' => $id]));
            }
            return $out;
        }
    }

    class context {
        public $instanceid;
        public function __construct($instanceid) {
            $this->instanceid = $instanceid;
        }
    }
    class context_module extends context {
        public static function instance($id, $strictness = MUST_EXIST) {
            return new context_module($id);
        }
    }
    class context_course extends context {
        public static function instance($id, $strictness = MUST_EXIST) {
            return new context_course($id);
        }
    }

    class core_user {
        public static function get_user($id) {
            return laurel_find('user', ['id' => $id])[0] ?? false;
        }
    }

    class moodle_exception extends Exception {
        public function __construct($errorcode, $module = '', $link = '', $a = null) {
            parent::__construct(get_string($errorcode, $module, $a));
        }
    }
}

namespace core\task {
    abstract class adhoc_task {
        private $customdata = null;
        public function set_custom_data($data) {
            $this->customdata = json_encode($data);
        }
        public function get_custom_data() {
            return json_decode($this->customdata);
        }
        public function get_custom_data_as_string() {
            return $this->customdata;
        }
        abstract public function execute();
    }

    class manager {
        /** @var adhoc_task[] */
        public static $queue = [];
        public static function queue_adhoc_task(adhoc_task $task, $checkforexisting = false) {
            if ($checkforexisting) {
                foreach (self::$queue as $queued) {
                    if (get_class($queued) === get_class($task)
                            && $queued->get_custom_data_as_string() === $task->get_custom_data_as_string()) {
                        return false;
                    }
                }
            }
            self::$queue[] = $task;
            return count(self::$queue);
        }
    }
}

namespace core\event {
    abstract class base {
        protected $data;
        public function __construct(array $data) {
            $this->data = $data;
        }
        public function get_data() {
            return $this->data;
        }
        public function __get($name) {
            return $this->data[$name] ?? null;
        }
    }
    class user_graded extends base {
    }
    class course_module_completion_updated extends base {
    }
    class course_completed extends base {
    }
    class user_enrolment_created extends base {
    }
    class user_enrolment_deleted extends base {
    }
    class course_module_created extends base {
    }
    class course_module_updated extends base {
    }
    class course_module_deleted extends base {
    }
    class grade_item_created extends base {
    }
    class grade_item_updated extends base {
    }
    class grade_item_deleted extends base {
    }
}
