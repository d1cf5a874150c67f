//! placeholder
pub mod allocator_grid;
