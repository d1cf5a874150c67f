//! placeholder
pub mod allocator_grid;
pub mod actors;
