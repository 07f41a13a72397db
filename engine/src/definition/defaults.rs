//! The defaults a rubric's format version pins. A default that changes applies to rubrics of
//! the new format version only: a published rubric keeps its results, and `laurel validate`
//! says, as a note, which of the defaults it relies on differ in the newest version.

use crate::definition::wire::AwardDefinition;

/// The format versions this build reads, oldest first; the last is the newest, which
/// `laurel init` writes.
pub const FORMAT_VERSIONS: &[&str] = &["1.0", "1.1"];

/// The values a format version gives to settings a rubric leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Defaults {
    /// `normalisation.min_marks`: the fewest marks of a judge in a category that are
    /// normalised.
    pub normalisation_min_marks: u32,
}

impl Defaults {
    /// The newest version's defaults.
    pub(crate) const NEWEST: Defaults = Defaults {
        normalisation_min_marks: 5,
    };

    /// The defaults of a format version this build reads.
    pub(crate) fn of(version: &str) -> Option<Defaults> {
        let at = FORMAT_VERSIONS.iter().position(|v| *v == version)?;
        let mut d = Defaults::NEWEST;
        for change in CHANGES {
            let since = FORMAT_VERSIONS
                .iter()
                .position(|v| *v == change.since)
                .unwrap_or(0);
            if at < since {
                (change.undo)(&mut d);
            }
        }
        Some(d)
    }
}

/// A default that changed in a format version.
pub(crate) struct Change {
    /// The first format version with the new default.
    pub since: &'static str,
    /// The setting, as a rubric writes it.
    pub setting: &'static str,
    /// The default before, and why it changed, for the note.
    pub before: &'static str,
    pub after: &'static str,
    pub why: &'static str,
    /// What to write to keep the old behaviour in the new version.
    pub keep: &'static str,
    /// Puts the old default back.
    undo: fn(&mut Defaults),
    /// Whether a rubric relies on the default (uses the setting without giving it).
    relies: fn(&AwardDefinition) -> bool,
}

/// Every default that changed, oldest first.
pub(crate) const CHANGES: &[Change] = &[Change {
    since: "1.1",
    setting: "normalisation.min_marks",
    before: "1: every judge's totals are normalised, however few",
    after: "5: a judge with fewer than 5 marks in a category has their totals used as marked, with a warning",
    why: "statistics of two or three totals say nothing about a judge",
    keep: "\"min_marks\": 1",
    undo: |d| d.normalisation_min_marks = 1,
    relies: |def| {
        let award = def.scoring.normalisation;
        (award.is_on() && award.min_marks.is_none())
            || def.rounds.iter().any(|r| {
                let n = r.normalisation.unwrap_or(award);
                n.is_on() && n.min_marks.is_none()
            })
    },
}];

/// The changes since `version` that `def` relies on.
pub(crate) fn relied_on<'c>(def: &AwardDefinition, version: &str) -> Vec<&'c Change> {
    let Some(at) = FORMAT_VERSIONS.iter().position(|v| *v == version) else {
        return Vec::new();
    };
    CHANGES
        .iter()
        .filter(|c| FORMAT_VERSIONS.iter().position(|v| *v == c.since) > Some(at))
        .filter(|c| (c.relies)(def))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_has_its_own_defaults() {
        assert_eq!(Defaults::of("1.0").unwrap().normalisation_min_marks, 1);
        assert_eq!(Defaults::of("1.1"), Some(Defaults::NEWEST));
        assert_eq!(Defaults::of("2.0"), None);
        assert_eq!(
            FORMAT_VERSIONS.last(),
            Some(&crate::definition::wire::FORMAT_VERSION)
        );
    }

    #[test]
    fn every_change_names_a_version_this_build_reads() {
        for c in CHANGES {
            assert!(FORMAT_VERSIONS.contains(&c.since), "{}", c.setting);
            let before = FORMAT_VERSIONS.iter().position(|v| *v == c.since).unwrap();
            assert!(before > 0, "{} changed in the first version", c.setting);
        }
    }
}
