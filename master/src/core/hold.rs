//! Status updates wait for the registry: a leader elected with a published agent registry tells
//! schedulers nothing that the next leader could contradict. A task declared LOST when its agent
//! disconnected (or was removed) is kept lost by the next leader only if the registry recording
//! it was published; a LOST that reached the scheduler before the leader crashed unpublished
//! came back RUNNING (sim seed 1677). As Mesos's master applies the registry operation before it
//! sends the updates it implies (`markUnreachable` then `_markUnreachable`), updates to
//! schedulers produced while the registry has unpublished changes are held until the publisher
//! reports that generation written ([`MasterCore::registry_published`]).

use super::MasterCore;
use crate::{Outgoing, Output};

/// The held updates (off unless [`MasterCore::hold_updates_until_published`] was called).
#[derive(Debug, Default)]
pub(super) struct UpdateHold {
    enabled: bool,
    published: Option<u64>,
    /// Each with the registry generation it waits for, in the order produced.
    held: Vec<(u64, Output)>,
    /// Released by a publication, to go out ahead of the next outputs.
    ready: Vec<Output>,
}

impl UpdateHold {
    /// Outputs about to go out, registry at `generation`: the status updates among them wait
    /// while it is not published (and behind any that wait already: order is kept); the ones a
    /// publication released go first.
    pub(super) fn filter(&mut self, generation: u64, outputs: &mut Vec<Output>) {
        if !self.enabled {
            return;
        }
        if self.published != Some(generation) || !self.held.is_empty() {
            let (held, rest): (Vec<Output>, Vec<Output>) = outputs.drain(..).partition(|o| {
                matches!(
                    o,
                    Output::Send {
                        message: Outgoing::StatusUpdate(_),
                        ..
                    }
                )
            });
            *outputs = rest;
            self.held
                .extend(held.into_iter().map(|output| (generation, output)));
        }
        if !self.ready.is_empty() {
            let mut ready = std::mem::take(&mut self.ready);
            ready.append(outputs);
            *outputs = ready;
        }
    }

    /// `generation` is written: the updates that waited for it (or an earlier one) are ready.
    fn release(&mut self, generation: u64) -> usize {
        self.published = Some(generation);
        let count = self
            .held
            .iter()
            .take_while(|(g, _)| *g <= generation)
            .count();
        self.ready
            .extend(self.held.drain(..count).map(|(_, output)| output));
        count
    }

    /// How many updates wait.
    pub(super) fn len(&self) -> usize {
        self.held.len()
    }
}

impl MasterCore {
    /// Hold status updates to schedulers until the registry that implies them is published
    /// (a leader elected through ZooKeeper, whose publisher calls
    /// [`MasterCore::registry_published`]). A master without a registry never calls this.
    pub fn hold_updates_until_published(&mut self) {
        self.hold.enabled = true;
    }

    /// The publisher wrote registry `generation` (from [`MasterCore::registry`]): the status
    /// updates that waited for it go out.
    pub fn registry_published(&mut self, _now: std::time::Instant, generation: u64) {
        let released = self.hold.release(generation);
        if released > 0 {
            tracing::debug!(
                count = released,
                generation,
                "registry published: held status updates go out"
            );
        }
    }

    /// How many status updates wait for the registry to be published.
    pub fn held_updates(&self) -> usize {
        self.hold.len()
    }
}
