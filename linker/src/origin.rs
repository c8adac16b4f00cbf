//! HTTP origins, as an `http` grant lists them and as the host matches
//! outgoing requests against them: one definition for both.

use std::fmt;

/// An origin a component may send HTTP requests to: a scheme, a host and a
/// port, such as `https://api.example.com` (port 443) or
/// `http://127.0.0.1:8080`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// The host name or address, lowercase; an IPv6 address in brackets.
    pub host: String,
    /// The port, the scheme's own when the text leaves it out.
    pub port: u16,
}

impl Origin {
    /// Reads an origin written `scheme://host[:port]`, with no path, query,
    /// user or fragment; `None` when `text` is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (scheme, authority) = text.split_once("://")?;
        Self::from_parts(&scheme.to_ascii_lowercase(), authority)
    }

    /// The origin of a request to `authority` (`host` or `host:port`) by
    /// `scheme`; `None` when either is not one an origin can have.
    pub fn from_parts(scheme: &str, authority: &str) -> Option<Self> {
        let default = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            // `[::1]` alone: the colon is the address's own.
            Some((host, port)) if !port.contains(']') => (host, port.parse::<u16>().ok()?),
            _ => (authority, default),
        };
        if host.is_empty() || port == 0 {
            return None;
        }
        Some(Self {
            scheme: scheme.to_string(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl fmt::Display for Origin {
    /// `scheme://host:port`, the port always written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_a_scheme_a_host_and_a_port() {
        let origin = |t: &str| Origin::parse(t).map(|o| o.to_string());
        assert_eq!(
            origin("https://API.example.com").as_deref(),
            Some("https://api.example.com:443")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("http://[::1]").as_deref(), Some("http://[::1]:80"));
        assert_eq!(
            origin("http://[::1]:81").as_deref(),
            Some("http://[::1]:81")
        );
        for not in [
            "api.example.com",
            "ftp://example.com",
            "https://",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com:0",
            "https://example.com:http",
            "https://example.com?q",
        ] {
            assert_eq!(origin(not), None, "{not}");
        }
    }
}
