//! Chronos's REST API over the [`CronCore`], under both `/scheduler/...` (Chronos 2) and
//! `/v1/scheduler/...` (Chronos 3).

use std::sync::Mutex;

use serde_json::Value;

use super::core::{CronCore, CronError};
use super::job::Job;
use crate::marathon::http::{Request, Response};
use crate::marathon::time::now_secs;

/// The scheduler's state shared by the driver's callbacks, the ticker and the API.
pub struct Shared {
    /// The decisions.
    pub core: CronCore,
}

pub use crate::long_running::lock;

fn no_content() -> Response {
    Response {
        status: 204,
        content_type: "text/plain",
        body: Vec::new(),
    }
}

fn error(err: &CronError) -> Response {
    let status = match err {
        CronError::Invalid(_) => 400,
        CronError::NoJob(_) => 404,
    };
    Response::text(status, &err.to_string())
}

fn done(result: Result<(), CronError>) -> Response {
    match result {
        Ok(()) => no_content(),
        Err(err) => error(&err),
    }
}

fn jobs_json<'a>(jobs: impl Iterator<Item = &'a Job>) -> Value {
    Value::Array(
        jobs.map(|j| serde_json::to_value(j).unwrap_or(Value::Null))
            .collect(),
    )
}

/// Answers one request.
pub fn handle(shared: &Mutex<Shared>, request: Request) -> Response {
    let wall = now_secs();
    let path = request.path.trim_end_matches('/');
    let path = path.strip_prefix("/v1").unwrap_or(path);
    let Some(path) = path.strip_prefix("/scheduler") else {
        return Response::text(404, "not found");
    };
    let mut state = lock(shared);
    let core = &mut state.core;
    let parse = |body: &[u8]| {
        serde_json::from_slice::<Job>(body)
            .map_err(|e| Response::text(400, &format!("invalid job: {e}")))
    };
    match (request.method.as_str(), path) {
        ("GET", "/jobs") => Response::json(200, &jobs_json(core.jobs())),
        ("GET", "/jobs/search") => {
            let name = request.param("name").unwrap_or("").to_ascii_lowercase();
            Response::json(
                200,
                &jobs_json(
                    core.jobs()
                        .filter(|j| j.name.to_ascii_lowercase().contains(&name)),
                ),
            )
        }
        ("POST", "/iso8601") => match parse(&request.body) {
            Ok(job) => done(core.put_job(wall, job, false)),
            Err(response) => response,
        },
        ("POST", "/dependency") => match parse(&request.body) {
            Ok(job) => done(core.put_job(wall, job, true)),
            Err(response) => response,
        },
        ("PUT", path) if path.starts_with("/job/") => done(core.run_now(wall, &path[5..])),
        ("DELETE", path) if path.starts_with("/job/") => done(core.delete_job(&path[5..])),
        ("DELETE", path) if path.starts_with("/task/kill/") => {
            let name = &path["/task/kill/".len()..];
            if core.jobs().any(|j| j.name == name) {
                done(core.kill_tasks(name))
            } else {
                error(&CronError::NoJob(name.to_string()))
            }
        }
        _ => Response::text(404, "not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chronos::core::Snapshot;
    use std::sync::Arc;

    fn request(method: &str, path: &str, body: &str) -> Request {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Request {
            method: method.into(),
            path: path.into(),
            query: query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn chronos_routes_and_codes() {
        let shared = Arc::new(Mutex::new(Shared {
            core: CronCore::new(Snapshot::default()),
        }));
        let call = |m: &str, p: &str, b: &str| handle(&shared, request(m, p, b));
        let job = r#"{"name":"nightly","command":"echo hi","schedule":"R/2026-12-04T00:00:00Z/P1D","owner":"ops@example.com"}"#;
        assert_eq!(call("POST", "/scheduler/iso8601", job).status, 204);
        assert_eq!(
            call(
                "POST",
                "/v1/scheduler/dependency",
                r#"{"name":"after","command":"true","parents":["nightly"]}"#
            )
            .status,
            204
        );
        assert_eq!(
            call(
                "POST",
                "/scheduler/iso8601",
                r#"{"name":"bad","command":"x","schedule":"daily"}"#
            )
            .status,
            400
        );
        assert_eq!(call("POST", "/scheduler/iso8601", "{").status, 400);
        let jobs: Value = serde_json::from_slice(&call("GET", "/scheduler/jobs", "").body).unwrap();
        assert_eq!(jobs.as_array().unwrap().len(), 2);
        assert_eq!(jobs[1]["successCount"], 0);
        assert_eq!(jobs[1]["lastSuccess"], "");
        let found: Value =
            serde_json::from_slice(&call("GET", "/v1/scheduler/jobs/search?name=NIGHT", "").body)
                .unwrap();
        assert_eq!(found[0]["name"], "nightly");
        assert_eq!(call("PUT", "/scheduler/job/nightly", "").status, 204);
        assert_eq!(call("PUT", "/scheduler/job/none", "").status, 404);
        assert_eq!(
            call("DELETE", "/scheduler/task/kill/nightly", "").status,
            204
        );
        assert_eq!(call("DELETE", "/scheduler/job/nightly", "").status, 204);
        assert_eq!(call("DELETE", "/scheduler/job/nightly", "").status, 404);
    }
}
