//! The gang state machine as pure logic: injected time, no sleeps, no cluster.

use super::*;
use mesos::CommandInfo;

fn config(ranks: usize) -> GangConfig {
    GangConfig {
        name: "mpi".into(),
        ranks,
        needs: RankNeeds::new(1.0, 128.0),
        gang_timeout: Duration::from_secs(1),
        jobs: 1,
        work_ms: 0,
        vector_len: 10,
        fail_rank: None,
        max_attempts: 3,
        rendezvous_timeout: Duration::from_secs(5),
        executor: ExecutorInfo::new(
            "mpi-rank",
            CommandInfo::argv("/bin/mpi-executor", Vec::<String>::new()),
        ),
        seed: 1,
    }
}

fn offer(id: &str, agent: &str, resources: &str) -> Offer {
    Offer {
        id: OfferId::new(id),
        agent_id: AgentId::new(agent),
        hostname: format!("host-{agent}"),
        resources: resources.parse().unwrap(),
        ..Offer::default()
    }
}

/// One rank's worth of resources (plus the ports every local agent offers).
fn slot(id: &str, agent: &str) -> Offer {
    offer(id, agent, "cpus:1;mem:256;ports:[31000-32000]")
}

fn registered(cfg: GangConfig, t0: Instant) -> GangCore {
    let mut core = GangCore::new(cfg);
    core.registered(t0);
    assert_eq!(core.take_actions(), vec![GangAction::Revive]);
    core
}

fn launched(actions: &[GangAction]) -> Vec<TaskInfo> {
    actions
        .iter()
        .filter_map(|a| match a {
            GangAction::Launch { tasks, .. } => Some(tasks.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn declined(actions: &[GangAction]) -> Vec<(OfferId, Duration)> {
    actions
        .iter()
        .filter_map(|a| match a {
            GangAction::Decline { offer_id, refuse } => Some((offer_id.clone(), *refuse)),
            _ => None,
        })
        .collect()
}

fn killed(actions: &[GangAction]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            GangAction::Kill(id) => Some(id.to_string()),
            _ => None,
        })
        .collect()
}

fn reports(actions: &[GangAction]) -> Vec<JobReport> {
    actions
        .iter()
        .filter_map(|a| match a {
            GangAction::JobFinished(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn status(task: &str, state: TaskState) -> TaskStatus {
    TaskStatus::new(TaskId::new(task), state)
}

fn finished(task: &TaskInfo, ok: bool) -> TaskStatus {
    let data = RankTask::from_bytes(&task.data).unwrap();
    let mut status = status(task.task_id.as_str(), TaskState::Finished);
    status.data = RankResult {
        rank: data.rank,
        result_ok: ok,
        checksum: 1,
    }
    .to_bytes();
    status
}

/// Registers, offers three one-rank agents, returns the launched tasks.
fn launch_three(core: &mut GangCore, tag: &str) -> Vec<TaskInfo> {
    core.offers(vec![
        slot(&format!("{tag}1"), "a1"),
        slot(&format!("{tag}2"), "a2"),
        slot(&format!("{tag}3"), "a3"),
    ]);
    let actions = core.take_actions();
    let tasks = launched(&actions);
    assert_eq!(tasks.len(), 3, "{actions:?}");
    tasks
}

#[test]
fn holds_offers_until_the_gang_fits_then_launches_every_rank_at_once() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    core.offers(vec![slot("o1", "a1")]);
    core.offers(vec![slot("o2", "a2")]);
    // Held, not declined, not launched.
    assert!(core.take_actions().is_empty());
    assert_eq!(core.held_offers(), 2);
    core.offers(vec![slot("o3", "a3")]);
    let actions = core.take_actions();
    let launches: Vec<&GangAction> = actions
        .iter()
        .filter(|a| matches!(a, GangAction::Launch { .. }))
        .collect();
    assert_eq!(launches.len(), 3, "one launch per agent: {actions:?}");
    assert_eq!(actions.last(), Some(&GangAction::Suppress));
    assert_eq!(core.phase(), Phase::Running);
    assert_eq!(core.held_offers(), 0);

    let tasks = launched(&actions);
    let data: Vec<RankTask> = tasks
        .iter()
        .map(|t| RankTask::from_bytes(&t.data).unwrap())
        .collect();
    let ranks: Vec<usize> = data.iter().map(|d| d.rank).collect();
    assert_eq!(ranks.len(), 3);
    for rank in 0..3 {
        assert!(ranks.contains(&rank));
    }
    // Every rank meets rank 0 at the same address: rank 0's host and the port in its task.
    let rank0 = tasks
        .iter()
        .zip(&data)
        .find(|(_, d)| d.rank == 0)
        .map(|(t, d)| (t.clone(), d.clone()))
        .unwrap();
    let port = rank0.1.coordinator_port().unwrap();
    assert!((31000..=32000).contains(&port));
    assert_eq!(
        rank0.1.coordinator,
        format!("host-{}:{port}", rank0.0.agent_id)
    );
    assert_eq!(
        rank0
            .0
            .resources
            .ports()
            .unwrap()
            .values()
            .collect::<Vec<_>>(),
        vec![u64::from(port)]
    );
    for (task, d) in tasks.iter().zip(&data) {
        assert_eq!(d.coordinator, rank0.1.coordinator);
        assert_eq!(d.token, rank0.1.token);
        assert_eq!(d.ranks, 3);
        assert!(!d.fail);
        // One executor per rank.
        assert_eq!(
            task.executor.as_ref().unwrap().executor_id.as_str(),
            task.task_id.as_str()
        );
        assert_eq!(task.resources.cpus(), Some(1.0));
    }
}

#[test]
fn offers_that_cannot_host_a_rank_are_declined_the_rest_held() {
    let mut core = registered(config(2), Instant::now());
    core.offers(vec![
        slot("o1", "a1"),
        offer("tiny", "a2", "cpus:0.5;mem:64"),
    ]);
    let actions = core.take_actions();
    assert_eq!(
        declined(&actions),
        vec![(OfferId::new("tiny"), UNUSABLE_REFUSE)]
    );
    assert_eq!(core.held_offers(), 1);
    // Two offers of one agent together fit a rank.
    core.offers(vec![
        offer("h1", "a3", "cpus:0.5;mem:128"),
        offer("h2", "a3", "cpus:0.5"),
    ]);
    let actions = core.take_actions();
    let launches: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            GangAction::Launch {
                agent_id,
                offer_ids,
                ..
            } => Some((agent_id.clone(), offer_ids.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        launches,
        vec![(AgentId::new("a1"), 1), (AgentId::new("a3"), 2)]
    );
}

#[test]
fn releases_held_offers_at_the_gang_timeout_and_revives_after_backoff() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    core.offers(vec![slot("o1", "a1"), slot("o2", "a2")]);
    assert_eq!(core.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    core.tick(t0 + Duration::from_millis(999));
    assert!(core.take_actions().is_empty());

    let t1 = t0 + Duration::from_secs(1);
    core.tick(t1);
    let actions = core.take_actions();
    let released = declined(&actions);
    assert_eq!(released.len(), 2);
    assert_eq!(actions.last(), Some(&GangAction::Suppress));
    assert_eq!(core.held_offers(), 0);
    assert_eq!(core.releases(), 1);
    let Phase::BackingOff { until } = core.phase() else {
        panic!("not backing off: {:?}", core.phase());
    };
    let delay = until - t1;
    assert!(
        delay >= Duration::from_millis(500) && delay < Duration::from_millis(1500),
        "{delay:?}"
    );
    // The refuse filter lasts the backoff: the resources go to others meanwhile.
    assert!(released.iter().all(|(_, refuse)| *refuse == delay));
    // Offers during the backoff are declined.
    core.offers(vec![slot("late", "a3")]);
    assert_eq!(
        declined(&core.take_actions()),
        vec![(OfferId::new("late"), IDLE_REFUSE)]
    );

    core.tick(until - Duration::from_millis(1));
    assert!(core.take_actions().is_empty());
    core.tick(until);
    assert_eq!(core.take_actions(), vec![GangAction::Revive]);
    assert_eq!(core.phase(), Phase::Assembling { since: until });
    let tasks = launch_three(&mut core, "n");
    assert!(tasks.iter().all(|t| t.task_id.as_str().contains("try1")));
    // The job's line counts the release.
    let t2 = until + Duration::from_secs(1);
    for t in &tasks {
        core.status_update(t2, &finished(t, true));
    }
    let done = reports(&core.take_actions());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].releases, 1);
    assert!(done[0].to_string().ends_with(" releases=1"), "{}", done[0]);
}

#[test]
fn a_timeout_holding_nothing_is_not_a_release() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    core.take_actions();
    core.tick(t0 + Duration::from_secs(1));
    assert!(matches!(core.phase(), Phase::BackingOff { .. }));
    assert!(declined(&core.take_actions()).is_empty());
    assert_eq!(core.releases(), 0);
}

#[test]
fn backoff_is_random_and_grows_with_timeouts_in_a_row() {
    let t0 = Instant::now();
    let delays = |seed: u64| {
        let mut cfg = config(3);
        cfg.seed = seed;
        let mut core = registered(cfg, t0);
        let mut now = t0;
        let mut out = Vec::new();
        for _ in 0..5 {
            now += Duration::from_secs(1);
            core.tick(now);
            let Phase::BackingOff { until } = core.phase() else {
                panic!("not backing off");
            };
            out.push(until - now);
            now = until;
            core.tick(now);
            core.take_actions();
        }
        out
    };
    let a = delays(1);
    assert_eq!(a, delays(1), "same seed, same delays");
    assert_ne!(a, delays(2), "different frameworks back off differently");
    for (i, delay) in a.iter().enumerate() {
        let base = Duration::from_secs(1) * (1 << i.min(MAX_BACKOFF_DOUBLINGS as usize)) as u32;
        assert!(
            *delay >= base / 2 && *delay < base * 3 / 2,
            "{i}: {delay:?}"
        );
    }
}

#[test]
fn a_failed_rank_kills_the_others_and_the_job_is_retried() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    let tasks = launch_three(&mut core, "o");
    let id = |t: &TaskInfo| t.task_id.to_string();
    for t in &tasks {
        core.status_update(t0, &status(&id(t), TaskState::Running));
    }
    assert!(core.take_actions().is_empty());

    let t1 = t0 + Duration::from_secs(1);
    core.status_update(t1, &status("job0-try1-rank1", TaskState::Failed));
    let mut kills = killed(&core.take_actions());
    kills.sort();
    assert_eq!(kills, vec!["job0-try1-rank0", "job0-try1-rank2"]);
    assert!(matches!(core.phase(), Phase::Draining { .. }));

    // Offers while draining are not held.
    core.offers(vec![slot("x", "a1")]);
    assert_eq!(declined(&core.take_actions()).len(), 1);
    core.status_update(t1, &status("job0-try1-rank0", TaskState::Killed));
    assert!(core.take_actions().is_empty(), "still waiting for rank 2");
    core.status_update(t1, &status("job0-try1-rank2", TaskState::Killed));
    assert_eq!(core.take_actions(), vec![GangAction::Revive]);
    assert_eq!(core.attempt(), 2);

    let retry = launch_three(&mut core, "r");
    assert!(retry
        .iter()
        .all(|t| t.task_id.as_str().starts_with("job0-try2-")));
    // A late update of the first attempt changes nothing.
    core.status_update(t1, &status("job0-try1-rank1", TaskState::Lost));
    assert!(core.take_actions().is_empty());

    let t2 = t0 + Duration::from_secs(3);
    for t in &retry {
        core.status_update(t2, &finished(t, true));
    }
    let actions = core.take_actions();
    let done = reports(&actions);
    assert_eq!(
        done,
        vec![JobReport {
            name: "mpi".into(),
            job_index: 0,
            ranks: 3,
            attempts: 2,
            job_time: Duration::from_secs(3),
            result_ok: true,
            releases: 0,
        }]
    );
    assert_eq!(
        done[0].to_string(),
        "job=mpi name=mpi job_index=0 ranks=3 attempts=2 job_s=3.000 result_ok=true releases=0"
    );
    assert!(core.is_done());
    assert!(core.all_ok());
}

#[test]
fn fail_rank_marks_only_the_first_attempt_of_each_job() {
    let t0 = Instant::now();
    let mut cfg = config(3);
    cfg.fail_rank = Some(2);
    cfg.jobs = 2;
    let mut core = registered(cfg, t0);
    let fails = |tasks: &[TaskInfo]| -> Vec<usize> {
        tasks
            .iter()
            .map(|t| RankTask::from_bytes(&t.data).unwrap())
            .filter(|d| d.fail)
            .map(|d| d.rank)
            .collect()
    };
    let first = launch_three(&mut core, "a");
    assert_eq!(fails(&first), vec![2]);
    core.status_update(t0, &status("job0-try1-rank2", TaskState::Failed));
    core.status_update(t0, &status("job0-try1-rank0", TaskState::Killed));
    core.status_update(t0, &status("job0-try1-rank1", TaskState::Killed));
    core.take_actions();
    let second = launch_three(&mut core, "b");
    assert!(fails(&second).is_empty());
    for t in &second {
        core.status_update(t0, &finished(t, true));
    }
    core.take_actions();
    // The next job fails its first attempt again.
    let next = launch_three(&mut core, "c");
    assert!(next[0].task_id.as_str().starts_with("job1-try1-"));
    assert_eq!(fails(&next), vec![2]);
}

#[test]
fn jobs_run_in_sequence_and_a_wrong_result_is_reported() {
    let t0 = Instant::now();
    let mut cfg = config(3);
    cfg.jobs = 2;
    let mut core = registered(cfg, t0);
    let first = launch_three(&mut core, "a");
    let seed0 = RankTask::from_bytes(&first[0].data).unwrap().seed;
    for t in &first {
        core.status_update(t0 + Duration::from_secs(1), &finished(t, true));
    }
    let actions = core.take_actions();
    assert_eq!(reports(&actions).len(), 1);
    assert_eq!(actions.last(), Some(&GangAction::Revive));
    assert!(!core.is_done());

    let second = launch_three(&mut core, "b");
    let seed1 = RankTask::from_bytes(&second[0].data).unwrap().seed;
    assert_ne!(seed0, seed1, "each job computes something new");
    let t2 = t0 + Duration::from_millis(2500);
    core.status_update(t2, &finished(&second[0], true));
    core.status_update(t2, &finished(&second[1], false));
    core.status_update(t2, &finished(&second[2], true));
    let done = reports(&core.take_actions());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].job_index, 1);
    assert_eq!(done[0].job_time, Duration::from_millis(1500));
    assert!(!done[0].result_ok);
    assert!(core.is_done());
    assert!(!core.all_ok());
}

#[test]
fn a_finished_rank_without_a_result_is_not_ok() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    let tasks = launch_three(&mut core, "a");
    core.status_update(t0, &finished(&tasks[0], true));
    core.status_update(t0, &finished(&tasks[1], true));
    core.status_update(t0, &status(tasks[2].task_id.as_str(), TaskState::Finished));
    let done = reports(&core.take_actions());
    assert!(!done[0].result_ok);
}

#[test]
fn the_job_fails_after_max_attempts() {
    let t0 = Instant::now();
    let mut cfg = config(3);
    cfg.max_attempts = 2;
    let mut core = registered(cfg, t0);
    for attempt in 1..=2 {
        launch_three(&mut core, &format!("t{attempt}"));
        for rank in 0..3 {
            core.status_update(
                t0,
                &status(&format!("job0-try{attempt}-rank{rank}"), TaskState::Lost),
            );
        }
    }
    let done = reports(&core.take_actions());
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].attempts, 2);
    assert!(!done[0].result_ok);
    assert!(core.is_done());
}

#[test]
fn kills_are_repeated_until_every_rank_ended() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    launch_three(&mut core, "a");
    core.status_update(t0, &status("job0-try1-rank0", TaskState::Error));
    assert_eq!(killed(&core.take_actions()).len(), 2);
    assert_eq!(core.poll_timeout(), Some(t0 + REKILL_INTERVAL));
    core.status_update(t0, &status("job0-try1-rank1", TaskState::Killed));
    core.tick(t0 + REKILL_INTERVAL);
    assert_eq!(killed(&core.take_actions()), vec!["job0-try1-rank2"]);
    // An unreachable rank counts as gone.
    core.status_update(t0, &status("job0-try1-rank2", TaskState::Unreachable));
    assert_eq!(core.take_actions(), vec![GangAction::Revive]);
}

#[test]
fn rescinded_offers_and_lost_agents_stop_being_held() {
    let t0 = Instant::now();
    let mut core = registered(config(3), t0);
    core.offers(vec![slot("o1", "a1"), slot("o2", "a2")]);
    core.offer_rescinded(&OfferId::new("o1"));
    core.agent_lost(&AgentId::new("a2"));
    assert_eq!(core.held_offers(), 0);
    core.offers(vec![slot("o3", "a3")]);
    core.disconnected();
    assert_eq!(core.held_offers(), 0);
    assert!(core.take_actions().is_empty());
}

#[test]
fn nothing_happens_before_registration_and_zero_jobs_is_done() {
    let t0 = Instant::now();
    let mut core = GangCore::new(config(2));
    assert_eq!(core.poll_timeout(), None);
    core.tick(t0 + Duration::from_secs(60));
    assert!(core.take_actions().is_empty());
    let mut cfg = config(2);
    cfg.jobs = 0;
    assert!(GangCore::new(cfg).is_done());
}
