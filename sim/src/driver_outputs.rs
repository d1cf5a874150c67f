//! Performing a driver core's outputs: one function for the scheduler and executor nodes, doing
//! what the real drivers' actors do (`mesos::driver`), on the simulated network and clock.

use std::collections::VecDeque;
use std::time::Duration;

use mesos::driver::Output;
use process::Upid;

use crate::payload::Payload;
use crate::world::World;

impl World {
    /// Performs `outputs` of the driver core of the node whose pid `pid` gives (`None` once the
    /// node is gone: the rest is dropped, as with a dead process). Sends and links go from that
    /// pid; `timer` schedules a timer's firing; `callback` is the framework's reaction to a
    /// callback, and the driver outputs of the calls it made are performed before the outputs
    /// that followed the callback (the real driver performs those once the callback returned).
    pub(crate) fn perform_driver<M, C, T>(
        &mut self,
        outputs: Vec<Output<M, C, T>>,
        pid: impl Fn(&World) -> Option<Upid>,
        timer: impl Fn(&mut World, Duration, T),
        callback: impl Fn(&mut World, C) -> Vec<Output<M, C, T>>,
    ) where
        Payload: From<M>,
    {
        let mut work: VecDeque<Output<M, C, T>> = outputs.into();
        while let Some(output) = work.pop_front() {
            let Some(from) = pid(self) else { return };
            match output {
                Output::Send(to, message) => self.send(&from, &to, Payload::from(message)),
                Output::Link(to) => self.link(&from, &to),
                Output::Timer { after, timer: t } => timer(self, after, t),
                Output::Callback(c) => {
                    for output in callback(self, c).into_iter().rev() {
                        work.push_front(output);
                    }
                }
            }
        }
    }
}
