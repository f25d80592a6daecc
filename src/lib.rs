//! # edge-persona
//!
//! Privacy-first personalization for landing pages. The decision engine lives in
//! [`core`]: plain Rust with no browser or edge dependencies, so the same inputs give
//! the same decision natively, in the browser and at the edge.
#![forbid(unsafe_code)]

pub mod core;
