//! `spark-framework --master=host:port --input=<dir>`: the Spark-like iterative framework (see
//! `mesos_examples::spark`); `--direct` fits in this process instead.

fn main() {
    mesos_examples::spark::cli::main_exit();
}
