//! The [`Isolator`] seam, from the `isolation` crate: the POSIX isolator (the default), cgroups,
//! pid namespaces and dropped capabilities, chosen by `--isolation`.

pub use isolation::{
    build, session_usage, CgroupsIsolator, ContainerConfig, IsolationFlags, Isolator,
    IsolatorError, LaunchInfo, Limitation, PosixIsolator, RecoveredContainer, ResourceStatistics,
    DEFAULT_ISOLATION,
};
