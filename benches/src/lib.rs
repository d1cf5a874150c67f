//! Benchmarks: the actor runtime against actix and raw TCP, the allocator grid, task launch,
//! failover and the paper's experiments. Each binary in `src/bin` prints `key=value` lines; this
//! library holds their workloads and the flag parsing they share.

pub mod actors;
pub mod allocator_grid;
pub mod cli;
pub mod emulated;
pub mod heap;
pub mod launch_security;
pub mod macro_bench;
pub mod scale;
