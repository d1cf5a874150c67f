//! A real ZooKeeper server for tests (Debian's `zookeeper` package): a standalone server or a
//! small ensemble on free loopback ports, each with a temporary data directory, killed on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The jars Debian installs (the main jar's manifest lists its dependencies).
pub const CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar";

/// One ZooKeeper server process.
#[derive(Debug)]
pub struct ZooKeeperServer {
    child: Option<Child>,
    /// The client address (`127.0.0.1:port`).
    pub addr: SocketAddr,
    dir: PathBuf,
    stopped: bool,
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Sends a four-letter command and returns the answer ("" when the server does not answer).
pub fn four_letter(addr: SocketAddr, command: &str) -> String {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(command.as_bytes()).is_err() {
        return String::new();
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

impl ZooKeeperServer {
    /// Starts a standalone server (tickTime 200 ms, sessions from 400 ms) and waits until it
    /// serves.
    ///
    /// # Errors
    /// The server cannot start (no java, no zookeeper package) or does not serve within 30 s.
    pub fn start() -> std::io::Result<ZooKeeperServer> {
        // ZooKeeper cannot be told to pick its own port: a free one is chosen first, and another
        // process may take it before the JVM binds it; then the server exits and we try again.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            let mut servers = Self::spawn_all(&[port], None)?;
            let server = servers.remove(0);
            match server.wait_serving(Duration::from_secs(30)) {
                Ok(()) => return Ok(server),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("three attempts"))
    }

    /// Starts a `n`-server ensemble on loopback and waits until every member serves.
    ///
    /// # Errors
    /// As [`ZooKeeperServer::start`].
    pub fn ensemble(n: usize) -> std::io::Result<Vec<ZooKeeperServer>> {
        let mut last_error = None;
        // As in `start`: a port taken before the JVM binds it costs one more attempt.
        for _ in 0..3 {
            let mut ports = Vec::new();
            for _ in 0..n * 3 {
                ports.push(free_port()?);
            }
            let client_ports: Vec<u16> = ports[..n].to_vec();
            let servers = Self::spawn_all(&client_ports, Some(&ports[n..]))?;
            match servers
                .iter()
                .try_for_each(|server| server.wait_serving(Duration::from_secs(30)))
            {
                Ok(()) => return Ok(servers),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("three attempts"))
    }

    fn spawn_all(
        client_ports: &[u16],
        peer_ports: Option<&[u16]>,
    ) -> std::io::Result<Vec<ZooKeeperServer>> {
        let mut servers = Vec::new();
        for (i, port) in client_ports.iter().enumerate() {
            let dir = std::env::temp_dir().join(format!(
                "mesos-zk-{}-{}-{}",
                std::process::id(),
                port,
                i
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("data"))?;
            let mut cfg = format!(
                "tickTime=200\ninitLimit=20\nsyncLimit=10\nminSessionTimeout=400\nmaxSessionTimeout=60000\n\
                 dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
                 4lw.commands.whitelist=ruok,srvr\n",
                dir.join("data").display()
            );
            if let Some(peers) = peer_ports {
                std::fs::write(dir.join("data/myid"), format!("{}\n", i + 1))?;
                for j in 0..client_ports.len() {
                    cfg.push_str(&format!(
                        "server.{}=127.0.0.1:{}:{}\n",
                        j + 1,
                        peers[2 * j],
                        peers[2 * j + 1]
                    ));
                }
            }
            std::fs::write(dir.join("zoo.cfg"), cfg)?;
            let child = Command::new("java")
                // Room for a 40,000-agent registry (failover-bench) beside the election.
                .args(["-Xmx512m", "-cp", CLASSPATH])
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(dir.join("zoo.cfg"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            servers.push(ZooKeeperServer {
                child: Some(child),
                addr: SocketAddr::from(([127, 0, 0, 1], *port)),
                dir,
                stopped: false,
            });
        }
        Ok(servers)
    }

    /// Waits for a `Mode:` line from `srvr` (`ruok` answers before the server serves).
    ///
    /// # Errors
    /// `TimedOut` when it does not serve in time.
    pub fn wait_serving(&self, timeout: Duration) -> std::io::Result<()> {
        #[allow(clippy::disallowed_methods)]
        let deadline = Instant::now() + timeout;
        #[allow(clippy::disallowed_methods)]
        while Instant::now() < deadline {
            if four_letter(self.addr, "srvr").contains("Mode:") {
                return Ok(());
            }
            if self.has_exited() {
                return Err(std::io::Error::other(format!(
                    "zookeeper on {} exited before serving (its port taken?)",
                    self.addr
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "zookeeper on {} did not serve within {timeout:?}",
                self.addr
            ),
        ))
    }

    fn has_exited(&self) -> bool {
        // `try_wait` needs `&mut`; /proc tells without reaping (a zombie counts as exited).
        self.child.as_ref().is_none_or(|child| {
            std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
                .map(|stat| stat.contains(") Z "))
                .unwrap_or(true)
        })
    }

    /// This server's mode (`leader`, `follower`, `standalone`), if it answers.
    pub fn mode(&self) -> Option<String> {
        four_letter(self.addr, "srvr")
            .lines()
            .find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
    }

    /// The `zk://` URL of `servers` with `path`.
    pub fn url(servers: &[&ZooKeeperServer], path: &str) -> String {
        let hosts: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();
        format!("zk://{}{path}", hosts.join(","))
    }

    /// SIGSTOP: the server freezes (sessions are not served, nor expired, until resumed).
    pub fn pause(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGSTOP);
        self.stopped = true;
    }

    /// SIGCONT after [`ZooKeeperServer::pause`].
    pub fn resume(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGCONT);
        self.stopped = false;
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        if let Some(child) = &self.child {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, signal);
        }
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.stopped {
                self.stopped = false;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ZooKeeperServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
