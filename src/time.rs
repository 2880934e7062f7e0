//! RFC 3339 timestamps as whole seconds since the Unix epoch, without a date crate.
//!
//! Inventory dates, AWS dates and commit dates are all RFC 3339; this parses the
//! forms they use (`Z` or `±HH:MM`, optional fractional seconds) and prints `Z` form.

/// Environment variable that fixes "now" (RFC 3339), for reproducible tests and records.
pub const NOW_ENV: &str = "KEYTRACE_NOW";

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses `2026-09-01T00:00:00Z`, `2026-09-01T00:00:00.123+02:00` or `2026-09-01`.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> {
        let part = s.get(a..b)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.get(4..5)? != "-"
        || s.get(7..8)? != "-"
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let day = days_from_civil(y, mo, d) * 86_400;
    if s.len() == 10 {
        return Some(day);
    }
    if !matches!(s.get(10..11)?, "T" | "t" | " ") || s.get(13..14)? != ":" || s.get(16..17)? != ":"
    {
        return None;
    }
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    Some(day + h * 3600 + mi * 60 + se - offset)
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(t: i64) -> String {
    format_with_offset(t, 0)
}

/// Formats `t` as local time in the zone `offset_minutes` east of UTC (git keeps
/// author dates that way): `…T…Z` for UTC, else `…T…+HH:MM`.
pub fn format_with_offset(t: i64, offset_minutes: i32) -> String {
    let local = t + i64::from(offset_minutes) * 60;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `--since` values: a date (midnight UTC) or an RFC 3339 time; a time without a zone is UTC.
pub fn parse_date(s: &str) -> Result<i64, String> {
    parse(s)
        .or_else(|| parse(&format!("{}Z", s.trim())))
        .ok_or_else(|| format!("bad date `{s}`: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"))
}

/// Now, or the time in `KEYTRACE_NOW` when set and valid.
pub fn now() -> i64 {
    if let Some(t) = std::env::var(NOW_ENV).ok().and_then(|v| parse(&v)) {
        return t;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Whole days from `then` to `now` (0 when `then` is in the future).
pub fn days_between(then: i64, now: i64) -> u32 {
    u32::try_from((now - then).max(0) / 86_400).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_offsets() {
        let t = parse("2026-09-01T00:00:00Z").expect("parse");
        assert_eq!(format(t), "2026-09-01T00:00:00Z");
        assert_eq!(parse("2026-09-01T02:00:00+02:00"), Some(t));
        assert_eq!(parse("2026-09-01T00:00:00.250Z"), Some(t));
        assert_eq!(parse("2026-09-01"), Some(t));
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse("2024-02-29T12:00:00Z").map(format).as_deref(),
            Some("2024-02-29T12:00:00Z")
        );
        assert_eq!(parse("N/A"), None);
        assert_eq!(parse("2026-13-01T00:00:00Z"), None);
        assert_eq!(days_between(t, t + 86_400 * 3 + 5), 3);
        assert_eq!(
            format_with_offset(1_700_000_000, 60),
            "2023-11-14T23:13:20+01:00"
        );
        assert_eq!(
            format_with_offset(951_782_400, -330),
            "2000-02-28T18:30:00-05:30"
        );
        assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Ok(1_700_000_000));
        assert_eq!(parse_date("2023-11-14T22:13:20"), Ok(1_700_000_000));
        assert_eq!(parse_date("2000-03-01"), Ok(951_868_800));
        assert!(parse_date("yesterday").is_err());
    }
}
