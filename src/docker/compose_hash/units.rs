//! Go's durations and docker/go-units sizes, parsed and printed exactly as compose-go does,
//! for the config-hash. Plain arithmetic on text: no JSON, no compose keys.

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Go's `time.ParseDuration`, for durations that are not negative.
pub(super) fn parse_duration(s: &str) -> Result<u64, String> {
    const UNITS: [(&str, u64); 8] = [
        ("ns", 1),
        ("us", 1_000),
        ("\u{b5}s", 1_000),
        ("\u{3bc}s", 1_000),
        ("ms", 1_000_000),
        ("s", NANOS_PER_SECOND),
        ("m", 60 * NANOS_PER_SECOND),
        ("h", 3600 * NANOS_PER_SECOND),
    ];
    let bad = || format!("`{s}` is not a duration like `1m30s`");
    match s {
        "0" => return Ok(0),
        "" => return Err(bad()),
        _ => {}
    }
    let digits = |t: &str| t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (mut rest, mut total) = (s, 0u64);
    while !rest.is_empty() {
        let (whole, r) = rest.split_at(digits(rest));
        let (fraction, r) = r
            .strip_prefix('.')
            .map_or(("", r), |r| r.split_at(digits(r)));
        let unit_len = r.find(|c: char| c.is_ascii_digit() || c == '.');
        let (unit, r) = r.split_at(unit_len.unwrap_or(r.len()));
        let scale = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(bad)?.1;
        if (whole.is_empty() && fraction.is_empty()) || fraction.len() > 15 {
            return Err(bad());
        }
        let whole: u64 = format!("0{whole}").parse().map_err(|_| bad())?;
        let mut value = whole.checked_mul(scale).ok_or_else(bad)?;
        if !fraction.is_empty() {
            // Go adds the fraction in floating point, exactly like this.
            let f: u64 = fraction.parse().map_err(|_| bad())?;
            value += (f as f64 * (scale as f64 / 10f64.powi(fraction.len() as i32))) as u64;
        }
        total = total.checked_add(value).ok_or_else(bad)?;
        rest = r;
    }
    Ok(total)
}

/// Go's `time.Duration.String()`: `1m30s`, `1h0m0s`, `500ms`, `1.5µs`.
pub(super) fn go_duration(nanos: u64) -> String {
    /// `value / 10^digits`, without trailing zeros in the fraction.
    fn decimal(value: u64, digits: usize) -> String {
        let div = 10u64.pow(digits as u32);
        let fraction = format!("{:0digits$}", value % div);
        let fraction = fraction.trim_end_matches('0');
        let dot = if fraction.is_empty() { "" } else { "." };
        format!("{}{dot}{fraction}", value / div)
    }
    match nanos {
        0 => "0s".into(),
        1..1_000 => format!("{nanos}ns"),
        1_000..1_000_000 => format!("{}\u{b5}s", decimal(nanos, 3)),
        1_000_000..NANOS_PER_SECOND => format!("{}ms", decimal(nanos, 6)),
        _ => {
            let minutes = nanos / NANOS_PER_SECOND / 60;
            let seconds = format!("{}s", decimal(nanos % (60 * NANOS_PER_SECOND), 9));
            match (minutes / 60, minutes % 60) {
                (0, 0) => seconds,
                (0, m) => format!("{m}m{seconds}"),
                (h, m) => format!("{h}h{m}m{seconds}"),
            }
        }
    }
}

/// docker/go-units `RAMInBytes`: `^(\d+(\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`.
pub(super) fn ram_in_bytes(s: &str) -> Result<u64, String> {
    let mut rest = s.strip_suffix(['b', 'B']).unwrap_or(s);
    rest = rest.strip_suffix(['i', 'I']).unwrap_or(rest);
    let mut shift = 0;
    if let Some(i) = rest
        .chars()
        .last()
        .and_then(|c| "kmgtp".find(c.to_ascii_lowercase()))
    {
        shift = 10 * (i + 1);
        rest = &rest[..rest.len() - 1];
    }
    rest = rest.strip_suffix(' ').unwrap_or(rest);
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, "0"));
    let is_number = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !is_number(whole) || !is_number(fraction) {
        return Err(format!("`mem_limit` `{s}` is not a size like `512m`"));
    }
    let number: f64 = rest
        .parse()
        .map_err(|e| format!("`mem_limit` `{s}`: {e}"))?;
    Ok((number * (1u64 << shift) as f64) as u64)
}
