//! The group writer: batches read back as the same checkpoints written one at a time, every
//! checkpoint is reported durable in order, a log gets one record per batch, a crash before a
//! batch commits leaves the state before it, and a damaged log it wrote is named on recovery.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

use mesos::*;

use super::batch::{Durability, Plan};
use super::read::read;
use super::tests::{run, sample, update, work_dir};
use super::writer::batch_len;
use super::*;

fn task_run(n: usize) -> RunRef {
    RunRef {
        executor_id: ExecutorId::new(format!("e{n}")),
        container_id: ContainerId::new(format!("c{n}")),
        ..run()
    }
}

fn log_record(n: usize, record: UpdateRecord) -> Checkpoint {
    Checkpoint::Update {
        run: task_run(n),
        task_id: TaskId::new(format!("t{n}")),
        record,
    }
}

#[test]
fn a_batch_reads_back_as_the_same_checkpoints_written_one_at_a_time() {
    let (one, many) = (work_dir("one-at-a-time"), work_dir("one-batch"));
    let single = MetaWriter::new(&one);
    for op in &sample() {
        single.apply(op).unwrap();
    }
    MetaWriter::new(&many)
        .with_sync_pool(SyncPool::new(4).unwrap())
        .apply_batch(&sample())
        .unwrap();
    let (a, b) = (read(&one, true).unwrap(), read(&many, true).unwrap());
    assert_eq!(a, b);
    assert_eq!(
        b.agent.unwrap().frameworks[0].executors[0].run.tasks[0]
            .records
            .len(),
        3
    );
    for dir in [one, many] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_batch_appends_at_most_one_record_to_each_log() {
    let writer = MetaWriter::new(&work_dir("batch-len"));
    let ack = |n: u8| UpdateRecord::Ack(Uuid::v4_from([n; 16]));
    let waiting: VecDeque<(u64, Checkpoint)> = [
        log_record(1, ack(1)),
        log_record(2, ack(2)),
        Checkpoint::BootId("b".into()),
        log_record(1, ack(3)), // t1's second record: the next batch
        log_record(3, ack(4)),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, c)| (i as u64 + 1, c))
    .collect();
    assert_eq!(batch_len(&writer, &waiting), 3);
    let rest: VecDeque<_> = waiting.into_iter().skip(3).collect();
    assert_eq!(batch_len(&writer, &rest), 2);
}

#[test]
fn the_group_writer_reports_every_checkpoint_durable_in_order() {
    const TASKS: usize = 60;
    let dir = work_dir("group-writer");
    let (reports, synced) = mpsc::channel();
    let writer = GroupWriter::spawn(MetaWriter::new(&dir), 8, move |report| {
        let _ = reports.send(report);
    })
    .unwrap();
    let mut seq = 0;
    let mut submit = |checkpoint| {
        seq += 1;
        assert!(writer.submit(seq, checkpoint));
    };
    for op in sample().into_iter().take(3) {
        submit(op); // boot id, agent, framework
    }
    // Per task: its info, then STARTING, its ack, RUNNING: three records for one log, which
    // must land in order across batches.
    for n in 0..TASKS {
        let task = TaskInfo::new(
            format!("t{n}"),
            "t",
            AgentId::new("a1"),
            "cpus:1".parse().unwrap(),
        );
        submit(Checkpoint::Executor {
            run: task_run(n),
            info: ExecutorInfo::new(format!("e{n}"), CommandInfo::shell("./exec")),
            command_executor: true,
        });
        submit(Checkpoint::Task {
            run: task_run(n),
            task,
        });
    }
    for (i, state) in [TaskState::Starting, TaskState::Running]
        .into_iter()
        .enumerate()
    {
        for n in 0..TASKS {
            let mut update = update(i as u8 + 1, state);
            update.status.task_id = TaskId::new(format!("t{n}"));
            update.executor_id = Some(ExecutorId::new(format!("e{n}")));
            submit(log_record(n, UpdateRecord::Update(update)));
            if state == TaskState::Starting {
                submit(log_record(n, UpdateRecord::Ack(Uuid::v4_from([1; 16]))));
            }
        }
    }
    let total = 3 + TASKS * 5;
    let mut through = 0;
    let mut covered = 0;
    let mut batches = 0;
    while through < total as u64 {
        let report = synced
            .recv_timeout(Duration::from_secs(30))
            .expect("a batch report within 30 s");
        report.result.expect("the batch is written");
        assert!(report.through > through, "reports come in order");
        assert_eq!(report.through - through, report.batch as u64);
        through = report.through;
        covered += report.batch;
        batches += 1;
    }
    assert_eq!(covered, total);
    // At least three batches (one record per log per batch), fewer than one per checkpoint
    // unless the writer never found two waiting.
    assert!(batches >= 3, "{batches} batches");
    drop(writer);
    let state = read(&dir, true).unwrap();
    let executors = &state.agent.unwrap().frameworks[0].executors;
    assert_eq!(executors.len(), TASKS);
    for executor in executors {
        let records = &executor.run.tasks[0].records;
        let states: Vec<_> = records
            .iter()
            .map(|r| match r {
                UpdateRecord::Update(u) => Some(u.status.state),
                UpdateRecord::Ack(_) => None,
            })
            .collect();
        assert_eq!(
            states,
            vec![Some(TaskState::Starting), None, Some(TaskState::Running)]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_agent_killed_before_a_batch_commits_leaves_the_state_before_it() {
    let dir = work_dir("crash-before-commit");
    let writer = MetaWriter::new(&dir);
    for op in &sample() {
        writer.apply(op).unwrap();
    }
    let before = read(&dir, true).unwrap();
    // A batch prepared (temp files written, new directories made), then the agent dies before
    // it renames or appends anything: forget the plan as a crash would.
    let mut plan = Plan::default();
    let layout = writer.layout();
    let second = task_run(2);
    let task = TaskInfo::new("t2", "t2", AgentId::new("a1"), "cpus:1".parse().unwrap());
    plan.write(
        &layout.task_info(&second, &task.task_id),
        b"{}",
        Durability::Synced,
    )
    .unwrap();
    plan.write(&layout.boot_id(), b"boot-2", Durability::Synced)
        .unwrap();
    plan.append(
        &layout.task_updates(&run(), &TaskId::new("t1")),
        log::encode(&UpdateRecord::Ack(Uuid::v4_from([2; 16]))),
    )
    .unwrap();
    std::mem::forget(plan);
    let after = read(&dir, true).unwrap();
    assert_eq!(after, before, "nothing of the unfinished batch is visible");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_log_written_in_batches_is_named_on_recovery() {
    let dir = work_dir("damaged-batches");
    let (reports, synced) = mpsc::channel();
    let writer = GroupWriter::spawn(MetaWriter::new(&dir), 4, move |report| {
        let _ = reports.send(report);
    })
    .unwrap();
    let ops = sample();
    for (i, op) in ops.iter().enumerate() {
        assert!(writer.submit(i as u64 + 1, op.clone()));
    }
    let mut through = 0;
    while through < ops.len() as u64 {
        let report = synced
            .recv_timeout(Duration::from_secs(30))
            .expect("a report");
        report.result.unwrap();
        through = report.through;
    }
    drop(writer);
    let log = MetaLayout::new(&dir).task_updates(&run(), &TaskId::new("t1"));
    let bytes = std::fs::read(&log).unwrap();

    // A truncated last record: dropped, the log cut to its whole records, no error.
    std::fs::write(&log, &bytes[..bytes.len() - 7]).unwrap();
    let state = read(&dir, true).unwrap();
    assert!(state.errors.is_empty());
    assert_eq!(
        state.agent.unwrap().frameworks[0].executors[0].run.tasks[0]
            .records
            .len(),
        2
    );

    // A corrupt record with whole records after it: strict recovery names the file and where.
    let mut corrupt = bytes.clone();
    let second = log::encode(&UpdateRecord::Update(update(1, TaskState::Running))).len();
    corrupt[second + log::HEADER_LEN + 4] ^= 0xff;
    std::fs::write(&log, &corrupt).unwrap();
    let err = read(&dir, true).unwrap_err();
    assert_eq!(err.path, log);
    assert!(
        err.to_string()
            .contains(&format!("corrupt record at byte {second}")),
        "{err}"
    );
    let state = read(&dir, false).unwrap();
    assert_eq!(state.errors.len(), 1);
    assert!(
        state.errors[0].contains("task.updates"),
        "{:?}",
        state.errors
    );
    let _ = std::fs::remove_dir_all(&dir);
}
