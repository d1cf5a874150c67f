//! placeholder
pub mod actors;
pub mod allocator_grid;
pub mod macro_bench;
