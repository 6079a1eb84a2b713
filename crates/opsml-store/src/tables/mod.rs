//! The statements of every table, written once for both databases over [`crate::sql::Sql`].

pub(crate) mod accounts;
pub(crate) mod append;
pub(crate) mod artifacts;
pub(crate) mod cards;
pub(crate) mod points;
pub(crate) mod summaries;
pub(crate) mod writer;
