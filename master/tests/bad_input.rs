//! Garbage, oversized frames and bad HTTP sent to the master's port do not disturb it.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;

use ::master::MasterConfig;
use mesos::protocol::*;
use mesos::*;
use util::*;

fn register_agent(master: &::master::MasterHandle, agent: &mut Peer, hostname: &str) -> AgentId {
    agent.send(
        master.pid(),
        RegisterSlaveMessage {
            agent: AgentInfo::new(hostname).with_resources("cpus:1;mem:64".parse().unwrap()),
            version: "1".into(),
        },
    );
    agent.expect::<SlaveRegisteredMessage>().agent_id
}

#[test]
fn garbage_and_oversized_frames_leave_the_master_working() {
    let (rt, master) = start_master(MasterConfig::default());
    let mut agent = Peer::new("slave(1)");
    register_agent(&master, &mut agent, "before");
    let addr = rt.addr();

    let attacks: Vec<Vec<u8>> = vec![
        // Random bytes.
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
        // A length prefix announcing a frame far above the 16 MiB limit.
        {
            let mut frame = u32::MAX.to_be_bytes().to_vec();
            frame.extend_from_slice(&[0xAB; 1024]);
            frame
        },
        {
            let mut frame = (1u64 << 40).to_le_bytes().to_vec();
            frame.extend_from_slice(&[0xCD; 1024]);
            frame
        },
        // A small frame with an undecodable envelope.
        vec![0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8],
        // Malformed HTTP.
        b"GET /master/state HTTP/9.9\r\nbad header line\r\n\r\n".to_vec(),
    ];
    for bytes in attacks {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(std::time::Duration::from_millis(300)))
            .expect("timeout set");
        // The master may close the connection mid-write: that is the expected reaction.
        let _ = stream.write_all(&bytes);
        let _ = stream.flush();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }

    // Still serving HTTP, still registering agents, still answering the old agent.
    let (status, state) = http_get(addr, "/master/state");
    assert_eq!(status, 200);
    assert_eq!(state["activated_slaves"], 1);
    let mut second = Peer::new("slave(1)");
    let id = register_agent(&master, &mut second, "after");
    assert_eq!(master.state()["slaves"].as_array().map(Vec::len), Some(2));
    assert!(id.as_str().ends_with("-S1"));
}
