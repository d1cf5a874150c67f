//! HTTP routes installed by processes: `/{process id}/{endpoint}` is answered by the handler that
//! process installed for `/{endpoint}`, run on the process (serially with its messages).

use crate::context::Context;
use crate::http::{Request, Responder, Response};
use crate::process::Process;

/// An HTTP request waiting in a process's mailbox.
pub(crate) struct HttpLetter {
    /// The path after the process id, e.g. `/state`.
    pub(crate) endpoint: String,
    pub(crate) request: Request,
    pub(crate) responder: Responder,
}

type RouteFn<P> = Box<dyn Fn(&mut P, &mut Context<'_, P>, &Request) -> Response + Send + Sync>;

/// A process type's HTTP routes.
pub(crate) struct Routes<P: Process> {
    routes: Vec<(String, RouteFn<P>)>,
}

/// A JSON error body: `{"error": "..."}`.
pub(crate) fn json_error(status: u16, message: &str) -> Response {
    Response::json(status, &serde_json::json!({ "error": message }))
}

/// Splits `/{id}/{endpoint...}` into the id and `/{endpoint...}` (`/` when there is none).
pub(crate) fn split_path(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix('/')?;
    let (id, endpoint) = match rest.split_once('/') {
        Some((id, endpoint)) => (id, format!("/{endpoint}")),
        None => (rest, "/".to_string()),
    };
    (!id.is_empty()).then_some((id, endpoint))
}

/// Route paths are stored with exactly one leading `/`.
pub(crate) fn normalize(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

impl<P: Process> Routes<P> {
    pub(crate) fn new() -> Routes<P> {
        Routes { routes: Vec::new() }
    }

    /// Installs (or replaces) the handler for `path`.
    pub(crate) fn insert(&mut self, path: &str, handler: RouteFn<P>) {
        let path = normalize(path);
        match self.routes.iter_mut().find(|(p, _)| *p == path) {
            Some(route) => route.1 = handler,
            None => self.routes.push((path, handler)),
        }
    }

    /// Whether `path` has a handler.
    pub(crate) fn contains(&self, path: &str) -> bool {
        let path = normalize(path);
        self.routes.iter().any(|(p, _)| *p == path)
    }

    /// Answers one request on the process. A panicking handler drops the responder: the client gets
    /// 500 and the process terminates.
    pub(crate) fn serve(&self, process: &mut P, ctx: &mut Context<'_, P>, letter: HttpLetter) {
        let HttpLetter {
            endpoint,
            request,
            responder,
        } = letter;
        let response = match self.routes.iter().find(|(path, _)| *path == endpoint) {
            Some((_, handler)) => handler(process, ctx, &request),
            None => json_error(
                404,
                &format!("process '{}' has no endpoint '{endpoint}'", ctx.upid().id()),
            ),
        };
        responder.respond(response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_process_and_endpoint() {
        assert_eq!(
            split_path("/master/state"),
            Some(("master", "/state".into()))
        );
        assert_eq!(split_path("/master/a/b"), Some(("master", "/a/b".into())));
        assert_eq!(split_path("/master"), Some(("master", "/".into())));
        assert_eq!(split_path("/"), None);
        assert_eq!(split_path("master"), None);
        assert_eq!(normalize("state"), "/state");
        assert_eq!(normalize("//state"), "/state");
    }
}
