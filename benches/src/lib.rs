//! placeholder
pub mod actors;
pub mod allocator_grid;
