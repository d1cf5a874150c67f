//! Mesos's v1 HTTP APIs on the master: the scheduler API ([`scheduler`]) as a second door into
//! the same [`MasterCore`](crate::MasterCore), and the HTTP schedulers' event streams
//! ([`Streams`]), owned by the master actor.

pub(crate) mod events;
pub(crate) mod legacy;
pub(crate) mod operator;
pub(crate) mod scheduler;

use std::collections::HashMap;
use std::time::Duration;

use mesos::v1::{recordio, scheduler::event, to_ascii_json};
use process::http::{HttpStream, Request, Response};
use serde_json::Value as Json;

use crate::leadership::Leadership;
use crate::outputs::StreamId;

/// Mesos's default `--scheduler_heartbeat_interval`... of ours (Mesos hard-codes 15 s).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// Bytes a slow HTTP scheduler may leave unread before its stream is closed.
pub const DEFAULT_MAX_STREAM_QUEUED_BYTES: usize = 64 << 20;

/// One event stream action, in the order the core produced them.
#[derive(Debug)]
pub(crate) enum StreamWrite {
    /// One RecordIO record (an encoded event).
    Record { stream: StreamId, record: Vec<u8> },
    /// SUBSCRIBED: written, then a HEARTBEAT at once, then one every heartbeat interval.
    Subscribed { stream: StreamId, record: Vec<u8> },
    /// End the stream.
    Close { stream: StreamId },
}

/// An event as one RecordIO record of ASCII-only JSON.
pub(crate) fn record(event: &Json) -> Vec<u8> {
    recordio::encode(&to_ascii_json(event))
}

/// The open event streams of HTTP schedulers.
#[derive(Debug)]
pub(crate) struct Streams {
    open: HashMap<StreamId, HttpStream>,
    /// Time between HEARTBEAT events.
    pub(crate) heartbeat: Duration,
    /// The per-stream cap on unread bytes.
    pub(crate) max_queued_bytes: usize,
}

impl Streams {
    pub(crate) fn new(heartbeat: Duration, max_queued_bytes: usize) -> Streams {
        Streams {
            open: HashMap::new(),
            heartbeat,
            max_queued_bytes,
        }
    }

    /// Keeps a new subscription's stream.
    pub(crate) fn insert(&mut self, id: StreamId, stream: HttpStream) {
        self.open.insert(id, stream);
    }

    /// Forgets a stream whose reader left.
    pub(crate) fn remove(&mut self, id: StreamId) {
        self.open.remove(&id);
    }

    /// Performs one write; returns the stream whose heartbeats start now.
    pub(crate) fn write(&mut self, write: StreamWrite) -> Option<StreamId> {
        match write {
            StreamWrite::Record { stream, record } => {
                self.send(stream, &record);
                None
            }
            StreamWrite::Subscribed { stream, record } => {
                // Clients deliver an event only when the next one starts: a HEARTBEAT right
                // after SUBSCRIBED makes SUBSCRIBED visible at once.
                (self.send(stream, &record)
                    && self.send(stream, &self::record(&event::heartbeat())))
                .then_some(stream)
            }
            StreamWrite::Close { stream } => {
                if let Some(s) = self.open.remove(&stream) {
                    s.close();
                }
                None
            }
        }
    }

    /// Sends a HEARTBEAT; false when the stream is gone (its timer stops).
    pub(crate) fn heartbeat(&mut self, id: StreamId) -> bool {
        self.send(id, &record(&event::heartbeat()))
    }

    fn send(&mut self, id: StreamId, record: &[u8]) -> bool {
        let Some(stream) = self.open.get(&id) else {
            return false;
        };
        match stream.send(record) {
            Ok(()) => true,
            Err(error) => {
                // The close callback tells the core; nothing more goes to this stream.
                tracing::info!(stream = %id, %error, "http scheduler stream closed");
                self.open.remove(&id);
                false
            }
        }
    }

    /// Ends every stream (this master stops or starts leading: schedulers subscribe again).
    pub(crate) fn close_all(&mut self) {
        for (_, stream) in self.open.drain() {
            stream.close();
        }
    }
}

impl crate::process::MasterProcess {
    /// The checks every API call starts with: `POST` only (`405` with `Allow`), answered by the
    /// leader (`307`/`503` elsewhere), and, when `json` is set, a JSON `Content-Type` (`400` /
    /// `415`). `Err` is the answer.
    pub(crate) fn admit_call(
        &mut self,
        ctx: &mut process::Context<'_, Self>,
        request: &Request,
        json: bool,
    ) -> Result<(), Response> {
        if request.method != "POST" {
            return Err(Response::method_not_allowed(&["POST"], &request.method));
        }
        if !self.leads(ctx) {
            return Err(not_leader(&self.leadership, request, true));
        }
        if json {
            mesos::v1::check_content_type(request.header("content-type"))
                .map_err(|(status, message)| Response::text(status, message))?;
        }
        Ok(())
    }
}

/// What a master that does not lead answers an API call: `307` to the leader
/// (`Location: //host:port<path>`, protocol-relative as Mesos writes it) or `503` when no
/// leader is known.
pub(crate) fn not_leader(leadership: &Leadership, request: &Request, keep_path: bool) -> Response {
    match leadership.leader() {
        Some(leader) => {
            let host = leader
                .hostname
                .clone()
                .or_else(|| leader.address.as_ref().and_then(|a| a.ip.clone()))
                .unwrap_or_else(|| leader.ipv4().to_string());
            let mut location = format!("//{host}:{}", leader.port);
            if keep_path {
                location.push_str(&request.path);
                if !request.query.is_empty() {
                    location.push('?');
                    location.push_str(&request.query);
                }
            }
            Response::text(307, "").with_header("Location", location)
        }
        None => Response::text(503, "No leader elected"),
    }
}
