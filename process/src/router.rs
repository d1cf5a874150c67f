//! HTTP routes installed by processes: `/{process id}/{endpoint}` is answered by the handler that
//! process installed for `/{endpoint}`, run on the process (serially with its messages).
//!
//! Matching follows libprocess: a trailing `/` is ignored, and a path with no handler of its own
//! goes to the handler of its longest registered prefix (by whole path components), so
//! `/api/v1/operator` reaches `/api/v1` and `/frameworks/` reaches `/frameworks`. Any JSON answer
//! to a request with `?jsonp=callback` is wrapped as `callback(...);`.

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
type DeferredFn<P> = Box<dyn Fn(&mut P, &mut Context<'_, P>, Request, Responder) + Send + Sync>;

/// How a route answers: at once (the handler returns the response), or later (the handler keeps
/// the [`Responder`] and completes it from wherever the answer comes from, e.g. a thread waiting
/// on another server), so the process never blocks on a slow answer.
pub(crate) enum RouteHandler<P: Process> {
    Now(RouteFn<P>),
    Deferred(DeferredFn<P>),
}

/// A process type's HTTP routes.
pub(crate) struct Routes<P: Process> {
    routes: Vec<(String, RouteHandler<P>)>,
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
        self.insert_handler(path, RouteHandler::Now(handler));
    }

    /// Installs (or replaces) a deferred handler for `path`.
    pub(crate) fn insert_deferred(&mut self, path: &str, handler: DeferredFn<P>) {
        self.insert_handler(path, RouteHandler::Deferred(handler));
    }

    fn insert_handler(&mut self, path: &str, handler: RouteHandler<P>) {
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

    /// The handler for `endpoint`: its own, else its longest registered prefix's.
    fn find(&self, endpoint: &str) -> Option<&RouteHandler<P>> {
        let mut candidate = endpoint.trim_end_matches('/');
        loop {
            let path = if candidate.is_empty() { "/" } else { candidate };
            if let Some((_, handler)) = self.routes.iter().find(|(p, _)| p == path) {
                return Some(handler);
            }
            match candidate.rfind('/') {
                Some(cut) if !candidate.is_empty() => candidate = &candidate[..cut],
                _ => return None,
            }
        }
    }

    /// Answers one request on the process. A panicking handler drops the responder: the client gets
    /// 500 and the process terminates.
    pub(crate) fn serve(&self, process: &mut P, ctx: &mut Context<'_, P>, letter: HttpLetter) {
        let HttpLetter {
            endpoint,
            request,
            responder,
        } = letter;
        let response = match self.find(&endpoint) {
            Some(RouteHandler::Now(handler)) => handler(process, ctx, &request),
            Some(RouteHandler::Deferred(handler)) => {
                let responder = match request.query_param("jsonp") {
                    Some(callback) => Responder::new(move |response: Response| {
                        responder.respond(if response.is_json() {
                            response.jsonp(&callback)
                        } else {
                            response
                        })
                    }),
                    None => responder,
                };
                return handler(process, ctx, request, responder);
            }
            None => json_error(
                404,
                &format!("process '{}' has no endpoint '{endpoint}'", ctx.upid().id()),
            ),
        };
        let response = match request.query_param("jsonp") {
            Some(callback) if response.is_json() => response.jsonp(&callback),
            _ => response,
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

    struct Nobody;
    impl Process for Nobody {
        fn handlers(_: &mut crate::Handlers<Self>) {}
    }

    #[test]
    fn trailing_slash_and_longest_prefix() {
        let mut routes = Routes::<Nobody>::new();
        for path in ["/api/v1", "/api/v1/scheduler", "/frameworks"] {
            let status = 200 + routes.routes.len() as u16;
            routes.insert(path, Box::new(move |_, _, _| Response::text(status, "")));
        }
        let found = |e: &str| routes.find(e).is_some();
        assert!(found("/api/v1/operator"));
        assert!(found("/frameworks/"));
        assert!(found("/frameworks/x/y"));
        assert!(!found("/"));
        assert!(!found("/api"));
        assert!(!found("/frameworksx"));
        fn index(routes: &Routes<Nobody>, e: &str) -> Option<usize> {
            let target = routes.find(e).map(|f| f as *const RouteHandler<Nobody>);
            routes
                .routes
                .iter()
                .position(|(_, h)| Some(h as *const _) == target)
        }
        assert_eq!(index(&routes, "/api/v1/scheduler/"), Some(1));
        assert_eq!(index(&routes, "/api/v1/operator"), Some(0));
        assert_eq!(index(&routes, "/api/v1"), Some(0));
        routes.insert("/", Box::new(|_, _, _| Response::text(200, "")));
        assert_eq!(index(&routes, "/anything/else"), Some(3));
    }
}
