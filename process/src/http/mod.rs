//! HTTP/1.1 on the transport's port: requests, responses and the [`Responder`] that carries a response
//! from whichever thread produced it back to the connection.
//!
//! The transport parses one request at a time per connection (so pipelined requests are answered in
//! order), hands it to [`TransportHandler::http`](crate::transport::TransportHandler::http) with a
//! [`Responder`], and writes the response when the responder is completed, from any thread.

mod request;
mod response;
mod stream;

pub use request::{
    percent_decode, percent_encode_path, HttpParseError, ParseOutcome, Request, RequestParser,
    MAX_HEADERS,
};
pub use response::Response;

/// A check every HTTP request of a runtime passes before routing: `Some(response)` answers
/// the request instead (see [`Handle::set_http_guard`](crate::Handle::set_http_guard)).
pub type HttpGuard = std::sync::Arc<dyn Fn(&Request) -> Option<Response> + Send + Sync>;
pub use stream::{HttpStream, StreamBody, StreamError};
pub(crate) use stream::{StreamShared, Taken};

use std::fmt;

/// The one-shot reply slot for a [`Request`]. `Send`: complete it from a worker thread.
///
/// Dropping it without calling [`respond`](Responder::respond) answers `500 Internal Server Error`, so a
/// panicking or forgetful handler never leaves the client (and every request pipelined behind it) hanging.
pub struct Responder {
    deliver: Option<Box<dyn FnOnce(Response) + Send>>,
}

impl Responder {
    /// A responder that passes the response to `deliver` (the transport's is a channel to its event loop;
    /// tests and routers can use a closure of their own).
    pub fn new(deliver: impl FnOnce(Response) + Send + 'static) -> Responder {
        Responder {
            deliver: Some(Box::new(deliver)),
        }
    }

    /// Sends `response` to the client.
    pub fn respond(mut self, response: Response) {
        if let Some(deliver) = self.deliver.take() {
            deliver(response);
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(deliver) = self.deliver.take() {
            deliver(Response::text(
                500,
                "the handler dropped the request unanswered",
            ));
        }
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder")
            .field("answered", &self.deliver.is_none())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn responder_delivers_once_and_500_when_dropped() {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        Responder::new(move |r| tx.send(r.status).unwrap()).respond(Response::text(201, "x"));
        drop(Responder::new(move |r| tx2.send(r.status).unwrap()));
        assert_eq!(rx.iter().collect::<Vec<_>>(), vec![201, 500]);
    }
}
