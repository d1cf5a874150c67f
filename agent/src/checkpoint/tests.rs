//! Writing checkpoints and reading them back, including damaged ones.

use mesos::protocol::StatusUpdate;
use mesos::*;

use super::read::read;
use super::*;

pub(crate) fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("agent-checkpoint-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub(super) fn run() -> RunRef {
    RunRef {
        agent_id: AgentId::new("a1"),
        framework_id: FrameworkId::new("f1"),
        executor_id: ExecutorId::new("e1"),
        container_id: ContainerId::new("c1"),
    }
}

pub(super) fn update(n: u8, state: TaskState) -> StatusUpdate {
    StatusUpdate {
        framework_id: FrameworkId::new("f1"),
        executor_id: Some(ExecutorId::new("e1")),
        agent_id: Some(AgentId::new("a1")),
        status: TaskStatus::new(TaskId::new("t1"), state).with_uuid(Uuid::v4_from([n; 16])),
        timestamp: f64::from(n),
        uuid: Uuid::v4_from([n; 16]),
    }
}

/// A meta dir with one agent, framework, executor run and task with two updates and one ack.
fn write_sample(dir: &Path) -> MetaWriter {
    let writer = MetaWriter::new(dir);
    for op in &sample() {
        writer.apply(op).unwrap();
    }
    writer
}

/// The checkpoints of [`write_sample`], in order.
pub(super) fn sample() -> Vec<Checkpoint> {
    let mut agent = AgentInfo::new("h").with_resources("cpus:2".parse().unwrap());
    agent.id = Some(AgentId::new("a1"));
    let mut framework = FrameworkInfo::new("u", "n");
    framework.id = Some(FrameworkId::new("f1"));
    framework.checkpoint = true;
    let executor = ExecutorInfo::new("e1", CommandInfo::shell("./exec"));
    let task = TaskInfo::new("t1", "t1", AgentId::new("a1"), "cpus:1".parse().unwrap());
    let ops = vec![
        Checkpoint::BootId("boot-1".into()),
        Checkpoint::Agent(agent),
        Checkpoint::Framework {
            agent_id: AgentId::new("a1"),
            info: framework,
            pid: "scheduler@127.0.0.1:9".into(),
        },
        Checkpoint::Executor {
            run: run(),
            info: executor,
            command_executor: false,
        },
        Checkpoint::ForkedPid {
            run: run(),
            pid: std::process::id(),
        },
        Checkpoint::ExecutorPid {
            run: run(),
            pid: "executor@127.0.0.1:7".parse().unwrap(),
        },
        Checkpoint::Task { run: run(), task },
        Checkpoint::Update {
            run: run(),
            task_id: TaskId::new("t1"),
            record: UpdateRecord::Update(update(1, TaskState::Running)),
        },
        Checkpoint::Update {
            run: run(),
            task_id: TaskId::new("t1"),
            record: UpdateRecord::Ack(Uuid::v4_from([1; 16])),
        },
        Checkpoint::Update {
            run: run(),
            task_id: TaskId::new("t1"),
            record: UpdateRecord::Update(update(2, TaskState::Finished)),
        },
    ];
    ops
}

#[test]
fn what_is_written_is_read_back() {
    let dir = work_dir("round-trip");
    write_sample(&dir);
    let state = read(&dir, true).unwrap();
    assert_eq!(state.boot_id.as_deref(), Some("boot-1"));
    assert!(state.errors.is_empty());
    let agent = state.agent.unwrap();
    assert_eq!(agent.info.id, Some(AgentId::new("a1")));
    assert_eq!(agent.frameworks.len(), 1);
    let framework = &agent.frameworks[0];
    assert!(framework.info.checkpoint);
    assert_eq!(framework.pid, "scheduler@127.0.0.1:9");
    let executor = &framework.executors[0];
    assert!(!executor.command_executor);
    let run = &executor.run;
    assert_eq!(run.container_id, ContainerId::new("c1"));
    let forked = run.forked_pid.unwrap();
    assert_eq!(forked.pid, std::process::id());
    assert_eq!(
        Some(forked.start_ticks),
        crate::launcher::process_start_ticks(std::process::id())
    );
    assert_eq!(
        run.libprocess_pid
            .as_ref()
            .map(|p| p.to_string())
            .as_deref(),
        Some("executor@127.0.0.1:7")
    );
    assert!(!run.completed);
    assert_eq!(run.tasks.len(), 1);
    assert_eq!(run.tasks[0].records.len(), 3);
    assert_eq!(
        run.tasks[0].records[2],
        UpdateRecord::Update(update(2, TaskState::Finished))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_new_run_becomes_latest_and_the_old_one_is_garbage() {
    let dir = work_dir("runs");
    let writer = write_sample(&dir);
    writer
        .apply(&Checkpoint::RunCompleted { run: run() })
        .unwrap();
    let second = RunRef {
        container_id: ContainerId::new("c2"),
        ..run()
    };
    writer
        .apply(&Checkpoint::Executor {
            run: second,
            info: ExecutorInfo::new("e1", CommandInfo::shell("./exec")),
            command_executor: true,
        })
        .unwrap();
    let state = read(&dir, true).unwrap();
    let executor = &state.agent.unwrap().frameworks[0].executors[0];
    assert_eq!(executor.run.container_id, ContainerId::new("c2"));
    assert!(executor.command_executor);
    assert!(executor.run.tasks.is_empty());
    assert_eq!(executor.old_runs.len(), 1);
    assert!(executor.old_runs[0].ends_with("runs/c1"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_update_log_tail_is_dropped_and_cut_off() {
    let dir = work_dir("torn");
    let writer = write_sample(&dir);
    let log = writer.layout().task_updates(&run(), &TaskId::new("t1"));
    let len = std::fs::metadata(&log).unwrap().len();
    // The last record (FINISHED) half written.
    files::truncate(&log, len - 5).unwrap();
    let state = read(&dir, true).unwrap();
    let records = &state.agent.unwrap().frameworks[0].executors[0].run.tasks[0].records;
    assert_eq!(records.len(), 2);
    assert!(state.errors.is_empty(), "a torn tail is not an error");
    // The file was cut to its whole records, so the next append follows them.
    let expected: usize = records.iter().map(|r| log::encode(r).len()).sum();
    assert_eq!(std::fs::metadata(&log).unwrap().len() as usize, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_checkpoints_fail_strict_recovery_naming_the_file_and_are_skipped_otherwise() {
    let dir = work_dir("corrupt");
    let writer = write_sample(&dir);
    // A corrupt record in the middle of the log.
    let log = writer.layout().task_updates(&run(), &TaskId::new("t1"));
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[log::HEADER_LEN + 3] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();
    let err = read(&dir, true).unwrap_err();
    assert_eq!(err.path, log);
    assert!(err.to_string().contains("task.updates"), "{err}");
    let state = read(&dir, false).unwrap();
    assert_eq!(state.errors.len(), 1);
    assert!(state.agent.as_ref().unwrap().frameworks[0].executors[0]
        .run
        .tasks[0]
        .records
        .is_empty());

    // A truncated (not atomically written) info file: an error naming it, never a panic.
    let info = writer.layout().executor_info(
        &AgentId::new("a1"),
        &FrameworkId::new("f1"),
        &ExecutorId::new("e1"),
    );
    let text = std::fs::read(&info).unwrap();
    std::fs::write(&info, &text[..text.len() / 2]).unwrap();
    let err = read(&dir, true).unwrap_err();
    assert_eq!(err.path, info);
    let state = read(&dir, false).unwrap();
    // The executor is skipped whole (its corrupt log with it).
    assert_eq!(state.errors.len(), 1);
    assert!(
        state.errors[0].contains("executor.info"),
        "{:?}",
        state.errors
    );
    assert!(state.agent.unwrap().frameworks[0].executors.is_empty());
    std::fs::write(&info, &text).unwrap();

    // Garbage pids.
    std::fs::write(writer.layout().forked_pid(&run()), b"not-a-pid").unwrap();
    std::fs::write(writer.layout().libprocess_pid(&run()), b"@@").unwrap();
    let state = read(&dir, false).unwrap();
    assert!(state.errors.len() >= 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_prefix_of_every_file_reads_without_panicking() {
    let dir = work_dir("prefixes");
    write_sample(&dir);
    let mut files = Vec::new();
    let mut stack = vec![dir.join("meta")];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap().flatten() {
            let p = entry.path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 7, "{files:?}");
    for file in files {
        let original = std::fs::read(&file).unwrap();
        // Every cut near the start and end of the file, and a spread in between.
        let step = (original.len() / 40).max(1);
        let cuts =
            (0..original.len()).filter(|&c| c < 16 || c + 16 > original.len() || c % step == 0);
        for cut in cuts {
            std::fs::write(&file, &original[..cut]).unwrap();
            // Either outcome is fine; what matters is an answer, not a panic.
            let _ = read(&dir, true);
            let _ = read(&dir, false).unwrap();
        }
        std::fs::write(&file, &original).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_agent_checkpointed_means_a_fresh_start() {
    let dir = work_dir("fresh");
    let state = read(&dir, true).unwrap();
    assert_eq!(state, RecoveredState::default());
    let writer = write_sample(&dir);
    writer.apply(&Checkpoint::ForgetAgent).unwrap();
    assert!(read(&dir, true).unwrap().agent.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
