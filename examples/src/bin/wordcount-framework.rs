//! `wordcount-framework --master=host:port --input=<dir> --output=<file>`: the Hadoop-like word
//! count (see `mesos_examples::wordcount`); `--direct` counts in this process instead.

fn main() {
    mesos_examples::wordcount::cli::main_exit();
}
