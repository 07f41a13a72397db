//! Instants written in a definition: with an offset (`2023-05-31T18:00:00+09:00`), or without
//! one and read in the award's time zone (`2023-05-31T18:00:00`, `2023-05-31 18:00`).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};

/// The instant `text` names, reading a time without an offset in `time_zone` (an IANA name).
pub fn parse_instant(text: &str, time_zone: &str) -> Result<DateTime<FixedOffset>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t);
    }
    let tz: chrono_tz::Tz = time_zone
        .parse()
        .map_err(|_| format!("`{time_zone}` is not an IANA time zone"))?;
    let naive = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .ok_or_else(|| {
            format!(
                "`{text}` is not a date and time: write `2023-05-31T18:00:00` (read in {time_zone}) or `2023-05-31T18:00:00+09:00`"
            )
        })?;
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Ok(t.fixed_offset()),
        chrono::LocalResult::Ambiguous(t, _) => Ok(t.fixed_offset()),
        chrono::LocalResult::None => Err(format!(
            "`{text}` does not exist in {time_zone} (a clock change skips it)"
        )),
    }
}

/// An instant written in `time_zone`, for people: `2023-05-31 18:00 (Asia/Seoul)`.
pub fn show_instant(at: DateTime<FixedOffset>, time_zone: &str) -> String {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => format!(
            "{} ({time_zone})",
            at.with_timezone(&tz).format("%Y-%m-%d %H:%M")
        ),
        Err(_) => at.to_rfc3339(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_local_times() {
        let a = parse_instant("2023-05-31T18:00:00+09:00", "UTC").unwrap();
        let b = parse_instant("2023-05-31T18:00:00", "Asia/Seoul").unwrap();
        assert_eq!(a, b);
        assert_eq!(
            show_instant(a, "Asia/Seoul"),
            "2023-05-31 18:00 (Asia/Seoul)"
        );
        assert!(parse_instant("31/05/2023", "Asia/Seoul").is_err());
    }
}
