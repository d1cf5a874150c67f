//! Message interception: await the next matching message, drop one, drop all.
mod util;

use process::{Handlers, MessageMatch, Process};
use util::{runtime, Ping, Pong, PATIENCE};

#[derive(Default)]
struct Sink {
    pings: Vec<u64>,
}

impl Process for Sink {
    fn handlers(handlers: &mut Handlers<Self>) {
        handlers.on(|this: &mut Self, ctx, _from, Ping(n)| {
            this.pings.push(n);
            ctx.reply(Pong(n));
        });
    }
}

#[test]
fn await_message_observes_without_dropping() {
    let runtime = runtime();
    let sink = runtime.spawn("sink", Sink::default()).unwrap();
    let seen = runtime
        .filters()
        .await_message::<Ping>(MessageMatch::any().to(&sink));
    runtime.send(&sink, Ping(3));
    let seen = seen.wait_timeout(PATIENCE).unwrap();
    assert_eq!(seen.message, Ping(3));
    assert_eq!(&seen.to, sink.upid());
    runtime.settle();
    assert_eq!(
        runtime
            .dispatch(&sink, |s, _| s.pings.clone())
            .wait_timeout(PATIENCE)
            .unwrap(),
        [3]
    );
}

#[test]
fn drop_message_drops_only_the_next_match() {
    let runtime = runtime();
    let sink = runtime.spawn("sink", Sink::default()).unwrap();
    let other = runtime.spawn("other", Sink::default()).unwrap();
    let dropped = runtime
        .filters()
        .drop_message::<Ping>(MessageMatch::any().to(&sink));
    runtime.send(&other, Ping(1)); // wrong receiver: passes
    runtime.send(&sink, Ping(2)); // dropped
    runtime.send(&sink, Ping(3)); // rule used up: passes
    assert_eq!(dropped.wait_timeout(PATIENCE).unwrap().message, Ping(2));
    runtime.settle();
    assert_eq!(
        runtime
            .dispatch(&sink, |s, _| s.pings.clone())
            .wait_timeout(PATIENCE)
            .unwrap(),
        [3]
    );
    assert_eq!(
        runtime
            .dispatch(&other, |s, _| s.pings.clone())
            .wait_timeout(PATIENCE)
            .unwrap(),
        [1]
    );
}

#[test]
fn drop_messages_drops_all_matches_until_removed() {
    let runtime = runtime();
    let sink = runtime.spawn("sink", Sink::default()).unwrap();
    let asker = runtime.spawn("asker", Sink::default()).unwrap();
    // Lose every pong from sink to asker.
    let rule = runtime
        .filters()
        .drop_messages::<Pong>(MessageMatch::any().from(&sink).to(&asker));
    let ask = |n| {
        let sink = sink.clone();
        runtime
            .dispatch(&asker, move |_, ctx| ctx.send(&sink, Ping(n)))
            .wait_timeout(PATIENCE)
            .unwrap()
    };
    let pong_seen = runtime
        .filters()
        .await_message::<Ping>(MessageMatch::any().from(&asker));
    ask(1);
    ask(2);
    assert_eq!(pong_seen.wait_timeout(PATIENCE).unwrap().message, Ping(1));
    runtime.settle();
    assert_eq!(rule.dropped(), 2);
    rule.remove();
    let pong = runtime
        .filters()
        .await_message::<Pong>(MessageMatch::any().to(&asker));
    ask(3);
    assert_eq!(pong.wait_timeout(PATIENCE).unwrap().message, Pong(3));
}
