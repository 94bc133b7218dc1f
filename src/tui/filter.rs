//! The filter language of the `/` prompt lives in [`crate::query`], shared with
//! `report --filter`; the UI's rows implement its [`Subject`] in `rows.rs`.

pub use crate::query::{Filter, Scratch, Subject};
