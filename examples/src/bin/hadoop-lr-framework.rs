//! `hadoop-lr-framework --master=host:port --input=<dir>`: logistic regression as one MapReduce
//! job per iteration on the word count's machinery (see `mesos_examples::wordcount::hadoop_lr`),
//! the baseline of the Spark-like framework.

fn main() {
    mesos_examples::wordcount::hadoop_lr::main_exit();
}
