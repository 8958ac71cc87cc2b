//! The one HTTP client for every request Confab makes to another server
//! (deliveries, actor and key fetches, WebFinger, group fetches, and later
//! media and link previews), guarded against server-side request forgery:
//! a remote document names URLs, and none of them may steer Confab at this
//! machine or its private network.
//!
//! - Names are resolved by [`GuardedResolver`], which refuses a name when
//!   any of its addresses is loopback, private, link-local, multicast,
//!   unspecified, broadcast, shared (CGNAT), reserved, or a documentation
//!   or benchmarking range, or an IPv6 form that embeds such an IPv4
//!   address. reqwest connects to exactly the addresses the resolver
//!   returned (hyper-util's `HttpConnector` takes them as they are), so a
//!   name cannot resolve to a public address for the check and a private
//!   one for the connection (DNS rebinding).
//! - Hosts written as addresses (`http://127.0.0.1/`, `http://2130706433/`,
//!   `http://[::ffff:7f00:1]/`; the `url` crate turns decimal, octal and
//!   hex IPv4 forms into [`url::Host::Ipv4`]) never reach a resolver, so
//!   every request is checked by [`check_url`] first: in the federation
//!   library's fetches by the [`LiteralGuard`] middleware, in our own
//!   deliveries by [`Outgoing::send`], which runs the same middleware.
//! - Redirects are never followed by the client (the library follows one
//!   itself, through this same client, so its target is checked too); no
//!   system proxy is used, since a proxy would resolve names itself.
//!
//! Test rigs (`federation_allow_private`) keep their old behaviour: no
//! guard, and `federation_resolve` maps `host=ip` pairs without DNS.
//!
//! This module is top-level rather than in `apub` because it is not about
//! ActivityPub: any part of Confab that fetches a remote URL uses it. It
//! imports only `config` (and axum for the `http` types it re-exports);
//! never `chat`, `api`, `ws` or `apub`.

use crate::config::Config;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// How long any outgoing request may take, and its connection.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A request Confab will not make: the host is, or resolves to, an address
/// of this machine or of a network that is not the public internet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address not allowed: {}", self.describe())]
pub struct AddressRefused {
    /// The host as the URL named it.
    pub host: String,
    /// The first refused address it is or resolved to.
    pub ip: IpAddr,
    /// Which kind of address that is (`loopback`, `private`, ...).
    pub range: &'static str,
}

impl AddressRefused {
    /// `127.0.0.1 is loopback`, or `localhost is loopback (::1)` for a name.
    fn describe(&self) -> String {
        let literal = self.host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        if literal == Some(self.ip) {
            format!("{} is {}", self.ip, self.range)
        } else {
            format!("{} is {} ({})", self.host, self.range, self.ip)
        }
    }
}

/// Why a request failed, as a user may see it: the status or a short
/// reason of our own, never what the remote server wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("HTTP {0}")]
    Status(String),
    #[error(transparent)]
    Refused(#[from] AddressRefused),
    #[error("name not resolved")]
    Unresolved,
    #[error("connection refused")]
    ConnectionRefused,
    #[error("could not connect")]
    Connect,
    #[error("timed out")]
    Timeout,
    #[error("request failed")]
    Other,
}

impl Failure {
    /// `HTTP 404 Not Found`.
    pub fn status(status: reqwest::StatusCode) -> Self {
        Self::Status(match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        })
    }

    /// What a failed request comes to (the error chain is searched for
    /// our own refusal and for the I/O error behind a connect failure).
    pub fn of(error: &reqwest_middleware::Error) -> Self {
        let root: &(dyn std::error::Error + 'static) = match error {
            reqwest_middleware::Error::Middleware(e) => e.as_ref(),
            reqwest_middleware::Error::Reqwest(e) => e,
        };
        let mut source = Some(root);
        let mut connect_refused = false;
        while let Some(e) = source {
            if let Some(refused) = e.downcast_ref::<AddressRefused>() {
                return Self::Refused(refused.clone());
            }
            if e.downcast_ref::<NotResolved>().is_some() {
                return Self::Unresolved;
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                connect_refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            source = e.source();
        }
        match error {
            reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => Self::Timeout,
            reqwest_middleware::Error::Reqwest(e) if e.is_connect() => {
                if connect_refused {
                    Self::ConnectionRefused
                } else {
                    Self::Connect
                }
            }
            _ => Self::Other,
        }
    }

    /// Whether trying again later cannot help (the address is refused).
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

/// A name that resolved to no address (or whose lookup failed).
#[derive(Debug, thiserror::Error)]
#[error("{0}: name not resolved")]
struct NotResolved(String);

/// The kind of address `ip` is when Confab must not connect to it; `None`
/// for a public unicast address.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        // 0.0.0.0/8: "this network"; Linux connects 0.x to loopback.
        (0, _, _) => "this network",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        // 100.64.0.0/10: shared address space (carrier-grade NAT).
        (100, 64..=127, _) => "shared (CGNAT)",
        _ if ip.is_link_local() => "link-local",
        // 192.0.0.0/24: IETF protocol assignments.
        (192, 0, 0) => "IETF protocol assignments",
        _ if ip.is_documentation() => "documentation",
        // 198.18.0.0/15: benchmarking.
        (198, 18..=19, _) => "benchmarking",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() => "broadcast",
        // 240.0.0.0/4: reserved.
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    // Forms that carry an IPv4 address reach that address: judge it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    if let [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] = s {
        // NAT64 well-known prefix (64:ff9b::/96).
        return refused_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    Some(match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        // ::/96: IPv4-compatible (deprecated), never on the internet.
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible",
        [0x64, 0xff9b, 1, ..] => "local NAT64",
        [0x100, 0, 0, 0, ..] => "discard-only",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_unique_local() => "private",
        _ if ip.is_unicast_link_local() => "link-local",
        // fec0::/10: site-local (deprecated).
        [0xfec0..=0xfeff, ..] => "site-local",
        [0x2001, 0xdb8, ..] | [0x3fff, 0..=0x0fff, ..] => "documentation",
        [0x2001, 0x2, 0, ..] => "benchmarking",
        // Tunnels that embed IPv4 addresses (deprecated or obfuscated).
        [0x2001, 0, ..] => "Teredo",
        [0x2002, ..] => "6to4",
        // Global unicast is 2000::/3; the rest is reserved.
        [0x2000..=0x3fff, ..] => return None,
        _ => "reserved",
    })
}

/// Refuses a URL whose host is written as a refused address (names are
/// left to the resolver, which checks what they resolve to).
pub fn check_url(url: &Url) -> Result<(), AddressRefused> {
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        // Not an address for `url` (a non-special scheme keeps IPv4 hosts
        // as text), but maybe for the connector: check it as one.
        Some(Host::Domain(name)) => match name.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => return Ok(()),
        },
        None => {
            return Err(AddressRefused {
                host: String::new(),
                ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                range: "missing",
            })
        }
    };
    match refused_range(ip) {
        Some(range) => Err(AddressRefused {
            host: url.host_str().unwrap_or_default().to_owned(),
            ip,
            range,
        }),
        None => Ok(()),
    }
}

/// Resolves names with the system resolver and refuses a name if any of
/// its addresses is refused (a name that also points inside is not one to
/// trust with the others).
#[derive(Debug, Default)]
pub struct GuardedResolver;

impl GuardedResolver {
    async fn lookup(
        host: String,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        // The port is replaced by the URL's when connecting.
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map_err(|_| NotResolved(host.clone()))?
            .collect();
        if addrs.is_empty() {
            return Err(Box::new(NotResolved(host)));
        }
        if let Some((ip, range)) = addrs
            .iter()
            .find_map(|a| refused_range(a.ip()).map(|range| (a.ip(), range)))
        {
            return Err(Box::new(AddressRefused { host, ip, range }));
        }
        Ok(addrs)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = Self::lookup(host).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Runs [`check_url`] before every request.
#[derive(Debug, Default)]
pub struct LiteralGuard;

#[async_trait::async_trait]
impl Middleware for LiteralGuard {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut axum::http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        check_url(request.url()).map_err(reqwest_middleware::Error::middleware)?;
        next.run(request, extensions).await
    }
}

/// The outgoing client: built once at start-up, cheap to clone.
#[derive(Clone)]
pub struct Outgoing {
    /// The guarded client (middleware included): every request goes
    /// through it.
    client: ClientWithMiddleware,
    /// The same reqwest client without the middleware, only to build
    /// requests for [`Outgoing::send`] (whose signature helpers take a
    /// `reqwest::RequestBuilder`); never to send them.
    builder: reqwest::Client,
}

impl Outgoing {
    /// The guarded client, or in a test rig (`federation_allow_private`)
    /// an unguarded one that resolves `federation_resolve` pairs itself.
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("Confab/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(16);
        let guarded = !config.federation_allow_private;
        if guarded {
            builder = builder.dns_resolver(GuardedResolver).no_proxy();
        } else {
            for pair in &config.federation_resolve {
                if let Some((host, ip)) = pair.split_once('=') {
                    if let Ok(ip) = ip.parse::<IpAddr>() {
                        builder = builder.resolve(host, SocketAddr::new(ip, 0));
                    }
                }
            }
        }
        let builder = builder.build()?;
        let client = if guarded {
            reqwest_middleware::ClientBuilder::new(builder.clone())
                .with_arc(Arc::new(LiteralGuard))
                .build()
        } else {
            ClientWithMiddleware::from(builder.clone())
        };
        Ok(Self { client, builder })
    }

    /// The client to hand the federation library.
    pub fn client(&self) -> ClientWithMiddleware {
        self.client.clone()
    }

    /// Starts a request; send it with [`Outgoing::send`], never with its
    /// own `send` (which would skip the address check).
    pub fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        self.builder.request(method, url)
    }

    /// Sends a request started with [`Outgoing::request`] through the
    /// guard.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest_middleware::Error> {
        self.client.execute(request.build()?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cli;
    use clap::Parser;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn range(ip: &str) -> Option<&'static str> {
        refused_range(ip.parse().unwrap())
    }

    #[test]
    fn internal_ipv4_ranges_are_refused() {
        for (ip, kind) in [
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "this network"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.255", "shared (CGNAT)"),
            ("169.254.169.254", "link-local"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.254", "reserved"),
            ("255.255.255.255", "broadcast"),
        ] {
            assert_eq!(range(ip), Some(kind), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert_eq!(range(ip), None, "{ip}");
        }
    }

    #[test]
    fn internal_ipv6_ranges_and_embedded_ipv4_are_refused() {
        for (ip, kind) in [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:0.0.0.0", "unspecified"),
            ("::127.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("64:ff9b::127.0.0.1", "loopback"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b:1::1", "local NAT64"),
            ("100::1", "discard-only"),
            ("fc00::1", "private"),
            ("fd12:3456::1", "private"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff05::2", "multicast"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("2001:2::1", "benchmarking"),
            ("2001::1", "Teredo"),
            ("2002:7f00:1::1", "6to4"),
            ("4000::1", "reserved"),
            ("1::1", "reserved"),
        ] {
            assert_eq!(range(ip), Some(kind), "{ip}");
        }
    }

    #[test]
    fn public_ipv6_addresses_pass() {
        for ip in [
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2001:4860::8888",
        ] {
            assert_eq!(range(ip), None, "{ip}");
        }
    }

    #[test]
    fn literal_hosts_in_every_spelling_are_refused() {
        for (url, kind) in [
            ("http://127.0.0.1:8080/inbox", "loopback"),
            ("http://2130706433/", "loopback"),
            ("http://0x7f000001/", "loopback"),
            ("http://0x7f.1/", "loopback"),
            ("http://017700000001/", "loopback"),
            ("http://127.1/", "loopback"),
            ("https://0/", "unspecified"),
            ("http://167772161/", "private"),
            ("http://0xa9.0xfe.0xa9.0xfe/latest/meta-data", "link-local"),
            ("http://[::1]:9/", "loopback"),
            ("http://[::ffff:127.0.0.1]/", "loopback"),
            ("http://[::ffff:a00:1]/", "private"),
            ("http://[fe80::1]/", "link-local"),
            ("foo://127.0.0.1/", "loopback"),
        ] {
            let url = Url::parse(url).unwrap();
            assert_eq!(check_url(&url).map_err(|e| e.range), Err(kind), "{url}");
        }
        for url in [
            "https://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://example.com/",
            "https://localhost/", // a name: the resolver judges it
        ] {
            assert!(check_url(&Url::parse(url).unwrap()).is_ok(), "{url}");
        }
    }

    #[test]
    fn refusals_say_what_was_refused() {
        let url = Url::parse("http://2130706433:9/inbox").unwrap();
        assert_eq!(
            check_url(&url).unwrap_err().to_string(),
            "address not allowed: 127.0.0.1 is loopback"
        );
        let url = Url::parse("http://[::ffff:10.0.0.1]/").unwrap();
        assert_eq!(
            check_url(&url).unwrap_err().to_string(),
            "address not allowed: ::ffff:10.0.0.1 is private"
        );
        let named = AddressRefused {
            host: "localhost".into(),
            ip: "::1".parse().unwrap(),
            range: "loopback",
        };
        assert_eq!(
            named.to_string(),
            "address not allowed: localhost is loopback (::1)"
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_internal_addresses() {
        let error = GuardedResolver::lookup("localhost".into())
            .await
            .unwrap_err();
        let refused = error.downcast_ref::<AddressRefused>().unwrap();
        assert_eq!(refused.range, "loopback");
        let error = GuardedResolver::lookup("127.0.0.1".into())
            .await
            .unwrap_err();
        assert!(error.downcast_ref::<AddressRefused>().is_some());
        let error = GuardedResolver::lookup("no-such-host.invalid".into())
            .await
            .unwrap_err();
        assert!(error.downcast_ref::<NotResolved>().is_some());
    }

    /// A loopback listener that counts connections and answers each with
    /// `answer`.
    async fn listener(answer: &'static str) -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (port, count)
    }

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["confab"];
        all.extend_from_slice(args);
        Cli::parse_from(all).config
    }

    #[tokio::test]
    async fn the_guarded_client_connects_to_no_internal_address() {
        let (port, count) = listener("HTTP/1.1 204 No Content\r\n\r\n").await;
        let outgoing = Outgoing::new(&config(&[])).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/inbox"),
            format!("http://2130706433:{port}/inbox"),
            format!("http://0x7f000001:{port}/inbox"),
            format!("http://localhost:{port}/inbox"),
            format!("http://[::ffff:127.0.0.1]:{port}/inbox"),
        ] {
            let url = Url::parse(&url).unwrap();
            let post = outgoing.request(reqwest::Method::POST, url.clone());
            let error = outgoing.send(post).await.unwrap_err();
            let failure = Failure::of(&error);
            assert!(matches!(failure, Failure::Refused(_)), "{url}: {failure}");
            assert!(failure.is_permanent());
            assert!(failure.to_string().starts_with("address not allowed: "));
            // The library's own requests go through the same middleware.
            let error = outgoing.client().get(url.clone()).send().await.unwrap_err();
            assert!(matches!(Failure::of(&error), Failure::Refused(_)), "{url}");
        }
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_rig_client_reaches_loopback_and_follows_no_redirect() {
        let (canary, canary_count) = listener("HTTP/1.1 204 No Content\r\n\r\n").await;
        let redirect: &'static str = Box::leak(
            format!(
                "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{canary}/\r\ncontent-length: 0\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (port, count) = listener(redirect).await;
        let outgoing = Outgoing::new(&config(&[
            "--federation-allow-private",
            "true",
            "--federation-resolve",
            "peer.test=127.0.0.1",
        ]))
        .unwrap();
        let url = Url::parse(&format!("http://peer.test:{port}/x")).unwrap();
        let response = outgoing
            .send(outgoing.request(reqwest::Method::GET, url))
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(
            Failure::status(response.status()).to_string(),
            "HTTP 302 Found"
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(
            canary_count.load(Ordering::SeqCst),
            0,
            "no redirect followed"
        );
    }

    #[tokio::test]
    async fn failures_are_named_without_the_remote_body() {
        // A port nobody listens on: connection refused (rig client).
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let outgoing = Outgoing::new(&config(&["--federation-allow-private", "true"])).unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let error = outgoing
            .send(outgoing.request(reqwest::Method::GET, url))
            .await
            .unwrap_err();
        assert_eq!(Failure::of(&error), Failure::ConnectionRefused);
        assert_eq!(Failure::of(&error).to_string(), "connection refused");
        assert_eq!(
            Failure::status(reqwest::StatusCode::NOT_FOUND).to_string(),
            "HTTP 404 Not Found"
        );
        // A name that does not resolve (guarded client).
        let outgoing = Outgoing::new(&config(&[])).unwrap();
        let url = Url::parse("https://no-such-host.invalid/").unwrap();
        let error = outgoing
            .send(outgoing.request(reqwest::Method::GET, url))
            .await
            .unwrap_err();
        assert_eq!(Failure::of(&error), Failure::Unresolved);
    }
}
