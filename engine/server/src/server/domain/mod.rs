//! The operations routes, pages, the scheduler and the CLI share: reading and scoring what is
//! stored. Handlers are adapters over these; nothing here imports a route or a page.

pub(crate) mod api_keys;
pub(crate) mod applications;
pub(crate) mod awards;
pub(crate) mod certificates;
pub(crate) mod conflicts;
pub(crate) mod corrections;
pub(crate) mod diagnostics;
pub(crate) mod files;
pub(crate) mod jobs;
pub(crate) mod limit_groups;
pub(crate) mod people;
pub(crate) mod results;
pub(crate) mod rounds;
