//! What the ranks compute together: a sum-allreduce over TCP, checked against the serial answer.
//!
//! Each rank generates a deterministic vector from (job seed, rank). Rank 0 listens on the port
//! it was given; every other rank connects to it and sends `hello(token, rank, vector)`; once all
//! `ranks - 1` peers are in, rank 0 adds the vectors (wrapping u64 sums, exact) and sends the
//! result back to each. Every rank then compares the result with [`serial_sum`], computed alone,
//! which is the job's correctness check. A star is enough for a handful of ranks and keeps the
//! failure story simple: any rank that dies breaks the reduction, the framework retries the job.
//!
//! Frames (little endian): hello = `b"MPI1"`, token length `u16`, token bytes, rank `u32`,
//! length `u32`, `length × u64`; reply = `b"MPI1"`, length `u32`, `length × u64`. Lengths are
//! checked against the expected vector length before anything is allocated.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::task_data::{RankResult, RankTask};

/// Frame magic.
const MAGIC: &[u8; 4] = b"MPI1";
/// Longest accepted token.
const MAX_TOKEN: usize = 256;
/// Pause between connection attempts to rank 0 and between accept polls.
const POLL: Duration = Duration::from_millis(20);

/// Why a rank failed.
#[derive(Debug, thiserror::Error)]
pub enum RankError {
    /// The `--fail_rank` test hook.
    #[error("failed on purpose (--fail_rank={0})")]
    Injected(usize),
    /// The task data was not usable.
    #[error("bad rank task: {0}")]
    BadTask(String),
    /// Rank 0 could not listen on its port (e.g. another process has it).
    #[error("rank 0 cannot listen on port {port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The bind error.
        source: io::Error,
    },
    /// The rendezvous did not complete in time.
    #[error("rendezvous timed out after {0:?}: {1}")]
    Timeout(Duration, String),
    /// A peer sent something that is not a frame of this job.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Reading or writing a peer failed.
    #[error("i/o error with {peer}: {source}")]
    Io {
        /// The peer (`rank 0` or the peer's address).
        peer: String,
        /// The error.
        source: io::Error,
    },
}

/// SplitMix64: a tiny, well-mixed deterministic generator step.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Rank `rank`'s vector of job `seed`: `len` values below one million.
pub fn rank_vector(seed: u64, rank: usize, len: usize) -> Vec<u64> {
    let base = splitmix64(seed ^ splitmix64(rank as u64));
    (0..len)
        .map(|i| splitmix64(base.wrapping_add(i as u64)) % 1_000_000)
        .collect()
}

/// The element-wise sum of all ranks' vectors, computed in one place (the reference answer).
pub fn serial_sum(seed: u64, ranks: usize, len: usize) -> Vec<u64> {
    let mut sum = vec![0u64; len];
    for rank in 0..ranks {
        add_into(&mut sum, &rank_vector(seed, rank, len));
    }
    sum
}

/// A checksum of a vector (FNV-style fold), reported so runs can be compared at a glance.
pub fn checksum(values: &[u64]) -> u64 {
    values.iter().fold(0xcbf2_9ce4_8422_2325, |acc, v| {
        (acc ^ v).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn add_into(sum: &mut [u64], values: &[u64]) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s = s.wrapping_add(*v);
    }
}

/// Listens for the other ranks on every interface at `port` (rank 0).
///
/// # Errors
/// [`RankError::Bind`] when the port is taken.
pub fn bind_coordinator(port: u16) -> Result<TcpListener, RankError> {
    TcpListener::bind(("0.0.0.0", port)).map_err(|source| RankError::Bind { port, source })
}

/// Runs one rank: fails at once if told to, otherwise (rank 0) binds its port, works for
/// `work_ms`, takes part in the allreduce and checks the result.
///
/// # Errors
/// [`RankError`] when the rank fails; the framework then retries the whole job.
pub fn run_rank(task: &RankTask) -> Result<RankResult, RankError> {
    if task.fail {
        return Err(RankError::Injected(task.rank));
    }
    let listener = if task.rank == 0 {
        let port = task
            .coordinator_port()
            .ok_or_else(|| RankError::BadTask(format!("no port in '{}'", task.coordinator)))?;
        Some(bind_coordinator(port)?)
    } else {
        None
    };
    // The work the job stands for (the sharing experiment sizes jobs with it). Rank 0 is already
    // listening, so peers that finish early queue in its backlog.
    std::thread::sleep(Duration::from_millis(task.work_ms));
    run_rank_on(task, listener)
}

/// [`run_rank`] after the work, with rank 0's listener already bound (tests bind port 0).
///
/// # Errors
/// [`RankError`] when the rendezvous or the exchange fails.
pub fn run_rank_on(
    task: &RankTask,
    listener: Option<TcpListener>,
) -> Result<RankResult, RankError> {
    if task.ranks == 0 || task.rank >= task.ranks {
        return Err(RankError::BadTask(format!(
            "rank {} of {}",
            task.rank, task.ranks
        )));
    }
    let timeout = Duration::from_millis(task.rendezvous_timeout_ms);
    let deadline = Instant::now() + timeout;
    let local = rank_vector(task.seed, task.rank, task.vector_len);
    let reduced = match listener {
        Some(listener) => reduce_at_root(task, listener, local, deadline)?,
        None => reduce_as_peer(task, &local, deadline)?,
    };
    let expected = serial_sum(task.seed, task.ranks, task.vector_len);
    Ok(RankResult {
        rank: task.rank,
        result_ok: reduced == expected,
        checksum: checksum(&reduced),
    })
}

fn io_error(peer: impl Into<String>) -> impl FnOnce(io::Error) -> RankError {
    let peer = peer.into();
    move |source| RankError::Io { peer, source }
}

fn left(deadline: Instant, timeout: Duration, what: &str) -> Result<Duration, RankError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(RankError::Timeout(timeout, what.to_string()));
    }
    Ok(left)
}

/// Rank 0: gathers every peer's vector, sums, sends the sum back to each.
fn reduce_at_root(
    task: &RankTask,
    listener: TcpListener,
    local: Vec<u64>,
    deadline: Instant,
) -> Result<Vec<u64>, RankError> {
    let timeout = Duration::from_millis(task.rendezvous_timeout_ms);
    listener
        .set_nonblocking(true)
        .map_err(io_error("the listener"))?;
    let mut peers: Vec<Option<TcpStream>> = (0..task.ranks).map(|_| None).collect();
    let mut joined = 1;
    let mut sum = local;
    while joined < task.ranks {
        let wait = left(
            deadline,
            timeout,
            &format!("{} of {} ranks joined", joined, task.ranks),
        )?;
        let (mut stream, addr) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(POLL.min(wait));
                continue;
            }
            Err(e) => return Err(io_error("the listener")(e)),
        };
        let peer = addr.to_string();
        let setup = stream
            .set_nonblocking(false)
            .and_then(|()| stream.set_read_timeout(Some(wait)))
            .and_then(|()| stream.set_nodelay(true));
        if let Err(e) = setup {
            tracing::warn!(%peer, error = %e, "dropping a peer connection");
            continue;
        }
        // A stranger (stale rank, port scanner) costs one connection, never the job.
        match read_hello(&mut stream, task) {
            Ok((rank, values)) if peers[rank].is_none() && rank != 0 => {
                add_into(&mut sum, &values);
                peers[rank] = Some(stream);
                joined += 1;
            }
            Ok((rank, _)) => tracing::warn!(%peer, rank, "dropping a duplicate rank"),
            Err(e) => tracing::warn!(%peer, error = %e, "dropping a peer connection"),
        }
    }
    let reply = encode_reply(&sum);
    for (rank, stream) in peers.iter_mut().enumerate() {
        if let Some(stream) = stream {
            stream
                .write_all(&reply)
                .map_err(io_error(format!("rank {rank}")))?;
        }
    }
    Ok(sum)
}

/// Any other rank: connects to rank 0 (retrying until it listens), sends its vector, reads the sum.
fn reduce_as_peer(
    task: &RankTask,
    local: &[u64],
    deadline: Instant,
) -> Result<Vec<u64>, RankError> {
    let timeout = Duration::from_millis(task.rendezvous_timeout_ms);
    let mut stream = connect(task, deadline, timeout)?;
    let wait = left(deadline, timeout, "waiting for rank 0")?;
    stream
        .set_read_timeout(Some(wait))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(io_error("rank 0"))?;
    stream
        .write_all(&encode_hello(&task.token, task.rank, local))
        .map_err(io_error("rank 0"))?;
    read_reply(&mut stream, task.vector_len)
}

fn connect(task: &RankTask, deadline: Instant, timeout: Duration) -> Result<TcpStream, RankError> {
    loop {
        let wait = left(
            deadline,
            timeout,
            &format!("rank 0 at {} never answered", task.coordinator),
        )?;
        let addrs: Vec<SocketAddr> = task
            .coordinator
            .to_socket_addrs()
            .map(Iterator::collect)
            .unwrap_or_default();
        for addr in &addrs {
            if let Ok(stream) = TcpStream::connect_timeout(addr, wait.min(Duration::from_secs(1))) {
                return Ok(stream);
            }
        }
        std::thread::sleep(POLL.min(wait));
    }
}

/// A hello frame.
pub fn encode_hello(token: &str, rank: usize, values: &[u64]) -> Vec<u8> {
    let token = &token.as_bytes()[..token.len().min(MAX_TOKEN)];
    let mut out = Vec::with_capacity(14 + token.len() + values.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(token.len() as u16).to_le_bytes());
    out.extend_from_slice(token);
    out.extend_from_slice(&(rank as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A reply frame.
pub fn encode_reply(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + values.len() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn read_array<const N: usize>(stream: &mut impl Read) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn read_values(stream: &mut impl Read, len: usize) -> io::Result<Vec<u64>> {
    let mut bytes = vec![0u8; len * 8];
    stream.read_exact(&mut bytes)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

fn read_magic(stream: &mut impl Read) -> Result<(), RankError> {
    let magic = read_array::<4>(stream).map_err(io_error("peer"))?;
    if &magic != MAGIC {
        return Err(RankError::Protocol("bad magic".into()));
    }
    Ok(())
}

/// Reads a hello of this job: `(rank, vector)`.
///
/// # Errors
/// [`RankError::Protocol`] for a frame of another job, a bad rank or a wrong length.
pub fn read_hello(stream: &mut impl Read, task: &RankTask) -> Result<(usize, Vec<u64>), RankError> {
    read_magic(stream)?;
    let token_len = usize::from(u16::from_le_bytes(
        read_array::<2>(stream).map_err(io_error("peer"))?,
    ));
    if token_len > MAX_TOKEN {
        return Err(RankError::Protocol(format!("token of {token_len} bytes")));
    }
    let mut token = vec![0u8; token_len];
    stream.read_exact(&mut token).map_err(io_error("peer"))?;
    if token != task.token.as_bytes() {
        return Err(RankError::Protocol(format!(
            "token '{}' is not this job's",
            String::from_utf8_lossy(&token)
        )));
    }
    let rank = u32::from_le_bytes(read_array::<4>(stream).map_err(io_error("peer"))?) as usize;
    let len = u32::from_le_bytes(read_array::<4>(stream).map_err(io_error("peer"))?) as usize;
    if rank >= task.ranks {
        return Err(RankError::Protocol(format!(
            "rank {rank} of {}",
            task.ranks
        )));
    }
    if len != task.vector_len {
        return Err(RankError::Protocol(format!(
            "vector of {len} values, expected {}",
            task.vector_len
        )));
    }
    let values = read_values(stream, len).map_err(io_error("peer"))?;
    Ok((rank, values))
}

/// Reads the reply with the reduced vector.
///
/// # Errors
/// [`RankError`] for a wrong frame or length, or a broken connection.
pub fn read_reply(stream: &mut impl Read, expected_len: usize) -> Result<Vec<u64>, RankError> {
    read_magic(stream)?;
    let len = u32::from_le_bytes(read_array::<4>(stream).map_err(io_error("rank 0"))?) as usize;
    if len != expected_len {
        return Err(RankError::Protocol(format!(
            "reply of {len} values, expected {expected_len}"
        )));
    }
    read_values(stream, len).map_err(io_error("rank 0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(rank: usize, ranks: usize, coordinator: &str) -> RankTask {
        RankTask {
            token: "tok-job0-try1".into(),
            rank,
            ranks,
            seed: 11,
            vector_len: 64,
            work_ms: 0,
            coordinator: coordinator.into(),
            rendezvous_timeout_ms: 10_000,
            fail: false,
        }
    }

    #[test]
    fn vectors_are_deterministic_and_differ_per_rank() {
        assert_eq!(rank_vector(1, 2, 100), rank_vector(1, 2, 100));
        assert_ne!(rank_vector(1, 2, 100), rank_vector(1, 3, 100));
        assert_ne!(rank_vector(1, 2, 100), rank_vector(2, 2, 100));
        assert!(rank_vector(5, 0, 1000).iter().all(|v| *v < 1_000_000));
        let sum = serial_sum(3, 2, 10);
        let by_hand: Vec<u64> = rank_vector(3, 0, 10)
            .iter()
            .zip(rank_vector(3, 1, 10))
            .map(|(a, b)| a + b)
            .collect();
        assert_eq!(sum, by_hand);
    }

    #[test]
    fn four_ranks_allreduce_over_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let coordinator = listener.local_addr().unwrap().to_string();
        let peers: Vec<_> = (1..4)
            .map(|rank| {
                let t = task(rank, 4, &coordinator);
                std::thread::spawn(move || run_rank_on(&t, None))
            })
            .collect();
        let root = run_rank_on(&task(0, 4, &coordinator), Some(listener)).unwrap();
        assert!(root.result_ok);
        let expected = checksum(&serial_sum(11, 4, 64));
        assert_eq!(root.checksum, expected);
        for peer in peers {
            let result = peer.join().unwrap().unwrap();
            assert!(result.result_ok);
            assert_eq!(result.checksum, expected);
        }
    }

    #[test]
    fn a_stranger_is_dropped_and_the_job_still_completes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let coordinator = listener.local_addr().unwrap().to_string();
        // Queued in the backlog before the real peer: rank 0 meets it first.
        let mut stray = TcpStream::connect(&coordinator).unwrap();
        stray
            .write_all(&encode_hello("another-job", 1, &[0; 64]))
            .unwrap();
        let peer_task = task(1, 2, &coordinator);
        let peer = std::thread::spawn(move || run_rank_on(&peer_task, None));
        let root = run_rank_on(&task(0, 2, &coordinator), Some(listener)).unwrap();
        assert!(root.result_ok);
        assert!(peer.join().unwrap().unwrap().result_ok);
        // The stray connection was closed without a reply.
        // (A reset is as good as an end: the unread hello makes the kernel send one.)
        let mut rest = Vec::new();
        if stray.read_to_end(&mut rest).is_ok() {
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn a_missing_rank_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let coordinator = listener.local_addr().unwrap().to_string();
        let mut root = task(0, 2, &coordinator);
        root.rendezvous_timeout_ms = 100;
        let error = run_rank_on(&root, Some(listener)).unwrap_err();
        assert!(matches!(error, RankError::Timeout(..)), "{error}");
    }

    #[test]
    fn frames_are_checked_before_allocating() {
        let t = task(0, 4, "h:1");
        let hello = encode_hello(&t.token, 2, &[1, 2, 3]);
        let error = read_hello(&mut hello.as_slice(), &t).unwrap_err();
        assert!(error.to_string().contains("expected 64"), "{error}");
        let good = encode_hello(&t.token, 2, &[7; 64]);
        assert_eq!(read_hello(&mut good.as_slice(), &t).unwrap().0, 2);
        let bad_rank = encode_hello(&t.token, 9, &[7; 64]);
        assert!(read_hello(&mut bad_rank.as_slice(), &t).is_err());
        let reply = encode_reply(&[5; 64]);
        assert_eq!(read_reply(&mut reply.as_slice(), 64).unwrap(), vec![5; 64]);
        assert!(read_reply(&mut b"XXXX".as_slice(), 64).is_err());
    }

    #[test]
    fn the_fail_hook_and_a_taken_port_fail_the_rank() {
        let mut t = task(1, 2, "127.0.0.1:1");
        t.fail = true;
        assert!(matches!(run_rank(&t), Err(RankError::Injected(1))));
        let taken = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let t = task(0, 2, &format!("127.0.0.1:{port}"));
        assert!(matches!(run_rank(&t), Err(RankError::Bind { .. })));
    }
}
