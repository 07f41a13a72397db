//! Verifiable results: the public bundle an award's published results are recomputed from,
//! how the server makes one from its real inputs, and how anyone recomputes it offline.
//! Pure: values in, values out.

mod build;
mod bundle;
mod check;

pub use build::{BundleInputs, Party, RoundInputs, make_bundle, withheld_fields};
pub use bundle::{
    BUNDLE_FORMAT, Bundle, BundleAdvance, BundleApplication, BundleDecision, BundleFailure,
    BundleRound,
};
pub use check::{Mismatch, Verification, verify_bundle};
