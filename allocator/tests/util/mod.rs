//! Shared helpers for the allocator integration tests: a clock that only moves when told, an
//! allocator with the agent shuffle off, and resource parsing.
#![allow(dead_code)]

use allocator::{
    Allocator, AllocatorConfig, FrameworkOptions, HierarchicalAllocator, OfferGrant, Sorter,
};
use mesos::resources::Resources;
use std::time::{Duration, Instant};

/// Parses resources in Mesos's text form.
pub fn res(text: &str) -> Resources {
    text.parse().expect("valid resources")
}

/// An allocator plus the injected time it is driven with.
pub struct Harness<S: Sorter> {
    pub allocator: HierarchicalAllocator<S>,
    pub now: Instant,
}

impl<S: Sorter> Harness<S> {
    /// Mesos defaults, but agents are taken in the order they were added.
    pub fn new() -> Self {
        Self::with_config(AllocatorConfig {
            shuffle_agents: false,
            ..AllocatorConfig::default()
        })
    }

    pub fn with_config(config: AllocatorConfig) -> Self {
        Self {
            allocator: HierarchicalAllocator::new(config),
            now: Instant::now(),
        }
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    pub fn add_agent(&mut self, id: &str, total: &str) {
        self.allocator.add_agent(id, res(total)).expect("add agent");
    }

    pub fn add_framework(&mut self, id: &str, role: &str) {
        self.allocator
            .add_framework(id, FrameworkOptions::role(role))
            .expect("add framework");
    }

    /// One batch allocation at the current time.
    pub fn allocate(&mut self) -> Vec<OfferGrant> {
        self.allocator.allocate(self.now)
    }

    /// Declines a grant with `refuse_seconds` (None: no filter).
    pub fn decline(&mut self, grant: &OfferGrant, refuse_seconds: Option<f64>) {
        self.allocator
            .recover_resources(
                &grant.framework,
                &grant.role,
                &grant.agent,
                &grant.resources,
                refuse_seconds,
                self.now,
            )
            .expect("recover");
    }
}

/// `(framework, agent)` pairs of grants, for compact assertions.
pub fn pairs(grants: &[OfferGrant]) -> Vec<(String, String)> {
    grants
        .iter()
        .map(|g| (g.framework.to_string(), g.agent.to_string()))
        .collect()
}
