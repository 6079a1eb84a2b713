//! `opsml experiments search`: experiments matching a filter, listed as `list` does.

use opsml_registry::SearchQuery;

use crate::args::SearchArgs;
use crate::commands::columns::parse_columns;
use crate::commands::list::{write_records, Listing};
use crate::context::Context;
use crate::error::Result;

pub(super) fn run(context: &mut Context<'_, '_>, args: &SearchArgs) -> Result<()> {
    // The filter is checked before the store is opened: a typo is reported as such.
    let filter = opsml_query::parse_filter(&args.filter)?;
    let columns = parse_columns(&args.columns)?;
    let items: Vec<&str> = args.order_by.iter().map(String::as_str).collect();
    let order_by = opsml_query::parse_order_by(&items)?;
    let store = context.store()?;
    let query = SearchQuery {
        filter: Some(filter),
        space: args.space.clone(),
        spaces: None,
        order_by,
        limit: if args.limit == 0 {
            usize::MAX
        } else {
            args.limit
        },
    };
    let records = opsml_experiment::search_experiments(store.as_ref(), &query)?;
    let which = if args.order_by.is_empty() {
        "newest"
    } else {
        "first"
    };
    let nothing = format!("no experiments match in {}", store.location());
    let listing = Listing {
        records: &records,
        columns: &columns,
        limit: args.limit,
        which,
        nothing: &nothing,
    };
    write_records(context, store.as_ref(), &listing)
}
