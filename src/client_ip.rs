//! The client address of a request: the socket peer, or what a trusted
//! reverse proxy says in `Forwarded` or `X-Forwarded-For`. Headers from any
//! other peer are ignored, since anyone can write them.
//!
//! Imports only `http` types (through axum) and `ipnet`; the extractor that
//! reads the peer address lives in `api::extract`.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// Parses a `trusted_proxies` entry: a CIDR range (`10.0.0.0/8`) or a bare
/// address (`127.0.0.1`, one host).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a CIDR range"))
}

/// The client of a request from `peer`: when `peer` is in `trusted`, the
/// nearest address in the forwarding headers that is not itself a trusted
/// proxy (`Forwarded` first, then `X-Forwarded-For`), else `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    // Walk from the nearest hop outwards; the first untrusted one is the
    // client, whatever it wrote further left.
    let mut client = peer;
    for hop in chain.iter().rev() {
        let Some(ip) = hop.map(canonical) else {
            // An obfuscated or unreadable hop: stop at the last one we know.
            return client;
        };
        client = ip;
        if !is_trusted(ip, trusted) {
            return ip;
        }
    }
    client
}

/// The key under which one client's requests are counted: the address, or
/// for IPv6 its /64 (one host usually holds a whole /64).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops of `Forwarded` (RFC 7239 `for=`) or, without it,
/// `X-Forwarded-For`, leftmost first; `None` for a hop that is not an
/// address (`unknown`, `_hidden`).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(forwarded_for)
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// The `for=` node of one `Forwarded` element; `None` when it has none.
fn forwarded_for(element: &str) -> Option<Option<IpAddr>> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_node(value.trim().trim_matches('"')))
    })
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]`,
/// `[::1]:5678` or a bare IPv6 address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, _port) = node.rsplit_once(':')?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_headers_are_ignored() {
        let h = headers(&[("x-forwarded-for", "9.9.9.9")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn trusted_peer_gives_the_nearest_untrusted_hop() {
        let trusted = [
            parse_cidr("127.0.0.1").unwrap(),
            parse_cidr("10.0.0.0/8").unwrap(),
        ];
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 9.9.9.9, 10.1.2.3")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("9.9.9.9"));
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::1]:443\";proto=https",
        )]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("2001:db8::1"));
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn mapped_addresses_and_ipv6_keys() {
        assert_eq!(
            client_ip(ip("::ffff:1.2.3.4"), &HeaderMap::new(), &[]),
            ip("1.2.3.4")
        );
        assert_eq!(rate_key(ip("2001:db8::1:2")), ip("2001:db8::"));
        assert!(parse_cidr("nonsense").is_err());
        assert!(parse_cidr("::1/128").is_ok());
    }
}
