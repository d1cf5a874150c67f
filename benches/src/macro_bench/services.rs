//! Experiment `services` (issue 17): the sharing experiment with a long-running service beside
//! the batch frameworks. Most of a real Mesos cluster ran services; the claim to check is that
//! batch load coming and going neither takes the service down nor is slowed by it.
//!
//! Each round runs the batch mix (MPI-like gangs and shell batches, from the sharing plan) twice
//! on a fresh shared cluster: alone, then beside `service-framework` (the Marathon-like example)
//! keeping [`ServicesPlan::apps`] apps of one instance each, a small HTTP server checked over
//! HTTP by its executor. From the moment every instance is healthy until the batch mix ends, the
//! bench itself GETs every instance every [`ServicesPlan::probe_every`]: availability is the
//! share of those probes answered with 200 within [`PROBE_TIMEOUT`]. The batch figure is the sum
//! of the frameworks' mean job times, with the service over alone (both measured in this run).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::child::{run_group, Toolbox};
use super::cluster::ClusterShape;
use super::report::mean;
use super::sampler::http_get;
use super::sharing::{figures, spec_for, Expected, FrameworkFigures, Mode, SharingPlan, Workload};
use super::{MacroBenchError, Scale, ScratchDir};

/// How long one probe of an instance may take before it counts as unanswered.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The availability the issue asks for, in percent.
pub const TARGET_AVAILABILITY_PCT: f64 = 99.9;
/// The batch slowdown the issue allows (with the service over alone).
pub const TARGET_BATCH_RATIO: f64 = 1.10;

/// The experiment's parameters.
#[derive(Debug, Clone)]
pub struct ServicesPlan {
    /// The cluster (one per run; every agent offers ports 31000-32000).
    pub cluster: ClusterShape,
    /// The batch frameworks.
    pub batch: Vec<Workload>,
    /// Service apps, one instance each, on ports of their own.
    pub apps: usize,
    /// How often the bench probes every instance.
    pub probe_every: Duration,
    /// Alone / with-service pairs.
    pub rounds: usize,
    /// Deadline for one batch run, and for the service to become healthy.
    pub timeout: Duration,
}

impl ServicesPlan {
    /// The sharing plan's MPI-like and shell workloads on its cluster, 2 apps, probes every
    /// 50 ms; one round when quick, three otherwise.
    pub fn for_scale(scale: Scale) -> ServicesPlan {
        let sharing = SharingPlan::for_scale(scale);
        ServicesPlan {
            cluster: sharing.cluster,
            batch: sharing
                .mix
                .into_iter()
                .map(|(workload, _)| workload)
                .filter(|w| matches!(w, Workload::Mpi { .. } | Workload::Shell { .. }))
                .collect(),
            apps: 2,
            probe_every: Duration::from_millis(50),
            rounds: match scale {
                Scale::Quick => 1,
                Scale::Full => 3,
            },
            timeout: sharing.timeout,
        }
    }
}

/// What one experiment found.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicesResult {
    /// Per round, the batch frameworks alone.
    pub alone: Vec<Vec<FrameworkFigures>>,
    /// Per round, the batch frameworks beside the service.
    pub with_service: Vec<Vec<FrameworkFigures>>,
    /// Probes sent to the service's instances.
    pub probes: u64,
    /// Probes answered with 200 in time.
    pub answered: u64,
}

fn batch_s(frameworks: &[FrameworkFigures]) -> f64 {
    frameworks.iter().map(|f| f.mean_job_s).sum()
}

impl ServicesResult {
    /// Percentage of probes answered.
    pub fn availability_pct(&self) -> f64 {
        if self.probes == 0 {
            return 0.0;
        }
        100.0 * self.answered as f64 / self.probes as f64
    }

    /// Batch time with the service over alone (means over the rounds).
    pub fn batch_ratio(&self) -> f64 {
        let alone = mean(self.alone.iter().map(|r| batch_s(r)));
        let with = mean(self.with_service.iter().map(|r| batch_s(r)));
        if alone > 0.0 {
            with / alone
        } else {
            0.0
        }
    }

    /// The summary line.
    pub fn summary_line(&self) -> String {
        format!(
            "experiment=services-summary rounds={} probes={} answered={} availability_pct={:.3} \
             batch_alone_s={:.3} batch_with_service_s={:.3} batch_ratio={:.3} \
             target_availability_pct={TARGET_AVAILABILITY_PCT} target_batch_ratio={TARGET_BATCH_RATIO}",
            self.alone.len(),
            self.probes,
            self.answered,
            self.availability_pct(),
            mean(self.alone.iter().map(|r| batch_s(r))),
            mean(self.with_service.iter().map(|r| batch_s(r))),
            self.batch_ratio(),
        )
    }
}

fn mode_lines(mode: &str, round: usize, frameworks: &[FrameworkFigures]) -> Vec<String> {
    frameworks
        .iter()
        .map(|f| {
            format!(
                "experiment=services mode={mode} round={round} framework={} jobs={} mean_job_s={:.3}",
                f.name, f.jobs, f.mean_job_s
            )
        })
        .collect()
}

/// Runs the batch mix on `cluster`'s master; its figures.
fn run_batch(
    tools: &Toolbox,
    plan: &ServicesPlan,
    master: &str,
    scratch: &Path,
) -> Result<Vec<FrameworkFigures>, MacroBenchError> {
    let specs = plan
        .batch
        .iter()
        .map(|w| spec_for(tools, w, master, scratch, Mode::Shared))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = run_group(&specs, Instant::now(), plan.timeout)?;
    plan.batch
        .iter()
        .zip(&outputs)
        .map(|(w, output)| figures(w, output, &Expected::default()))
        .collect()
}

/// A port nothing listens on now, in the agents' range.
fn free_port(taken: &[u16]) -> Result<u16, MacroBenchError> {
    (31000..32000)
        .filter(|p| !taken.contains(p))
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .ok_or_else(|| MacroBenchError::Cluster("no free port in 31000-32000".into()))
}

/// `service-framework` as a child process, killed on drop.
struct Service {
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn failed(name: &str, message: String) -> MacroBenchError {
    MacroBenchError::FrameworkFailed {
        name: name.to_string(),
        status: "running".into(),
        stderr_tail: message,
    }
}

/// One HTTP request with a JSON body; the status code.
fn post_json(addr: SocketAddr, path: &str, body: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let head = String::from_utf8_lossy(&answer);
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))
}

/// Polls `ready` every 100 ms for at most `patience`.
fn wait_until(
    what: &str,
    patience: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<(), MacroBenchError> {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(failed(
        "service-framework",
        format!("{what} not within {} s", patience.as_secs()),
    ))
}

impl Service {
    /// Starts `service-framework` against `master` and deploys `ports.len()` apps, one instance
    /// each on its port, then waits until every one is healthy and answers.
    fn deploy(
        tools: &Toolbox,
        master: &str,
        scratch: &Path,
        ports: &[u16],
        patience: Duration,
    ) -> Result<Service, MacroBenchError> {
        let api_port = free_port(ports)?;
        let api = SocketAddr::from(([127, 0, 0, 1], api_port));
        let log =
            std::fs::File::create(scratch.join("service-framework.log")).map_err(|source| {
                MacroBenchError::Io {
                    what: "cannot create",
                    path: scratch.join("service-framework.log"),
                    source,
                }
            })?;
        let child = Command::new(tools.binary("service-framework")?)
            .arg(format!("--master={master}"))
            .arg("--http_address=127.0.0.1")
            .arg(format!("--http_port={api_port}"))
            .arg(format!(
                "--state_file={}",
                scratch.join("service-state.json").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|source| MacroBenchError::Spawn {
                name: "service-framework".into(),
                source,
            })?;
        let service = Service { child };
        wait_until("the service API", patience, || {
            http_get(api, "/ping", Duration::from_secs(1)).is_ok()
        })?;
        for (i, port) in ports.iter().enumerate() {
            let app = serde_json::json!({
                "id": format!("/bench/web-{i}"),
                "cmd": "exec python3 -m http.server $PORT0 --bind 127.0.0.1",
                "instances": 1,
                "cpus": 0.1,
                "mem": 64,
                "portDefinitions": [{"port": port}],
                "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0,
                                  "gracePeriodSeconds": 30, "intervalSeconds": 1,
                                  "timeoutSeconds": 2, "maxConsecutiveFailures": 3,
                                  "delaySeconds": 0}],
            });
            match post_json(api, "/v2/apps", &app.to_string()) {
                Ok(201) => {}
                other => {
                    return Err(failed(
                        "service-framework",
                        format!("POST /v2/apps answered {other:?}"),
                    ))
                }
            }
        }
        wait_until("every instance healthy", patience, || {
            (0..ports.len()).all(|i| {
                let path = format!("/v2/apps/bench/web-{i}/tasks");
                http_get(api, &path, Duration::from_secs(1))
                    .ok()
                    .and_then(|body| serde_json::from_slice::<serde_json::Value>(&body).ok())
                    .is_some_and(|v| v["tasks"][0]["healthCheckResults"][0]["alive"] == true)
            }) && ports.iter().all(|p| probe(*p))
        })?;
        Ok(service)
    }
}

fn probe(port: u16) -> bool {
    http_get(SocketAddr::from(([127, 0, 0, 1], port)), "/", PROBE_TIMEOUT).is_ok()
}

/// Probes every port every `every` until dropped.
struct Prober {
    stop: Arc<AtomicBool>,
    probes: Arc<AtomicU64>,
    answered: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Prober {
    fn start(ports: Vec<u16>, every: Duration) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let (probes, answered) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (s, p, a) = (stop.clone(), probes.clone(), answered.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                for port in &ports {
                    p.fetch_add(1, Ordering::SeqCst);
                    if probe(*port) {
                        a.fetch_add(1, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(every);
            }
        });
        Prober {
            stop,
            probes,
            answered,
            thread: Some(thread),
        }
    }

    /// Stops probing; (probes, answered).
    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        (
            self.probes.load(Ordering::SeqCst),
            self.answered.load(Ordering::SeqCst),
        )
    }
}

/// Runs the experiment, printing each run's lines via `emit` as soon as they are known.
///
/// # Errors
/// A cluster that does not start, a framework that fails, a service that does not become
/// healthy.
pub fn run(
    tools: &Toolbox,
    plan: &ServicesPlan,
    mut emit: impl FnMut(&str),
) -> Result<ServicesResult, MacroBenchError> {
    tools.binary("service-framework")?;
    tools.binary("mesos-executor")?;
    let mut result = ServicesResult {
        alone: Vec::new(),
        with_service: Vec::new(),
        probes: 0,
        answered: 0,
    };
    for round in 0..plan.rounds {
        let scratch = ScratchDir::new("services")?;
        let cluster = plan.cluster.start(tools)?;
        let alone = run_batch(tools, plan, &cluster.master_address(), scratch.path())?;
        drop(cluster);
        for line in mode_lines("alone", round, &alone) {
            emit(&line);
        }
        result.alone.push(alone);

        let cluster = plan.cluster.start(tools)?;
        let master = cluster.master_address();
        let mut ports = Vec::new();
        for _ in 0..plan.apps {
            ports.push(free_port(&ports)?);
        }
        let service = Service::deploy(tools, &master, scratch.path(), &ports, plan.timeout)?;
        let prober = Prober::start(ports, plan.probe_every);
        let with = run_batch(tools, plan, &master, scratch.path());
        let (probes, answered) = prober.finish();
        drop(service);
        drop(cluster);
        let with = with?;
        for line in mode_lines("with_service", round, &with) {
            emit(&line);
        }
        emit(&format!(
            "experiment=services-availability round={round} probes={probes} answered={answered}"
        ));
        result.with_service.push(with);
        result.probes += probes;
        result.answered += answered;
    }
    emit(&result.summary_line());
    Ok(result)
}
