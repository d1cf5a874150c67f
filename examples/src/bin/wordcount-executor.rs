//! `wordcount-executor`: the custom executor of `wordcount-framework` (started by the agent), one
//! per agent per job; runs map and reduce tasks and serves their output.

fn main() {
    mesos_examples::wordcount::executor::main_exit();
}
