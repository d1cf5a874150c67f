//! The remote baseline: a plain TCP writer/reader of the same frames our transport sends (length
//! prefix + bincode envelope), written in large batches, read in 256 KiB reads, with no actors.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use process::transport::{Envelope, FrameEncoder};
use process::Upid;

/// Bytes per write of the one-way writer.
const BATCH_BYTES: usize = 64 * 1024;

/// Bytes per read.
const READ_BYTES: usize = 256 * 1024;

/// One frame as our transport would send `body` under `name` between two typical pids.
pub fn frame(name: &str, body: Vec<u8>) -> Vec<u8> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 40_000));
    let envelope = Envelope {
        from: Upid::new("streamer(1)", addr).expect("valid pid"),
        to: Upid::new("sink(0)", addr).expect("valid pid"),
        name: name.to_string(),
        body,
    };
    let mut out = Vec::new();
    FrameEncoder::new()
        .encode(&envelope, usize::MAX, &mut out)
        .expect("frame fits");
    out
}

/// Splits a byte stream into frames by their length prefixes, keeping an unfinished frame for the
/// next read.
struct FrameReader {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

impl FrameReader {
    fn new(stream: TcpStream) -> FrameReader {
        FrameReader {
            stream,
            buf: vec![0; READ_BYTES],
            filled: 0,
        }
    }

    /// Reads once and returns how many whole frames arrived.
    fn read_frames(&mut self) -> io::Result<u64> {
        let n = self.stream.read(&mut self.buf[self.filled..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.filled += n;
        let mut at = 0;
        let mut frames = 0;
        while self.filled - at >= 4 {
            let prefix = [
                self.buf[at],
                self.buf[at + 1],
                self.buf[at + 2],
                self.buf[at + 3],
            ];
            let len = 4 + u32::from_be_bytes(prefix) as usize;
            if self.filled - at < len {
                break;
            }
            at += len;
            frames += 1;
        }
        self.buf.copy_within(at..self.filled, 0);
        self.filled -= at;
        Ok(frames)
    }
}

fn connected_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// `count` copies of `frame` written in [`BATCH_BYTES`] batches; timed until the reader has them all.
///
/// # Errors
/// Socket errors.
pub fn one_way(frame: &[u8], count: u64) -> io::Result<Duration> {
    let (mut writer, reader) = connected_pair()?;
    let per_batch = (BATCH_BYTES / frame.len()).max(1) as u64;
    let batch: Vec<u8> = frame.repeat(per_batch as usize);
    let start = Instant::now();
    let reading = thread::spawn(move || -> io::Result<()> {
        let mut reader = FrameReader::new(reader);
        let mut received = 0;
        while received < count {
            received += reader.read_frames()?;
        }
        Ok(())
    });
    let mut sent = 0;
    while sent < count {
        let n = per_batch.min(count - sent);
        writer.write_all(&batch[..n as usize * frame.len()])?;
        sent += n;
    }
    reading
        .join()
        .map_err(|_| io::Error::other("reader panicked"))??;
    Ok(start.elapsed())
}

/// `count` round trips of `frame` with `in_flight` outstanding: each side answers every batch of
/// frames it reads with one write of as many frames.
///
/// # Errors
/// Socket errors.
pub fn round_trips(frame: &[u8], in_flight: u64, count: u64) -> io::Result<Duration> {
    let (mut client, server) = connected_pair()?;
    let echo_frame = frame.to_vec();
    let echoing = thread::spawn(move || -> io::Result<()> {
        let mut writer = server.try_clone()?;
        let mut reader = FrameReader::new(server);
        let mut out = Vec::new();
        loop {
            let frames = match reader.read_frames() {
                Ok(frames) => frames,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            };
            out.clear();
            for _ in 0..frames {
                out.extend_from_slice(&echo_frame);
            }
            writer.write_all(&out)?;
        }
    });
    let mut reader = FrameReader::new(client.try_clone()?);
    let start = Instant::now();
    let first = in_flight.max(1).min(count);
    client.write_all(&frame.repeat(first as usize))?;
    let (mut sent, mut received) = (first, 0);
    let mut out = Vec::new();
    while received < count {
        let frames = reader.read_frames()?;
        received += frames;
        let more = frames.min(count - sent);
        if more > 0 {
            out.clear();
            for _ in 0..more {
                out.extend_from_slice(frame);
            }
            client.write_all(&out)?;
            sent += more;
        }
    }
    let elapsed = start.elapsed();
    client.shutdown(std::net::Shutdown::Both)?;
    drop(reader);
    // The echo side may see a reset once we hang up; only its panics matter now.
    echoing
        .join()
        .map_err(|_| io::Error::other("echo thread panicked"))?
        .ok();
    Ok(elapsed)
}
