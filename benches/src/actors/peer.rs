//! The same local workloads on actix 0.13 (the peer), each in a fresh `System` (one arbiter thread,
//! actix's default), with `do_send` as actix's fastest send.

use std::time::{Duration, Instant};

use actix::{Actor, Addr, Context, Handler, Message, System};

struct Ping;
impl Message for Ping {
    type Result = ();
}
struct Pong;
impl Message for Pong {
    type Result = ();
}
struct Go;
impl Message for Go {
    type Result = ();
}
struct Count(u64);
impl Message for Count {
    type Result = ();
}
struct SetPinger(Addr<Pinger>);
impl Message for SetPinger {
    type Result = ();
}

struct Ponger {
    pinger: Option<Addr<Pinger>>,
}
impl Actor for Ponger {
    type Context = Context<Self>;
}
impl Handler<SetPinger> for Ponger {
    type Result = ();
    fn handle(&mut self, msg: SetPinger, _: &mut Context<Self>) {
        self.pinger = Some(msg.0);
    }
}
impl Handler<Ping> for Ponger {
    type Result = ();
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) {
        if let Some(pinger) = &self.pinger {
            pinger.do_send(Pong);
        }
    }
}

struct Pinger {
    ponger: Addr<Ponger>,
    left: u64,
}
impl Actor for Pinger {
    type Context = Context<Self>;
}
impl Handler<Go> for Pinger {
    type Result = ();
    fn handle(&mut self, _: Go, _: &mut Context<Self>) {
        self.ponger.do_send(Ping);
    }
}
impl Handler<Pong> for Pinger {
    type Result = ();
    fn handle(&mut self, _: Pong, _: &mut Context<Self>) {
        self.left -= 1;
        if self.left == 0 {
            System::current().stop();
        } else {
            self.ponger.do_send(Ping);
        }
    }
}

/// Runs `setup` inside a fresh actix system, then the system until an actor stops it; returns the
/// time from the end of set-up to the stop.
fn run_system(setup: impl FnOnce()) -> Duration {
    let system = System::new();
    system.block_on(async move { setup() });
    let start = Instant::now();
    system.run().expect("actix system ran");
    start.elapsed()
}

/// `rounds` round trips between two actors, one in flight.
pub fn ping_pong(rounds: u64) -> Duration {
    run_system(move || {
        let ponger = Ponger { pinger: None }.start();
        let pinger = Pinger {
            ponger: ponger.clone(),
            left: rounds.max(1),
        }
        .start();
        ponger.do_send(SetPinger(pinger.clone()));
        pinger.do_send(Go);
    })
}

struct Receiver {
    left: u64,
}
impl Actor for Receiver {
    type Context = Context<Self>;
}
impl Handler<Count> for Receiver {
    type Result = ();
    fn handle(&mut self, Count(n): Count, _: &mut Context<Self>) {
        self.left -= n.min(1);
        if self.left == 0 {
            System::current().stop();
        }
    }
}

struct Sender {
    receiver: Addr<Receiver>,
    count: u64,
}
impl Actor for Sender {
    type Context = Context<Self>;
}
impl Handler<Go> for Sender {
    type Result = ();
    fn handle(&mut self, _: Go, _: &mut Context<Self>) {
        for i in 0..self.count {
            self.receiver.do_send(Count(i | 1));
        }
    }
}

/// `senders` actors each send `per_sender` messages to one receiver.
pub fn fan_in(senders: u64, per_sender: u64) -> Duration {
    run_system(move || {
        let receiver = Receiver {
            left: (senders * per_sender).max(1),
        }
        .start();
        for _ in 0..senders {
            Sender {
                receiver: receiver.clone(),
                count: per_sender,
            }
            .start()
            .do_send(Go);
        }
    })
}
