//! Where the server's own outbound requests may go (webhooks): one rule for every client.
//!
//! A URL is checked when it is registered (scheme, no credentials in it, no private host,
//! resolved), and again on every connection: the agent's resolver resolves the host and
//! refuses it when any address it gives is loopback, private, link-local (the cloud metadata
//! service among them), shared, reserved, multicast or unspecified, whatever its spelling (a
//! decimal `2130706433`, an octal `0177.0.0.1`, a short `127.1`, an IPv6 form that embeds an
//! IPv4 address: mapped, compatible, NAT64, 6to4, Teredo); the connection is made to exactly
//! the addresses checked, so a name that changes its answer between the check and the
//! connection (DNS rebinding) gains nothing. Redirects are not followed. `laurel serve
//! --webhooks-to-private-addresses` lifts the rule (a test's receiver on 127.0.0.1).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Whether an IPv4 address is one the server must not reach on a caller's behalf.
fn blocked_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a >= 240
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
}

/// Whether an address is one the server must not reach on a caller's behalf.
pub fn blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    // IPv4-compatible (deprecated), `::a.b.c.d`.
    if s[..6] == [0; 6] {
        return ip.is_unspecified() || ip.is_loopback() || blocked_v4(embedded(s[6], s[7]));
    }
    // NAT64, 64:ff9b::/96 (and the local-use 64:ff9b:1::/48).
    if s[0] == 0x64 && s[1] == 0xff9b {
        return true;
    }
    // 6to4, 2002::/16: the IPv4 address in bits 16 to 48.
    if s[0] == 0x2002 {
        return blocked_v4(embedded(s[1], s[2]));
    }
    // Teredo, 2001:0::/32: the client's IPv4 address, inverted, in the last 32 bits.
    if s[0] == 0x2001 && s[1] == 0 {
        return blocked_v4(embedded(!s[6], !s[7]));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // Documentation 2001:db8::/32, discard-only 100::/64.
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[..4] == [0x100, 0, 0, 0])
}

/// What is wrong with a URL an outbound request is to go to, checked where it is given: an
/// `http` or `https` URL with a host and no credentials, whose host (a name is resolved) is not
/// a blocked address. A name that does not resolve now is accepted (each connection checks
/// again).
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| "not a URL: write http:// or https:// and a host".to_owned())?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("the URL must start with http:// or https://".to_owned()),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| "the URL must name a host".to_owned())?;
    if authority.as_str().contains('@') {
        return Err("the URL may not carry a user name or password".to_owned());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err("the URL must name a host".to_owned());
    }
    if allow_private {
        return Ok(());
    }
    let name = host.to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    if name == "localhost" || name.ends_with(".localhost") {
        return Err(format!("`{host}` is this machine"));
    }
    let port = authority
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    if let Ok(addrs) = (host, port).to_socket_addrs() {
        for a in addrs {
            if blocked(a.ip()) {
                return Err(format!(
                    "`{host}` reaches {}, a loopback, private, link-local or reserved address",
                    a.ip()
                ));
            }
        }
    }
    Ok(())
}

/// Resolves as the system does, then refuses a host with any blocked address.
#[derive(Debug, Default)]
struct CheckedResolver {
    system: DefaultResolver,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.system.resolve(uri, config, timeout)?;
        if addrs.iter().any(|a: &SocketAddr| blocked(a.ip())) {
            return Err(ureq::Error::ConnectionFailed);
        }
        Ok(addrs)
    }
}

/// The environment variable naming a PEM file of certificate authorities that the server's
/// own HTTPS requests trust instead of the public Web PKI roots (an organisation's own CA).
pub const CA_FILE_VAR: &str = "LAUREL_CA_FILE";

/// The TLS settings of every outbound request (webhooks, the sign-in provider, `laurel
/// backup`, `laurel rounds`): the public Web PKI roots, or, with [`CA_FILE_VAR`] set, exactly
/// the authorities of that file. Read once; an unreadable file or one without a certificate is
/// an error that names it.
pub fn tls() -> Result<ureq::tls::TlsConfig, String> {
    static TLS: std::sync::OnceLock<Result<ureq::tls::TlsConfig, String>> =
        std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let builder = ureq::tls::TlsConfig::builder();
        let Some(path) = std::env::var_os(CA_FILE_VAR).filter(|p| !p.is_empty()) else {
            return Ok(builder.build());
        };
        let shown = std::path::Path::new(&path).display().to_string();
        let pem = std::fs::read(&path)
            .map_err(|e| format!("{CA_FILE_VAR}: cannot read `{shown}`: {e}"))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => return Err(format!("{CA_FILE_VAR}: `{shown}` is not PEM: {e}")),
            }
        }
        if certs.is_empty() {
            return Err(format!("{CA_FILE_VAR}: `{shown}` holds no certificate"));
        }
        Ok(builder
            .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
            .build())
    })
    .clone()
}

/// An agent for the operator's own Laurel server (`laurel backup`, `laurel rounds`): the
/// outbound TLS settings, `timeout` for everything, statuses as answers.
pub fn plain_agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .tls_config(tls().unwrap_or_default())
        .build()
        .into()
}

/// An agent for requests on a caller's behalf: no redirects, `timeout` for everything, TLS
/// as [`tls`] says, and (unless `allow_private`) only to addresses that are not blocked,
/// checked on every connection.
pub fn agent(timeout: Duration, allow_private: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .tls_config(tls().unwrap_or_default())
        .build();
    if allow_private {
        return ureq::Agent::new_with_config(config);
    }
    ureq::Agent::with_parts(config, DefaultConnector::new(), CheckedResolver::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_private_address_is_blocked() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            let ip: IpAddr = text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(blocked(ip), "{text}");
        }
        for text in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "2a00:1450::1",
        ] {
            let ip: IpAddr = text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(!blocked(ip), "{text}");
        }
    }

    #[test]
    fn every_connection_is_checked_where_it_goes() {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|_| {
            std::net::TcpListener::bind("[::1]:0").expect("a loopback listener")
        });
        listener.set_nonblocking(true).unwrap_or_default();
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        // A name that resolves to loopback, given past any registration check: the resolver
        // refuses it when connecting, and nothing reaches the listener.
        for host in ["localhost", "127.0.0.1", "2130706433"] {
            let refused = agent(Duration::from_secs(2), false)
                .get(&format!("http://{host}:{port}/"))
                .call();
            assert!(
                matches!(refused, Err(ureq::Error::ConnectionFailed)),
                "{host}: {refused:?}"
            );
        }
        let mut buf = [0u8; 1];
        let reached = listener
            .accept()
            .map(|(mut s, _)| s.read(&mut buf).is_ok())
            .unwrap_or(false);
        assert!(!reached, "a refused request reached the listener");
        // Allowed to private addresses (a test's receiver), it connects.
        let allowed = agent(Duration::from_secs(2), true)
            .get(&format!("http://127.0.0.1:{port}/"))
            .call();
        assert!(!matches!(allowed, Err(ureq::Error::ConnectionFailed)));
    }

    #[test]
    fn urls_are_checked_whatever_their_spelling() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://2130706433:8080/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]:9000/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://user@example.org/",
            "http://user:pw@127.0.0.1/",
            "ftp://example.org/",
            "http:///nohost",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
        }
        assert!(check_url("https://hooks.example.org/laurel", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
    }
}
