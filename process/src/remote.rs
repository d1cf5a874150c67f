//! The seam between the runtime and the TCP/HTTP [`Transport`]: outbound envelopes, and the inbound
//! handler that turns envelopes, HTTP requests and lost peers into runtime events.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, Weak};

use crate::cell::AnyCell;
use crate::error::Error;
use crate::filters::Verdict;
use crate::http::{Request, Responder, Response};
use crate::router::{self, HttpLetter};
use crate::runtime::{Config, Outbound, Shared, EXITED_MESSAGE, LINK_MESSAGE};
use crate::transport::{
    BorrowedEnvelope, ConnectionGeneration, Parts, ReadEnvelopes, Transport, TransportConfig,
    TransportError, TransportHandler,
};
use crate::upid::Upid;

/// The id of the runtime-level endpoint listing live processes: `GET /__processes__`.
pub(crate) const PROCESSES_ENDPOINT: &str = "__processes__";

/// Receives from the transport's event loop; must never block.
pub(crate) struct Inbound {
    /// Set once the runtime exists (the transport starts first, to learn its port).
    shared: OnceLock<Weak<Shared>>,
}

impl Inbound {
    fn shared(&self) -> Option<Arc<Shared>> {
        self.shared.get().and_then(Weak::upgrade)
    }
}

impl TransportHandler for Inbound {
    fn deliver(&self, envelope: BorrowedEnvelope<'_>) {
        self.deliver_read(&mut |deliver| deliver(envelope));
    }

    fn deliver_read(&self, read: &mut ReadEnvelopes<'_>) {
        // One upgrade per read, not per message; the runtime stays alive for the read.
        match self.shared() {
            Some(shared) => read(&mut |envelope| shared.deliver_remote(envelope)),
            None => read(
                &mut |envelope| tracing::warn!(to = %envelope.to, "message before the runtime started: dropped"),
            ),
        }
    }

    fn http(&self, request: Request, responder: Responder) {
        match self.shared() {
            Some(shared) => shared.serve_http(request, responder),
            None => responder.respond(Response::text(503, "the runtime is starting")),
        }
    }

    fn peer_lost(&self, peer: SocketAddr) {
        self.connection_lost(peer, ConnectionGeneration::default());
    }

    fn connection_lost(&self, peer: SocketAddr, generation: ConnectionGeneration) {
        if let Some(shared) = self.shared() {
            shared.peer_lost(peer, generation);
        }
    }
}

struct Remote {
    transport: Transport,
}

impl Outbound for Remote {
    fn send(&self, from: &Upid, to: &Upid, name: &str, body: &[u8]) {
        let envelope = Parts {
            from,
            to,
            name,
            body,
        };
        self.transport.send_parts(to.addr(), envelope);
    }

    fn connect(&self, peer: SocketAddr) {
        self.transport.connect(peer);
    }

    fn reconnect(&self, peer: SocketAddr) -> ConnectionGeneration {
        self.transport.reconnect(peer)
    }

    fn shutdown(&self) {
        self.transport.shutdown();
    }

    fn tls_enabled(&self) -> bool {
        self.transport.tls_enabled()
    }
}

/// A started transport, not yet attached to its runtime.
pub(crate) struct Started {
    /// The address to advertise in every local pid.
    pub(crate) addr: SocketAddr,
    pub(crate) outbound: Box<dyn Outbound>,
    /// To [`attach`] once the runtime exists.
    pub(crate) inbound: Arc<Inbound>,
}

/// Starts the listener for `config`.
pub(crate) fn start(config: &Config) -> Result<Started, Error> {
    let inbound = Arc::new(Inbound {
        shared: OnceLock::new(),
    });
    let transport_config = TransportConfig {
        max_frame_bytes: config.max_frame_bytes,
        tls: config.tls.resolve()?,
        ..TransportConfig::default()
    };
    let transport = Transport::start(config.listen, transport_config, inbound.clone()).map_err(
        |e| match e {
            TransportError::Tls(e) => Error::Tls(e),
            e => Error::Transport(e.to_string()),
        },
    )?;
    let addr = transport.local_addr();
    Ok(Started {
        addr,
        outbound: Box::new(Remote { transport }),
        inbound,
    })
}

/// Connects inbound traffic to the runtime.
pub(crate) fn attach(inbound: &Inbound, shared: &Arc<Shared>) {
    let _ = inbound.shared.set(Arc::downgrade(shared));
}

impl Shared {
    /// An envelope from another runtime.
    pub(crate) fn deliver_remote(&self, envelope: BorrowedEnvelope<'_>) {
        let BorrowedEnvelope {
            from,
            to,
            name,
            body,
        } = envelope;
        match name {
            LINK_MESSAGE => {
                let linked = self
                    .registry
                    .get(to.id())
                    .is_some_and(|cell| cell.add_linker(from.clone()));
                if !linked {
                    self.notify_exited(from, to);
                }
            }
            EXITED_MESSAGE => self.remote_exited(from, to),
            _ => {
                let mut observed = None;
                if self.filters.is_active() {
                    match self.filters.intercept_remote(from, to, name, body) {
                        Verdict::Drop => return,
                        Verdict::Deliver(observer) => observed = observer,
                    }
                }
                let delivered =
                    self.with_receiver(to, |cell| cell.deliver_encoded(from, name, body));
                if delivered.is_none() {
                    tracing::warn!(%to, %from, message = %name,
                        "remote message for an unknown process: dropped");
                }
                if let Some(observed) = observed {
                    // Whoever awaits this message may then `settle`: publish it first.
                    crate::runtime::workers::flush_outbox();
                    observed.complete();
                }
            }
        }
    }

    /// Runs `f` on the local process `to` names (`None` if there is none). A stream of messages usually goes to one process, so the
    /// delivering thread remembers the last one and skips the registry (hashing, a read lock, a
    /// reference count) while it is still running; a terminated one is looked up again (its id may
    /// have been reused), and the remembered cell is replaced by the next different receiver.
    fn with_receiver<R>(&self, to: &Upid, f: impl FnOnce(&dyn AnyCell) -> R) -> Option<R> {
        thread_local! {
            static LAST_RECEIVER: RefCell<Option<(Upid, Arc<dyn AnyCell>)>> =
                const { RefCell::new(None) };
        }
        // The remembered cell is used in place, under the thread-local's borrow: no reference count
        // is taken per message. A nested delivery on this thread (none is expected) finds the
        // borrow taken and looks its receiver up in the registry.
        LAST_RECEIVER.with(|last| {
            let Ok(mut last) = last.try_borrow_mut() else {
                return self.registry.get(to.id()).map(|cell| f(&*cell));
            };
            let hit = matches!(&*last, Some((upid, cell))
                if upid == to && !cell.is_terminated() && self.is_local_cell(&**cell));
            if !hit {
                let cell = self.registry.get(to.id())?;
                *last = Some((to.clone(), cell));
            }
            let (_, cell) = last.as_ref()?;
            Some(f(&**cell))
        })
    }

    /// An HTTP request: `/{id}/{endpoint}` goes to that process's route.
    pub(crate) fn serve_http(&self, request: Request, responder: Responder) {
        let guard = self.http_guard.read().clone();
        if let Some(refusal) = guard.and_then(|guard| guard(&request)) {
            return responder.respond(refusal);
        }
        let Some((id, endpoint)) = router::split_path(&request.path) else {
            // `/` itself names no process: the delegate's root route answers it (the master's
            // web UI), as libprocess hands `/` to its delegate.
            let delegate = self.http_delegate.read().clone();
            if let Some(cell) = delegate.and_then(|d| self.registry.get(&d)) {
                if request.path == "/" {
                    return cell.deliver_http(HttpLetter {
                        endpoint: "/".to_string(),
                        request,
                        responder,
                    });
                }
            }
            return responder.respond(router::json_error(
                404,
                "expected a path /{process id}/{endpoint}",
            ));
        };
        if id == PROCESSES_ENDPOINT {
            return responder.respond(Response::ok_json(&self.registry.ids()));
        }
        if let Some(cell) = self.registry.get(id) {
            return cell.deliver_http(HttpLetter {
                endpoint,
                request,
                responder,
            });
        }
        // As libprocess's delegate: a path naming no process goes to the delegate whole.
        let delegate = self.http_delegate.read().clone();
        match delegate.and_then(|d| self.registry.get(&d)) {
            Some(cell) => cell.deliver_http(HttpLetter {
                endpoint: router::normalize(&request.path),
                request,
                responder,
            }),
            None => responder.respond(router::json_error(404, &format!("no process '{id}'"))),
        }
    }
}
