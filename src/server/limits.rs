//! Connection caps: at most `max_connections` open sockets in all (kept
//! below the open-file limit, so `accept` does not run out of descriptors)
//! and at most `max_connections_per_ip` per client address (trusted proxies,
//! which carry many clients' connections, are not capped). A connection
//! holds its [`ConnectionPermit`] inside its socket, so it counts until the
//! socket is closed, also after a WebSocket upgrade.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Descriptors left for everything that is not a client connection: the
/// database pool, SQLite files, outgoing federation requests, the listener.
const RESERVED_MIN: usize = 64;
const RESERVED_MAX: usize = 1024;

/// The two caps and the current count per client address.
pub struct ConnectionLimits {
    /// One permit per connection that may be open.
    total: Arc<Semaphore>,
    /// Connections per client address; 0 means no cap.
    per_ip: usize,
    /// Peers the per-address cap does not apply to (`trusted_proxies`).
    exempt: Vec<IpNet>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// A place taken by one open connection; dropping it frees the place.
pub struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    /// The address counted against the per-address cap, if one was.
    client: Option<IpAddr>,
    _total: OwnedSemaphorePermit,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let Some(client) = self.client else {
            return;
        };
        let mut open = self.limits.lock();
        if let Some(count) = open.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&client);
            }
        }
    }
}

impl ConnectionLimits {
    /// Caps of `total` connections, `per_ip` of them per client (0: none)
    /// except for peers in `exempt`.
    pub fn new(total: usize, per_ip: usize, exempt: Vec<IpNet>) -> Arc<Self> {
        Arc::new(Self {
            total: Arc::new(Semaphore::new(total)),
            per_ip,
            exempt,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Waits until fewer than `max_connections` are open; the accept loop
    /// calls it before `accept`, so a full server leaves new connections in
    /// the listen backlog instead of spending descriptors on them.
    pub async fn reserve(&self) -> Option<OwnedSemaphorePermit> {
        self.total.clone().acquire_owned().await.ok()
    }

    /// Admits a connection from `peer` into the `reserved` place, unless
    /// that client already has `max_connections_per_ip` open.
    pub fn admit(
        self: &Arc<Self>,
        reserved: OwnedSemaphorePermit,
        peer: IpAddr,
    ) -> Option<ConnectionPermit> {
        let capped = self.per_ip > 0 && !self.exempt.iter().any(|net| net.contains(&peer));
        let client = capped.then(|| client_key(peer));
        if let Some(client) = client {
            let mut open = self.lock();
            let count = open.entry(client).or_default();
            if *count >= self.per_ip {
                return None;
            }
            *count += 1;
        }
        Some(ConnectionPermit {
            limits: self.clone(),
            client,
            _total: reserved,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The address a client is counted under: an IPv4 address (also when
/// written as IPv4-mapped IPv6), or an IPv6 /64, since one host usually has
/// a whole /64 to pick addresses from.
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The connection cap to use: `configured`, lowered if needed so it stays
/// below the process's open-file limit with room for other descriptors.
/// Raises the soft open-file limit to the hard one first, as servers that
/// hold many sockets do.
pub fn connection_cap(configured: usize) -> usize {
    let Some(files) = raise_file_limit() else {
        return configured;
    };
    let reserved = (files / 4).clamp(RESERVED_MIN, RESERVED_MAX);
    let room = files.saturating_sub(reserved).max(1);
    if configured > room {
        tracing::warn!(
            max_connections = configured,
            open_file_limit = files,
            "max_connections lowered to {room} to stay below the open-file limit"
        );
        return room;
    }
    configured
}

/// Raises the soft limit on open files to the hard limit; returns the soft
/// limit now in force (`None` if it cannot be read or is unlimited).
fn raise_file_limit() -> Option<usize> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        if limit.current.is_some_and(|soft| soft < hard) {
            let raised = rustix::process::Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => limit.current = Some(hard),
                Err(e) => tracing::warn!("cannot raise the open-file limit to {hard}: {e}"),
            }
        }
    }
    limit.current.and_then(|soft| usize::try_from(soft).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[tokio::test]
    async fn the_per_ip_cap_frees_a_place_when_a_permit_drops() {
        let limits = ConnectionLimits::new(10, 2, vec![]);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = limits.admit(limits.reserve().await.unwrap(), ip).unwrap();
        let _second = limits.admit(limits.reserve().await.unwrap(), ip).unwrap();
        assert!(limits.admit(limits.reserve().await.unwrap(), ip).is_none());
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits
            .admit(limits.reserve().await.unwrap(), other)
            .is_some());
        drop(first);
        assert!(limits.admit(limits.reserve().await.unwrap(), ip).is_some());
    }

    #[tokio::test]
    async fn trusted_proxies_are_not_capped_per_address() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let limits = ConnectionLimits::new(10, 1, vec!["10.0.0.0/24".parse().unwrap()]);
        let _first = limits
            .admit(limits.reserve().await.unwrap(), proxy)
            .unwrap();
        assert!(limits
            .admit(limits.reserve().await.unwrap(), proxy)
            .is_some());
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let _one = limits
            .admit(limits.reserve().await.unwrap(), client)
            .unwrap();
        assert!(limits
            .admit(limits.reserve().await.unwrap(), client)
            .is_none());
    }
}
