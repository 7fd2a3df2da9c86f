//! RTP/RTCP port pairs: an even RTP port with RTCP on the next one (RFC 3550 §11).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::net::UdpSocket;

/// Hands out port pairs from a range, round robin, so a port just released is not
/// reused at once (late packets of the old call would land in the new one).
#[derive(Debug)]
pub struct PortAllocator {
    ip: IpAddr,
    first: u16,
    last: u16,
    next: AtomicU16,
}

impl PortAllocator {
    /// Pairs within `first..=last` on `ip`.
    pub fn new(ip: IpAddr, first: u16, last: u16) -> PortAllocator {
        let first = first + (first % 2);
        PortAllocator {
            ip,
            first,
            last: last.max(first + 1),
            next: AtomicU16::new(first),
        }
    }

    /// Binds the next free pair; `None` when the whole range is busy. Binding a UDP
    /// socket is a syscall that does not block, so the SIP core calls this on its own
    /// task without awaiting.
    pub fn bind_pair_now(&self) -> Option<(UdpSocket, UdpSocket)> {
        let pairs = (self.last - self.first).div_ceil(2);
        for _ in 0..pairs {
            let port = self.next_port();
            let Some(rtp) = bind_std(SocketAddr::new(self.ip, port)) else {
                continue;
            };
            let Some(rtcp) = bind_std(SocketAddr::new(self.ip, port + 1)) else {
                continue;
            };
            return Some((rtp, rtcp));
        }
        None
    }

    fn next_port(&self) -> u16 {
        let span = self.last - self.first;
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let mut next = current.wrapping_add(2);
            if next < self.first || next >= self.first + span {
                next = self.first;
            }
            match self.next.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return current,
                Err(actual) => current = actual,
            }
        }
    }
}

fn bind_std(addr: SocketAddr) -> Option<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr).ok()?;
    socket.set_nonblocking(true).ok()?;
    UdpSocket::from_std(socket).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pairs_are_even_and_adjacent_and_skip_busy_ports() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let alloc = PortAllocator::new(ip, 41_001, 41_040);
        let (a_rtp, a_rtcp) = alloc.bind_pair_now().unwrap();
        let a = a_rtp.local_addr().unwrap().port();
        assert_eq!(a % 2, 0);
        assert_eq!(a_rtcp.local_addr().unwrap().port(), a + 1);
        // Occupy the next pair's RTP port from outside: the allocator moves on.
        let _squatter = std::net::UdpSocket::bind((ip, a + 2)).unwrap();
        let (b_rtp, _) = alloc.bind_pair_now().unwrap();
        assert_eq!(b_rtp.local_addr().unwrap().port(), a + 4);
    }
}
