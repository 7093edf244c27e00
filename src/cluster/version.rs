//! Kubernetes version strings: the server's `gitVersion` and a module's `minKubernetes`, read one way.

/// `1.28`, `v1.28.3`, `1.28+`, `v1.28.3-gke.100` → `(1, 28)`.
pub fn parse_minor(v: &str) -> Option<(u64, u64)> {
    let v = v.trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
    Some((major, minor.parse().ok()?))
}

/// `major.minor` of a server's version (`v1.30.2+k3s1` → `1.30`), as templates see it.
pub fn major_minor(v: &str) -> Option<String> {
    parse_minor(v).map(|(major, minor)| format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_versions() {
        assert_eq!(parse_minor("v1.20.2"), Some((1, 20)));
        assert_eq!(parse_minor("1.28"), Some((1, 28)));
        assert_eq!(parse_minor("1.30+"), Some((1, 30)));
        assert_eq!(parse_minor("x"), None);
        assert_eq!(major_minor("v1.37.0"), Some("1.37".into()));
        assert_eq!(major_minor("v1.30+.1"), Some("1.30".into()));
        assert_eq!(major_minor("v1.28.3-gke.100"), Some("1.28".into()));
        assert_eq!(major_minor("unknown"), None);
    }
}
