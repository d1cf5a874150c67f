use super::*;
use crate::logreg::Gradient;

const SEC: Duration = Duration::from_secs(1);

/// Partition `p` on `nodes[p]`.
fn settings(nodes: &[&str]) -> CoreSettings {
    CoreSettings {
        partitions: nodes
            .iter()
            .enumerate()
            .map(|(p, node)| PartitionSpec {
                block: format!("/in/{node}/block-{p}.txt").into(),
                node: node.to_string(),
            })
            .collect(),
        dims: 1,
        lease_resources: "cpus:1".parse().expect("resources"),
        executor_resources: "mem:100".parse().expect("resources"),
        locality_wait: 2 * SEC,
        idle_timeout: 3 * SEC,
        max_leases: usize::MAX,
        remote_read_mbps: 5.0,
        task_timeout: 30 * SEC,
    }
}

fn op(weight: f64) -> Op {
    Op::Gradient {
        weights: vec![weight],
    }
}

fn result(p: usize) -> OpResult {
    OpResult::Gradient(Gradient {
        sum: vec![p as f64],
        loss: 1.0,
        count: 1,
    })
}

/// Offers `res` from agent `a<i>` on node `n<i>`; returns the actions.
fn offer(core: &mut SparkCore, now: Instant, i: usize, res: &str) -> Vec<Action> {
    let (offer_id, agent_id) = (OfferId::new(format!("o{i}")), AgentId::new(format!("a{i}")));
    let resources: Resources = res.parse().expect("resources");
    let node = format!("n{i}");
    core.on_offer(
        now,
        OfferView {
            offer_id: &offer_id,
            agent_id: &agent_id,
            node: &node,
            resources: &resources,
        },
    );
    core.drain_actions()
}

/// The leases of the one launch in `actions`, and its executor.
fn launched(actions: &[Action]) -> (ExecutorId, Vec<TaskId>) {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Launch {
                executor_id,
                leases,
                ..
            } => Some((executor_id.clone(), leases.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no launch in {actions:?}"))
}

/// The tasks sent in `actions`, as (executor, task, remote_read_mbps).
fn runs(actions: &[Action]) -> Vec<(ExecutorId, TaskRef, f64)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                executor_id,
                message: ToExecutor::Run { task, lineage, .. },
                ..
            } => Some((executor_id.clone(), *task, lineage.remote_read_mbps)),
            _ => None,
        })
        .collect()
}

fn run_leases(core: &mut SparkCore, now: Instant, leases: &[TaskId]) -> Vec<Action> {
    for lease in leases {
        core.on_lease_status(now, lease, TaskState::Running);
    }
    core.drain_actions()
}

fn answer(core: &mut SparkCore, now: Instant, executor: &ExecutorId, task: TaskRef, loaded: bool) {
    core.on_message(
        now,
        executor,
        FromExecutor::Done {
            task,
            result: result(task.partition),
            loaded,
        },
    );
}

/// A core over partitions on `nodes` whose first job and stage started at `t0`.
fn started(nodes: &[&str], t0: Instant) -> SparkCore {
    let mut core = SparkCore::new(settings(nodes));
    core.start_job();
    core.start_stage(t0, op(0.0));
    core
}

/// The loads of the stage that just completed, if one did.
fn done_loads(core: &mut SparkCore) -> Option<usize> {
    match core.take_outcome() {
        Some(StageOutcome::Done { loads, .. }) => Some(loads),
        _ => None,
    }
}

/// Starts a job and its first stage, and gives each of agents 0 and 1 two cores.
fn two_executors(core: &mut SparkCore, t0: Instant) -> [(ExecutorId, Vec<TaskRef>); 2] {
    core.start_job();
    core.start_stage(t0, op(0.0));
    core.drain_actions();
    [0, 1].map(|i| {
        let (executor, leases) = launched(&offer(core, t0, i, "cpus:4;mem:1000"));
        let tasks = runs(&run_leases(core, t0, &leases))
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        (executor, tasks)
    })
}

#[test]
fn an_offer_takes_one_core_per_local_partition_and_starts_the_executor_once() {
    let t0 = Instant::now();
    let mut core = started(&["n0", "n0", "n0", "n1"], t0);
    assert!(
        core.drain_actions().is_empty(),
        "a new framework is revived"
    );
    // Three partitions on n0. No room for the executor's 100 MB: nothing fits.
    let actions = offer(&mut core, t0, 0, "cpus:2;mem:50");
    assert!(
        matches!(&actions[..], [Action::Decline { .. }]),
        "{actions:?}"
    );
    // Room for the executor and two cores.
    let actions = offer(&mut core, t0, 0, "cpus:2.5;mem:150");
    let (executor, leases) = launched(&actions);
    assert_eq!(leases.len(), 2);
    // Still wants the third core: a short filter.
    assert!(matches!(&actions[0], Action::Launch { refuse, .. } if *refuse == MIN_REFUSE));
    // The executor runs now: one more core needs no executor memory.
    let (same, more) = launched(&offer(&mut core, t0, 0, "cpus:1"));
    assert_eq!((same, more.len()), (executor.clone(), 1));
    // Nothing more is useful there: declined until the locality wait ends.
    let actions = offer(&mut core, t0 + SEC, 0, "cpus:4;mem:1000");
    assert_eq!(
        actions,
        vec![Action::Decline {
            offer_id: OfferId::new("o0"),
            refuse: SEC
        }]
    );
    // An agent without blocks is useless until the wait is over.
    assert!(matches!(
        &offer(&mut core, t0, 2, "cpus:4;mem:1000")[..],
        [Action::Decline { .. }]
    ));

    // Tasks go out as the leases run, one per core, local blocks read unthrottled.
    let sent = runs(&run_leases(&mut core, t0, &leases));
    assert_eq!(sent.len(), 2);
    assert!(sent
        .iter()
        .all(|(e, t, mbps)| *e == executor && t.partition < 3 && *mbps == 0.0));
    assert_eq!(core.cores(), 2);
}

#[test]
fn later_stages_run_where_partitions_are_cached_without_new_cores() {
    let t0 = Instant::now();
    let mut core = SparkCore::new(settings(&["n0", "n1", "n0", "n1"]));
    let [(e0, t_0), (e1, t_1)] = two_executors(&mut core, t0);
    assert_eq!((t_0.len(), t_1.len()), (2, 2));
    for task in &t_0 {
        answer(&mut core, t0 + SEC, &e0, *task, true);
    }
    assert_eq!(core.take_outcome(), None);
    for task in &t_1 {
        answer(&mut core, t0 + SEC, &e1, *task, true);
    }
    assert_eq!(
        core.take_outcome(),
        Some(StageOutcome::Done {
            results: (0..4).map(result).collect(),
            loads: 4
        })
    );
    assert_eq!(
        core.homes(),
        BTreeMap::from([(e0.clone(), vec![0, 2]), (e1.clone(), vec![1, 3])])
    );

    core.start_stage(t0 + 2 * SEC, op(1.0));
    let sent = runs(&core.drain_actions());
    assert_eq!(sent.len(), 4);
    for (executor, task, _) in &sent {
        assert_eq!(
            *executor,
            if task.partition % 2 == 0 { &e0 } else { &e1 }.clone()
        );
        assert_eq!(task.stage, 1);
        answer(&mut core, t0 + 2 * SEC, executor, *task, false);
    }
    assert_eq!(done_loads(&mut core), Some(0));
}

#[test]
fn idle_cores_go_back_and_a_later_job_finds_its_cache() {
    let t0 = Instant::now();
    let mut core = SparkCore::new(settings(&["n0", "n1"]));
    let [(e0, t_0), (e1, t_1)] = two_executors(&mut core, t0);
    // One partition each: the second core of each agent was never useful.
    assert_eq!(core.cores(), 2);
    answer(&mut core, t0 + SEC, &e0, t_0[0], true);
    answer(&mut core, t0 + SEC, &e1, t_1[0], true);
    assert!(core.take_outcome().is_some());
    core.end_job();
    assert_eq!(core.drain_actions(), vec![Action::Suppress]);
    // Not idle long enough yet.
    core.tick(t0 + 3 * SEC);
    assert!(core.drain_actions().is_empty());
    core.tick(t0 + 4 * SEC);
    let killed: Vec<Action> = core.drain_actions();
    assert_eq!(killed.len(), 2, "{killed:?}");
    assert!(killed.iter().all(|a| matches!(a, Action::KillLease(_))));
    assert_eq!(core.cores(), 0);
    for action in &killed {
        if let Action::KillLease(lease) = action {
            core.on_lease_status(t0 + 4 * SEC, lease, TaskState::Killed);
        }
    }
    assert_eq!(core.counters().leases_released, 2);
    assert_eq!(core.counters().executors_lost, 0);
    // Between jobs, offers are not wanted at all.
    assert!(matches!(
        &offer(&mut core, t0 + 5 * SEC, 0, "cpus:2;mem:1000")[..],
        [Action::Decline { refuse, .. }] if *refuse == IDLE_REFUSE
    ));

    // The next job takes cores on the executors that cache its partitions, no executor memory.
    let t1 = t0 + 10 * SEC;
    core.start_job();
    core.start_stage(t1, op(0.5));
    assert_eq!(core.drain_actions(), vec![Action::Revive]);
    let (again, leases) = launched(&offer(&mut core, t1, 0, "cpus:2"));
    assert_eq!((again.clone(), leases.len()), (e0, 1));
    let sent = runs(&run_leases(&mut core, t1, &leases));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.partition, 0);
    answer(&mut core, t1, &again, sent[0].1, false);
    let (_, leases) = launched(&offer(&mut core, t1, 1, "cpus:2"));
    let sent = runs(&run_leases(&mut core, t1, &leases));
    answer(&mut core, t1, &e1, sent[0].1, false);
    assert_eq!(done_loads(&mut core), Some(0));
}

#[test]
fn a_lost_executor_partitions_are_rebuilt_elsewhere_and_stale_answers_dropped() {
    let t0 = Instant::now();
    let mut core = SparkCore::new(settings(&["n0", "n1", "n0", "n1"]));
    let [(e0, t_0), (e1, t_1)] = two_executors(&mut core, t0);
    answer(&mut core, t0, &e0, t_0[0], true);
    answer(&mut core, t0, &e1, t_1[0], true);
    answer(&mut core, t0, &e1, t_1[1], true);
    // e0 still runs partition 2 when its agent goes.
    let now = t0 + SEC;
    core.on_agent_lost(now, &AgentId::new("a0"));
    let actions = core.drain_actions();
    assert!(actions.contains(&Action::Revive), "{actions:?}");
    assert!(actions.iter().any(|a| matches!(a, Action::KillLease(_))));
    assert_eq!(core.counters().executors_lost, 1);
    // Within the locality wait since the last local launch, e1 does not take n0's blocks.
    assert!(runs(&actions).is_empty(), "{actions:?}");
    // Its late answer changes nothing.
    answer(&mut core, now, &e0, t_0[1], true);
    assert_eq!(core.take_outcome(), None);
    // Once the wait is over, a free core of e1 rebuilds partition 2 (read remotely). Partition
    // 0's result of this stage stands; it is only homeless now.
    core.tick(t0 + 2 * SEC);
    let sent = runs(&core.drain_actions());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((&sent[0].0, sent[0].1.partition, sent[0].2), (&e1, 2, 5.0));
    answer(&mut core, t0 + 2 * SEC, &e1, sent[0].1, true);
    let Some(StageOutcome::Done { results, loads }) = core.take_outcome() else {
        panic!("the stage did not complete");
    };
    assert_eq!(results, (0..4).map(result).collect::<Vec<_>>());
    assert_eq!(loads, 4);
    assert_eq!(core.homes(), BTreeMap::from([(e1.clone(), vec![1, 2, 3])]));
    // The next stage rebuilds partition 0 too.
    core.start_stage(t0 + 3 * SEC, op(1.0));
    core.tick(t0 + 5 * SEC);
    let sent = runs(&core.drain_actions());
    assert_eq!(sent.len(), 2, "two cores on e1");
    for (executor, task, _) in sent {
        answer(
            &mut core,
            t0 + 5 * SEC,
            &executor,
            task,
            task.partition == 0,
        );
    }
    core.tick(t0 + 5 * SEC);
    for (executor, task, _) in runs(&core.drain_actions()) {
        answer(
            &mut core,
            t0 + 5 * SEC,
            &executor,
            task,
            task.partition == 0,
        );
    }
    assert_eq!(done_loads(&mut core), Some(1));
    assert_eq!(core.homes(), BTreeMap::from([(e1, vec![0, 1, 2, 3])]));
}

#[test]
fn a_task_failing_too_often_fails_the_stage() {
    let t0 = Instant::now();
    let mut core = started(&["n0"], t0);
    let (executor, leases) = launched(&offer(&mut core, t0, 0, "cpus:1;mem:100"));
    let mut sent = runs(&run_leases(&mut core, t0, &leases));
    for attempt in 1..=MAX_FAILURES {
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1.attempt, attempt);
        core.on_message(
            t0,
            &executor,
            FromExecutor::Failed {
                task: sent[0].1,
                message: "cannot read".into(),
            },
        );
        sent = runs(&core.drain_actions());
    }
    match core.take_outcome() {
        Some(StageOutcome::Failed(why)) => {
            assert!(
                why.contains("partition 0 failed 4 times, last: cannot read"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_lease_that_never_ran_forgets_the_executor() {
    let t0 = Instant::now();
    let mut core = started(&["n0"], t0);
    let (first, leases) = launched(&offer(&mut core, t0, 0, "cpus:1;mem:100"));
    core.on_lease_status(t0, &leases[0], TaskState::Error);
    assert_eq!(core.counters().executors_lost, 0);
    core.drain_actions();
    // The next launch starts a new executor (so it needs the executor's memory again).
    assert!(matches!(
        &offer(&mut core, t0, 0, "cpus:1")[..],
        [Action::Decline { .. }]
    ));
    let (second, _) = launched(&offer(&mut core, t0, 0, "cpus:1;mem:100"));
    assert_ne!(first, second);
}

#[test]
fn a_partition_whose_home_has_no_cores_moves_after_the_wait() {
    let t0 = Instant::now();
    let mut core = SparkCore::new(settings(&["n0", "n1"]));
    let [(e0, t_0), (e1, t_1)] = two_executors(&mut core, t0);
    answer(&mut core, t0, &e0, t_0[0], true);
    answer(&mut core, t0, &e1, t_1[0], true);
    core.take_outcome();
    core.end_job();
    core.tick(t0 + 5 * SEC);
    for action in core.drain_actions() {
        if let Action::KillLease(lease) = action {
            core.on_lease_status(t0 + 5 * SEC, &lease, TaskState::Killed);
        }
    }
    // Next job: only agent 1 gets cores back (agent 0's went to another framework).
    let t1 = t0 + 10 * SEC;
    core.start_job();
    core.start_stage(t1, op(1.0));
    core.drain_actions();
    let (_, leases) = launched(&offer(&mut core, t1, 1, "cpus:2"));
    assert_eq!(leases.len(), 1, "one partition lives on agent 1");
    let sent = runs(&run_leases(&mut core, t1, &leases));
    answer(&mut core, t1, &e1, sent[0].1, false);
    // After the wait, agent 1 takes a core for partition 0 too, and it moves there.
    let actions = offer(&mut core, t1 + 2 * SEC, 1, "cpus:1");
    let (_, leases) = launched(&actions);
    let actions = run_leases(&mut core, t1 + 2 * SEC, &leases);
    assert!(actions.contains(&Action::Send {
        executor_id: e0.clone(),
        agent_id: AgentId::new("a0"),
        message: ToExecutor::Evict { partition: 0 },
    }));
    let sent = runs(&actions);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].1.partition, sent[0].2), (0, 5.0));
    answer(&mut core, t1 + 2 * SEC, &e1, sent[0].1, true);
    assert_eq!(done_loads(&mut core), Some(1));
    assert_eq!(core.counters().migrations, 1);
}

#[test]
fn during_a_job_an_executor_keeps_a_core_per_cached_partition_and_gives_back_the_rest() {
    let t0 = Instant::now();
    let mut core = started(&["n0", "n1", "n1", "n1"], t0);
    let (e0, leases) = launched(&offer(&mut core, t0, 0, "cpus:1;mem:100"));
    let t_0 = runs(&run_leases(&mut core, t0, &leases));
    // Agent 1 has room for two of its three partitions.
    let (e1, leases) = launched(&offer(&mut core, t0, 1, "cpus:2;mem:100"));
    let t_1 = runs(&run_leases(&mut core, t0, &leases));
    // Past the wait, agent 0 takes a core for the third (it would read it remotely) ...
    let (_, extra) = launched(&offer(&mut core, t0 + 3 * SEC, 0, "cpus:1"));
    // ... but a core of agent 1 frees first and takes it, locally.
    answer(&mut core, t0 + 3 * SEC, &e1, t_1[0].1, true);
    let t_1b = runs(&core.drain_actions());
    assert_eq!((&t_1b[0].0, t_1b[0].2), (&e1, 0.0));
    assert!(runs(&run_leases(&mut core, t0 + 3 * SEC, &extra)).is_empty());
    assert_eq!(core.cores(), 4);
    // e0's partition is done; e1 straggles far past the idle timeout.
    answer(&mut core, t0 + 3 * SEC, &e0, t_0[0].1, true);
    core.tick(t0 + 10 * SEC);
    // Only e0's second core (no partition of its own) goes back; the idle one of e1 stays.
    assert_eq!(
        core.drain_actions(),
        vec![Action::KillLease(extra[0].clone())]
    );
    answer(&mut core, t0 + 10 * SEC, &e1, t_1[1].1, true);
    answer(&mut core, t0 + 10 * SEC, &e1, t_1b[0].1, true);
    assert!(core.take_outcome().is_some());
    assert_eq!(core.cores(), 3);
    // Once the job is over, every idle core goes back.
    core.end_job();
    core.tick(t0 + 13 * SEC);
    let killed = core
        .drain_actions()
        .into_iter()
        .filter(|a| matches!(a, Action::KillLease(_)))
        .count();
    assert_eq!(killed, 3);
}

#[test]
fn an_unanswered_task_is_sent_again_and_any_attempt_answers_it() {
    let t0 = Instant::now();
    let mut core = started(&["n0"], t0);
    let (executor, leases) = launched(&offer(&mut core, t0, 0, "cpus:1;mem:100"));
    let first = runs(&run_leases(&mut core, t0, &leases));
    core.tick(t0 + 29 * SEC);
    assert!(runs(&core.drain_actions()).is_empty());
    // The message (or its answer) was lost: after the timeout it goes again.
    core.tick(t0 + 30 * SEC);
    let again = runs(&core.drain_actions());
    assert_eq!(again.len(), 1);
    assert_eq!((&again[0].0, again[0].1.attempt), (&executor, 2));
    assert_eq!(core.counters().resends, 1);
    // The first attempt's answer arrives after all: it completes the stage; the second's is
    // then stale.
    answer(&mut core, t0 + 31 * SEC, &executor, first[0].1, true);
    assert_eq!(done_loads(&mut core), Some(1));
    answer(&mut core, t0 + 31 * SEC, &executor, again[0].1, false);
    assert_eq!(core.take_outcome(), None);
}
