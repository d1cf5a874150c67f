//! Two runtimes ("nodes") on two loopback ports: a message over TCP, a link, and an HTTP endpoint.
//!
//! `cargo run -p process --example two_nodes`

use std::sync::mpsc;
use std::time::Duration;

use process::http::Response;
use process::{Config, Context, Handlers, Process, Runtime, Upid};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug)]
struct Hello {
    from_node: String,
}
#[derive(Serialize, Deserialize, Debug)]
struct Welcome {
    greeting: String,
}
process::message!(Hello = "example.Hello", Welcome = "example.Welcome");

/// Greets whoever says hello and serves `/greeter/stats`.
#[derive(Default)]
struct Greeter {
    greeted: Vec<String>,
}

impl Process for Greeter {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers
            .on(|this: &mut Self, ctx, _from, hello: Hello| {
                this.greeted.push(hello.from_node.clone());
                ctx.reply(Welcome {
                    greeting: format!("welcome, {}", hello.from_node),
                });
            })
            .route("/stats", |this: &mut Self, _ctx, _request| {
                Response::ok_json(&this.greeted)
            });
    }
}

/// Says hello to a remote greeter, links to it, and reports what happens.
struct Visitor {
    greeter: Upid,
    events: mpsc::Sender<String>,
}

impl Process for Visitor {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, _ctx, from, welcome: Welcome| {
            let _ = this
                .events
                .send(format!("{from} says '{}'", welcome.greeting));
        });
    }

    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.link(&self.greeter);
        ctx.send(
            &self.greeter,
            Hello {
                from_node: ctx.runtime().addr().to_string(),
            },
        );
    }

    fn exited(&mut self, _ctx: &mut Context<Self>, pid: &Upid) {
        let _ = self.events.send(format!("{pid} is gone"));
    }
}

fn main() -> Result<(), process::Error> {
    let node_a = Runtime::new(Config::default())?;
    let node_b = Runtime::new(Config::default())?;
    let greeter = node_a.spawn("greeter", Greeter::default())?;
    let (events, received) = mpsc::channel();
    node_b.spawn(
        "visitor",
        Visitor {
            greeter: greeter.upid().clone(),
            events,
        },
    )?;
    let wait = Duration::from_secs(5);
    println!("{}", received.recv_timeout(wait).expect("a welcome"));
    println!("stats: GET http://{}/greeter/stats", node_a.addr());
    drop(node_a); // the visitor's link fires
    println!("{}", received.recv_timeout(wait).expect("an exited notice"));
    Ok(())
}
