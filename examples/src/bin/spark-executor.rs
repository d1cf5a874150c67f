//! `spark-executor`: the long-lived executor of `spark-framework` (started by the agent), one per
//! agent; caches partitions in memory and runs stage tasks over them.

fn main() {
    mesos_examples::spark::executor::main_exit();
}
