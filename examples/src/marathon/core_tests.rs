//! The service scheduler's core, driven synchronously with exact expectations.

use super::*;
use mesos::{Attributes, OfferId};

struct Harness {
    core: ServiceCore,
    now: Instant,
    wall: f64,
    offers: u32,
}

impl Harness {
    fn new() -> Harness {
        let mut core = ServiceCore::new(7);
        let now = Instant::now();
        core.registered(now, FrameworkId::new("fw"));
        core.drain();
        Harness {
            core,
            now,
            wall: 1_800_000_000.0,
            offers: 0,
        }
    }

    fn advance(&mut self, secs: f64) {
        self.now += Duration::from_secs_f64(secs);
        self.wall += secs;
        self.core.tick(self.now);
    }

    fn put(&mut self, json: &str) -> Change {
        let def: AppDefinition = serde_json::from_str(json).unwrap();
        self.wall += 1.0;
        self.core
            .put_app(self.now, self.wall, def, false)
            .unwrap()
            .1
    }

    fn offer(&mut self, host: &str) -> Vec<TaskInfo> {
        self.offers += 1;
        let offer = Offer {
            id: OfferId::new(format!("o{}", self.offers)),
            framework_id: FrameworkId::new("fw"),
            agent_id: AgentId::new(host),
            hostname: host.into(),
            resources: "cpus:8;mem:8192;ports:[31000-31100]".parse().unwrap(),
            attributes: Attributes::new(),
            executor_ids: Vec::new(),
        };
        self.core.offers(self.now, self.wall, vec![offer]);
        self.core
            .drain()
            .into_iter()
            .flat_map(|o| match o {
                Output::Launch { tasks, .. } => tasks,
                _ => Vec::new(),
            })
            .collect()
    }

    fn update(&mut self, task: &TaskId, state: TaskState, healthy: Option<bool>) {
        let mut status = TaskStatus::new(task.clone(), state);
        status.healthy = healthy;
        self.core.status_update(self.now, self.wall, &status);
    }

    fn kills(&mut self) -> Vec<TaskId> {
        self.core
            .drain()
            .into_iter()
            .filter_map(|o| match o {
                Output::Kill(id) => Some(id),
                _ => None,
            })
            .collect()
    }

    fn healthy_count(&self) -> usize {
        self.core
            .tasks(Some("/web"))
            .iter()
            .filter(|t| t.state == TaskState::Running && t.healthy == Some(true))
            .count()
    }
}

const WEB: &str = r#"{"id":"/web","cmd":"serve","instances":3,"cpus":0.1,"mem":32,
    "portDefinitions":[{"port":0}],"backoffSeconds":2,"backoffFactor":2,
    "healthChecks":[{"protocol":"HTTP","portIndex":0,"path":"/health"}]}"#;

#[test]
fn launches_instances_with_ports_health_checks_and_ids() {
    let mut h = Harness::new();
    h.put(WEB);
    let tasks = h.offer("a");
    assert_eq!(tasks.len(), 3);
    let task = &tasks[0];
    assert!(task.task_id.as_str().starts_with("web."));
    assert_eq!(app_of_task(&task.task_id).as_deref(), Some("/web"));
    let port = task.resources.ports().unwrap().values().next().unwrap();
    let check = task.health_check.as_ref().unwrap();
    assert_eq!(check.http.as_ref().unwrap().port as u64, port);
    let env = &task.command.as_ref().unwrap().environment;
    assert_eq!(env.get("MARATHON_APP_ID"), Some("/web"));
    // Nothing more is needed: the next offer is declined.
    assert!(h.offer("a").is_empty());
}

#[test]
fn failed_tasks_are_replaced_after_a_growing_backoff() {
    let mut h = Harness::new();
    h.put(WEB);
    let tasks = h.offer("a");
    h.update(&tasks[0].task_id, TaskState::Failed, None);
    assert!(h.offer("a").is_empty(), "backing off 2 s");
    h.advance(2.1);
    let replacement = h.offer("a");
    assert_eq!(replacement.len(), 1);
    h.update(&replacement[0].task_id, TaskState::Failed, None);
    h.advance(2.1);
    assert!(h.offer("a").is_empty(), "the delay doubled to 4 s");
    h.advance(2.0);
    assert_eq!(h.offer("a").len(), 1);
}

#[test]
fn a_rolling_deploy_keeps_every_instance_healthy_until_replaced() {
    let mut h = Harness::new();
    h.put(WEB);
    let old = h.offer("a");
    for t in &old {
        h.update(&t.task_id, TaskState::Running, Some(true));
    }
    assert!(h.core.deployments().is_empty(), "converged");
    let change = h.put(&WEB.replace("serve", "serve --v2"));
    assert_eq!(h.core.deployments()[0].id, change.deployment_id);
    // maximumOverCapacity 1: all three new ones at once; none of the old is killed yet.
    let new = h.offer("b");
    assert_eq!(new.len(), 3);
    assert!(h.kills().is_empty());
    let mut killed = Vec::new();
    for (i, t) in new.iter().enumerate() {
        h.update(&t.task_id, TaskState::Running, None);
        assert!(h.kills().is_empty(), "running but not yet healthy");
        h.update(&t.task_id, TaskState::Running, Some(true));
        let kills = h.kills();
        assert_eq!(kills.len(), 1, "one old task per healthy new one");
        killed.extend(kills.clone());
        for k in kills {
            h.update(&k, TaskState::Killed, None);
        }
        assert!(h.healthy_count() >= 3, "step {i}");
    }
    assert_eq!(killed.len(), 3);
    assert!(killed.iter().all(|k| old.iter().any(|t| t.task_id == *k)));
    assert!(h.core.deployments().is_empty());
    assert!(h.offer("c").is_empty(), "killed on purpose: not replaced");
}

#[test]
fn half_capacity_deploys_kill_first_and_scale_changes_no_version() {
    let mut h = Harness::new();
    let app = WEB.replace(
        r#""backoffSeconds""#,
        r#""upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0},"backoffSeconds""#,
    );
    h.put(&app.replace("\"instances\":3", "\"instances\":4"));
    for t in h.offer("a") {
        h.update(&t.task_id, TaskState::Running, Some(true));
    }
    h.put(
        &app.replace("\"instances\":3", "\"instances\":4")
            .replace("serve", "v2"),
    );
    let kills = h.kills();
    assert_eq!(kills.len(), 2, "half may go");
    for k in &kills {
        h.update(k, TaskState::Killed, None);
    }
    assert_eq!(h.offer("b").len(), 2, "never above 4 in total");
    // Scale: same version, one more task.
    let version = h.core.app("/web").unwrap().version.clone();
    h.put(
        &app.replace("\"instances\":3", "\"instances\":5")
            .replace("serve", "v2"),
    );
    assert_eq!(h.core.app("/web").unwrap().version, version);
}

#[test]
fn a_restarted_scheduler_adopts_its_tasks_instead_of_duplicating_them() {
    let mut h = Harness::new();
    h.put(WEB);
    let tasks = h.offer("a");
    for t in &tasks {
        h.update(&t.task_id, TaskState::Running, Some(true));
    }
    let snapshot = h.core.snapshot();
    let mut restored = ServiceCore::restore(8, snapshot);
    let now = h.now;
    restored.registered(now, FrameworkId::new("fw"));
    let outputs = restored.drain();
    assert!(matches!(&outputs[0], Output::Reconcile(s) if s.len() == 3));
    let offer = |core: &mut ServiceCore| {
        let offer = Offer {
            id: OfferId::new("x"),
            framework_id: FrameworkId::new("fw"),
            agent_id: AgentId::new("b"),
            hostname: "b".into(),
            resources: "cpus:8;mem:8192;ports:[31000-31100]".parse().unwrap(),
            attributes: Attributes::new(),
            executor_ids: Vec::new(),
        };
        core.offers(now, 0.0, vec![offer]);
        core.drain()
            .into_iter()
            .any(|o| matches!(o, Output::Launch { .. }))
    };
    assert!(!offer(&mut restored), "no launches while reconciling");
    for (i, t) in tasks.iter().enumerate() {
        let mut status = TaskStatus::new(
            t.task_id.clone(),
            if i < 2 {
                TaskState::Running
            } else {
                TaskState::Lost
            },
        );
        status.healthy = Some(true);
        restored.status_update(now, 0.0, &status);
    }
    assert!(!restored.is_reconciling());
    assert_eq!(restored.tasks(Some("/web")).len(), 2);
    // The lost one is replaced (after its backoff), the two running ones are not.
    restored.tick(now + Duration::from_secs(3));
    let launched = {
        let offer = Offer {
            id: OfferId::new("y"),
            framework_id: FrameworkId::new("fw"),
            agent_id: AgentId::new("b"),
            hostname: "b".into(),
            resources: "cpus:8;mem:8192;ports:[31000-31100]".parse().unwrap(),
            attributes: Attributes::new(),
            executor_ids: Vec::new(),
        };
        restored.offers(now + Duration::from_secs(3), 0.0, vec![offer]);
        restored
            .drain()
            .into_iter()
            .flat_map(|o| match o {
                Output::Launch { tasks, .. } => tasks,
                _ => Vec::new(),
            })
            .count()
    };
    assert_eq!(launched, 1);
}

#[test]
fn unique_hostnames_and_deletes() {
    let mut h = Harness::new();
    h.put(&WEB.replace(
        r#""backoffSeconds""#,
        r#""constraints":[["hostname","UNIQUE"]],"backoffSeconds""#,
    ));
    assert_eq!(h.offer("a").len(), 1);
    assert_eq!(h.offer("a").len(), 0);
    assert_eq!(h.offer("b").len(), 1);
    h.core.delete_app(h.wall, "web").unwrap();
    assert_eq!(h.kills().len(), 2);
    assert!(matches!(
        h.core.delete_app(h.wall, "web"),
        Err(ApiError::NoApp(_))
    ));
}
