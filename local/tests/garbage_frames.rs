//! Garbage and oversized frames sent to the master's and an agent's ports do not disturb the
//! cluster: a framework still registers and runs a task afterwards.

mod util;

use std::io::Write;
use std::net::TcpStream;

use mesos::{Filters, TaskState};
use util::*;

fn throw_garbage(addr: &str) {
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    if let Ok(mut stream) = TcpStream::connect(addr) {
        let _ = stream.write_all(&junk);
    }
    if let Ok(mut stream) = TcpStream::connect(addr) {
        // A frame header claiming far more than any limit allows.
        let _ = stream.write_all(&[0xff; 16]);
        let _ = stream.write_all(
            b"POST /master/mesos.internal.RegisterFrameworkMessage HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        );
    }
    if let Ok(mut stream) = TcpStream::connect(addr) {
        let _ = stream.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\x01\x02 not http at all\r\n\r\n");
    }
}

#[test]
fn the_cluster_shrugs_off_garbage() {
    let cluster = cluster(1, "cpus:1;mem:512");
    throw_garbage(&cluster.master_address());
    let agent = cluster.agent(0).expect("agent").pid().addr().to_string();
    throw_garbage(&agent);

    let (driver, mut events) = driver(&cluster, framework("after-garbage"), options());
    events.registered();
    let offer = events.offers().remove(0);
    let task = command_task("fine", &offer, "true", "cpus:0.5;mem:64");
    driver.launch_tasks(vec![offer.id], vec![task], Filters::default());
    events.state("fine", TaskState::Finished);
}
