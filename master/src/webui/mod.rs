//! The master's HTTP views for the web UI: the proxy to agents' files and state ([`proxy`]).

pub mod proxy;
