//! An isolator plus launch-only isolators (`namespaces/pid`, `linux/capabilities`), which need no
//! per-container state: they only change how the executor is launched.

use mesos::{ContainerId, Resources};

use crate::{
    ContainerConfig, Isolator, IsolatorError, LaunchInfo, Limitation, RecoveredContainer,
    ResourceStatistics,
};

/// `inner` with launch modifiers.
pub(crate) struct Composite {
    pub(crate) name: String,
    pub(crate) inner: Box<dyn Isolator>,
    pub(crate) pid_namespace: bool,
    pub(crate) drop_capabilities: bool,
}

impl Isolator for Composite {
    fn name(&self) -> &str {
        &self.name
    }

    fn prepare(&mut self, config: &ContainerConfig) -> Result<LaunchInfo, IsolatorError> {
        let mut launch = self.inner.prepare(config)?;
        launch.pid_namespace |= self.pid_namespace;
        launch.drop_capabilities |= self.drop_capabilities;
        Ok(launch)
    }

    fn isolate(&mut self, container_id: &ContainerId, pid: u32) -> Result<(), IsolatorError> {
        self.inner.isolate(container_id, pid)
    }

    fn update(
        &mut self,
        container_id: &ContainerId,
        resources: &Resources,
    ) -> Result<(), IsolatorError> {
        self.inner.update(container_id, resources)
    }

    fn usage(&self, container_id: &ContainerId) -> Result<ResourceStatistics, IsolatorError> {
        self.inner.usage(container_id)
    }

    fn limitation(&self, container_id: &ContainerId) -> Option<Limitation> {
        self.inner.limitation(container_id)
    }

    fn watches_limitations(&self) -> bool {
        self.inner.watches_limitations()
    }

    fn recover(&mut self, containers: &[RecoveredContainer]) -> Result<(), IsolatorError> {
        self.inner.recover(containers)
    }

    fn cleanup(&mut self, container_id: &ContainerId) -> Result<(), IsolatorError> {
        self.inner.cleanup(container_id)
    }
}
