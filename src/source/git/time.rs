//! Commit times as RFC 3339 text, and `--since` dates parsed to seconds, without a date library.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
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

/// `seconds` since the epoch in the zone `offset_minutes` east of UTC, as RFC 3339.
pub(crate) fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SS` with `Z` or `±HH:MM`.
pub fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("bad date `{s}`: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    let num = |t: &str| t.parse::<i64>().map_err(|_| bad());
    let (date, rest) = s.trim().split_at(s.trim().len().min(10));
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return Err(bad());
    }
    let (y, m, d) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m as u32, d as u32) * 86_400;
    if rest.is_empty() {
        return Ok(secs);
    }
    let rest = rest.strip_prefix(['T', ' ']).ok_or_else(bad)?;
    if rest.len() < 8 {
        return Err(bad());
    }
    let (clock, zone) = rest.split_at(8);
    let hms: Vec<&str> = clock.split(':').collect();
    if hms.len() != 3 {
        return Err(bad());
    }
    secs += num(hms[0])? * 3600 + num(hms[1])? * 60 + num(hms[2])?;
    match zone {
        "" | "Z" | "z" => Ok(secs),
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) => {
            let off = num(&z[1..3])? * 3600 + num(&z[4..6])? * 60;
            Ok(if z.starts_with('+') {
                secs - off
            } else {
                secs + off
            })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000, 60), "2023-11-14T23:13:20+01:00");
        assert_eq!(rfc3339(951_782_400, -330), "2000-02-28T18:30:00-05:30");
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Ok(1_700_000_000));
        assert_eq!(parse_date("2000-03-01"), Ok(951_868_800));
        assert!(parse_date("yesterday").is_err());
    }
}
