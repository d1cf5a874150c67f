use super::*;

const SEC: Duration = Duration::from_secs(1);

fn settings(wait: Duration) -> JobSettings {
    JobSettings {
        reducers: 2,
        task_resources: "cpus:1;mem:128".parse().expect("resources"),
        executor_resources: "cpus:0.1;mem:32".parse().expect("resources"),
        locality_wait: wait,
        remote_read_mbps: 10.0,
        functions: JobFunctions::default(),
    }
}

fn blocks(nodes: &[&str]) -> Vec<Block> {
    nodes
        .iter()
        .enumerate()
        .map(|(k, node)| Block {
            index: k,
            node: node.to_string(),
            path: format!("/in/{node}/block-{k}.txt").into(),
        })
        .collect()
}

fn offer(core: &mut JobCore, now: Instant, agent: &str, node: &str, res: &str) -> OfferDecision {
    let agent_id = AgentId::new(agent);
    let resources: Resources = res.parse().expect("resources");
    core.on_offer(
        now,
        &OfferView {
            agent_id: &agent_id,
            node,
            resources: &resources,
        },
    )
}

fn output(server: &str, files: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&TaskOutput {
        server: server.into(),
        files: files.iter().map(|f| f.to_string()).collect(),
        words: 1,
    })
    .expect("json")
}

fn map_of(launch: &Launch) -> (usize, bool) {
    match &launch.task {
        WordcountTask::Map(m) => (m.map, m.local),
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn an_offer_takes_as_many_local_maps_as_fit_executor_counted_once() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a", "a", "a", "b"]), settings(5 * SEC), t0);
    // 2.1 cpus: executor (0.1) + two tasks; the third does not fit.
    let d = offer(&mut core, t0, "A", "a", "cpus:2.1;mem:1024");
    let maps: Vec<(usize, bool)> = d.launches.iter().map(map_of).collect();
    assert_eq!(maps, [(0, true), (1, true)]);
    assert!(d.launches[0].starts_executor);
    assert!(!d.launches[1].starts_executor);
    assert_eq!(d.launches[0].task_id, "job0-map0-try1");
    // Later offers on the same agent do not pay for the executor again.
    let d = offer(&mut core, t0, "A", "a", "cpus:1;mem:128");
    assert_eq!(
        d.launches.iter().map(map_of).collect::<Vec<_>>(),
        [(2, true)]
    );
    assert!(core.wants_offers());
}

#[test]
fn a_remote_offer_is_declined_until_the_locality_wait_expires() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a", "a"]), settings(5 * SEC), t0);
    let d = offer(&mut core, t0 + 2 * SEC, "C", "c", "cpus:4;mem:1024");
    assert!(d.launches.is_empty());
    assert_eq!(d.refuse, 3 * SEC);
    let d = offer(&mut core, t0 + 5 * SEC, "C", "c", "cpus:4;mem:1024");
    assert_eq!(
        d.launches.iter().map(map_of).collect::<Vec<_>>(),
        [(0, false), (1, false)]
    );
    // Nothing left to run: idle filter.
    assert_eq!(d.refuse, IDLE_REFUSE);
    assert!(!core.wants_offers());
}

#[test]
fn the_refuse_filter_never_drops_below_the_minimum() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a"]), settings(5 * SEC), t0);
    let d = offer(
        &mut core,
        t0 + 4990 * Duration::from_millis(1),
        "C",
        "c",
        "cpus:4;mem:1024",
    );
    assert!(d.launches.is_empty());
    assert_eq!(d.refuse, MIN_REFUSE);
}

#[test]
fn reduces_start_after_every_map_and_fetch_every_maps_partition() {
    let t0 = Instant::now();
    let mut core = JobCore::new(3, blocks(&["a", "b"]), settings(Duration::ZERO), t0);
    let d = offer(&mut core, t0, "A", "a", "cpus:8;mem:4096");
    assert_eq!(d.launches.len(), 2);
    assert_eq!(core.stats().local_maps, 0);
    let ids: Vec<String> = d.launches.iter().map(|l| l.task_id.clone()).collect();
    assert_eq!(
        core.on_status(
            &ids[0],
            TaskState::Finished,
            &output("h:1", &["m0p0", "m0p1"])
        ),
        JobProgress::Running
    );
    // One map still running: nothing to launch (reduces wait), so offers are not wanted.
    assert!(!core.wants_offers());
    assert!(offer(&mut core, t0, "B", "b", "cpus:8;mem:4096")
        .launches
        .is_empty());
    core.on_status(
        &ids[1],
        TaskState::Finished,
        &output("h:2", &["m1p0", "m1p1"]),
    );
    assert!(core.wants_offers());
    let stats = core.stats();
    assert_eq!((stats.maps, stats.reduces, stats.local_maps), (2, 2, 1));
    let d = offer(&mut core, t0, "B", "b", "cpus:8;mem:4096");
    assert_eq!(d.launches.len(), 2);
    assert!(
        d.launches[0].starts_executor,
        "a new agent starts an executor"
    );
    let WordcountTask::Reduce(reduce) = &d.launches[1].task else {
        panic!("not a reduce");
    };
    assert_eq!(reduce.partition, 1);
    let files: Vec<(&str, &str)> = reduce
        .sources
        .iter()
        .map(|s| (s.server.as_str(), s.file.as_str()))
        .collect();
    assert_eq!(files, [("h:1", "m0p1"), ("h:2", "m1p1")]);
    assert_eq!(d.launches[1].task_id, "job3-reduce1-try1");
    assert_eq!(
        core.on_status(
            &d.launches[1].task_id,
            TaskState::Finished,
            &output("h:2", &["r1"])
        ),
        JobProgress::Running
    );
    let done = core.on_status(
        &d.launches[0].task_id,
        TaskState::Finished,
        &output("h:2", &["r0"]),
    );
    let JobProgress::Done(outputs) = done else {
        panic!("not done: {done:?}");
    };
    let files: Vec<&str> = outputs.iter().map(|o| o.files[0].as_str()).collect();
    assert_eq!(files, ["r0", "r1"]);
}

#[test]
fn a_failed_task_is_retried_then_fails_the_job() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a"]), settings(5 * SEC), t0);
    for attempt in 1..=MAX_ATTEMPTS {
        let d = offer(&mut core, t0, "A", "a", "cpus:4;mem:1024");
        assert_eq!(d.launches.len(), 1);
        let id = &d.launches[0].task_id;
        assert_eq!(id, &format!("job0-map0-try{attempt}"));
        assert_eq!(
            core.on_status(id, TaskState::Running, &[]),
            JobProgress::Running
        );
        let progress = core.on_status(id, TaskState::Failed, &[]);
        if attempt < MAX_ATTEMPTS {
            assert_eq!(progress, JobProgress::Running);
        } else {
            assert!(matches!(progress, JobProgress::Failed(ref m) if m.contains("4 times")));
        }
    }
}

#[test]
fn finished_without_readable_output_counts_as_a_failure() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a"]), settings(5 * SEC), t0);
    let d = offer(&mut core, t0, "A", "a", "cpus:4;mem:1024");
    core.on_status(&d.launches[0].task_id, TaskState::Finished, b"garbage");
    assert!(core.wants_offers());
    let d = offer(&mut core, t0, "A", "a", "cpus:4;mem:1024");
    assert_eq!(d.launches[0].task_id, "job0-map0-try2");
}

#[test]
fn updates_for_unknown_tasks_change_nothing() {
    let t0 = Instant::now();
    let mut core = JobCore::new(1, blocks(&["a"]), settings(5 * SEC), t0);
    assert_eq!(
        core.on_status(
            "job0-reduce0-try1",
            TaskState::Finished,
            &output("h:1", &["x"])
        ),
        JobProgress::Running
    );
    assert!(core.wants_offers());
}

#[test]
fn a_lost_executor_reruns_the_maps_whose_output_it_held() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a", "b"]), settings(Duration::ZERO), t0);
    let a = offer(&mut core, t0, "A", "a", "cpus:1.1;mem:1024");
    let b = offer(&mut core, t0, "B", "b", "cpus:1.1;mem:1024");
    core.on_status(
        &a.launches[0].task_id,
        TaskState::Finished,
        &output("h:1", &["p0", "p1"]),
    );
    core.on_status(
        &b.launches[0].task_id,
        TaskState::Finished,
        &output("h:2", &["p0", "p1"]),
    );
    assert!(core.wants_offers());
    core.executor_lost(&AgentId::new("A"));
    assert_eq!(core.executors().collect::<Vec<_>>(), [&AgentId::new("B")]);
    // Map 0 runs again (locally, with a new executor) before any reduce.
    let d = offer(&mut core, t0, "A", "a", "cpus:8;mem:4096");
    assert_eq!(d.launches.len(), 1);
    assert_eq!(d.launches[0].task_id, "job0-map0-try2");
    assert!(d.launches[0].starts_executor);
}

#[test]
fn a_launch_lost_before_its_executor_started_pays_for_the_executor_again() {
    let t0 = Instant::now();
    let mut core = JobCore::new(0, blocks(&["a", "a", "a"]), settings(5 * SEC), t0);
    let d = offer(&mut core, t0, "A", "a", "cpus:1.1;mem:1024");
    assert!(d.launches[0].starts_executor);
    core.on_status(&d.launches[0].task_id, TaskState::Lost, &[]);
    let d = offer(&mut core, t0, "A", "a", "cpus:1.1;mem:1024");
    assert!(d.launches[0].starts_executor, "the executor never ran");
    // Once the executor reported, a later failure keeps it counted.
    core.on_status(&d.launches[0].task_id, TaskState::Running, &[]);
    core.on_status(&d.launches[0].task_id, TaskState::Failed, &[]);
    let d = offer(&mut core, t0, "A", "a", "cpus:1;mem:1024");
    assert_eq!(d.launches.len(), 1);
    assert!(!d.launches[0].starts_executor);
}
