//! The agent registry in ZooKeeper: the one piece of master state that outlives a leader.
//!
//! The leader publishes the agents it has admitted (id, hostname, pid); the next leader reads
//! them at election to know whom to wait for before making offers and whom to declare lost after
//! `--agent_reregister_timeout`. Tasks and frameworks are not stored: they come back with the
//! re-registering agents and schedulers, as the paper's soft-state design has it.
//!
//! Layout under the election path (beside the `json.info_*` nodes, which the election ignores):
//! `<path>/registry` holds `<generation> <chunks>`; its children `<generation>-<i>` hold the
//! records, one `id\thostname\tpid[\tmarks[\tlost tasks]]` line each (marks: `unreachable`,
//! `disconnected`, both comma-separated, or empty; lost tasks: `framework/task` pairs,
//! comma-separated, with `%`, tab, newline, `,` and `/` percent-escaped), in chunks well under
//! ZooKeeper's 1 MB node limit
//! (40,000 agents take a few). A write puts the new chunks first, then flips the header, then
//! deletes the old chunks, so a reader always finds a complete generation.

use zookeeper_client::{Acls, Client, CreateMode, Error};

/// One admitted agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    /// The agent's id.
    pub id: String,
    /// Its hostname.
    pub hostname: String,
    /// Its pid (`slave(1)@ip:port`).
    pub pid: String,
    /// Its connection was broken (fourth field `disconnected`): the tasks of frameworks that do
    /// not checkpoint were reported LOST.
    pub disconnected: bool,
    /// The leader removed it (fourth field `unreachable`): the next leader must keep the tasks
    /// it reported LOST lost if the agent comes back.
    pub unreachable: bool,
    /// Tasks on it whose schedulers heard LOST (DROPPED, GONE) while they may still run there
    /// (fifth field, `framework/task` pairs): the next leader kills them if the agent reports
    /// them, and absorbs their updates.
    pub lost_tasks: Vec<(String, String)>,
}

/// Escapes what separates the lost-task field's parts.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\t' => out.push_str("%09"),
            '\n' => out.push_str("%0A"),
            ',' => out.push_str("%2C"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`]; `None` for a malformed escape.
fn unescape(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn decode_lost_tasks(field: &str) -> Option<Vec<(String, String)>> {
    field
        .split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (framework, task) = pair.split_once('/')?;
            Some((unescape(framework)?, unescape(task)?))
        })
        .collect()
}

/// Largest chunk written (ZooKeeper's default node limit is 1 MB).
const CHUNK_BYTES: usize = 512 * 1024;

/// The registry's node under the election path. Its name sorts after `json.info_`: some
/// detectors (pymesos) take the smallest child of the path as the leader's node, and Mesos's
/// own `log_replicas` is the only other name they skip.
fn root(path: &str) -> String {
    format!("{path}/registry")
}

/// Encodes records as lines, split into chunks at line boundaries.
pub(crate) fn encode(records: &[AgentRecord]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    for record in records {
        let mark = match (record.unreachable, record.disconnected) {
            (true, true) => "\tunreachable,disconnected",
            (true, false) => "\tunreachable",
            (false, true) => "\tdisconnected",
            (false, false) if record.lost_tasks.is_empty() => "",
            (false, false) => "\t",
        };
        let mut line = format!("{}\t{}\t{}{mark}", record.id, record.hostname, record.pid);
        if !record.lost_tasks.is_empty() {
            let tasks: Vec<String> = record
                .lost_tasks
                .iter()
                .map(|(framework, task)| format!("{}/{}", escape(framework), escape(task)))
                .collect();
            line.push('\t');
            line.push_str(&tasks.join(","));
        }
        line.push('\n');
        if !chunk.is_empty() && chunk.len() + line.len() > CHUNK_BYTES {
            chunks.push(std::mem::take(&mut chunk));
        }
        chunk.extend_from_slice(line.as_bytes());
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

/// Decodes one chunk; malformed lines are skipped (and logged), never fatal.
pub(crate) fn decode(chunk: &[u8], into: &mut Vec<AgentRecord>) {
    for line in String::from_utf8_lossy(chunk).lines() {
        let mut fields = line.split('\t');
        let record = (fields.next(), fields.next(), fields.next(), fields.next());
        let marks = match record.3 {
            None | Some("") => Some((false, false)),
            Some("disconnected") => Some((true, false)),
            Some("unreachable") => Some((false, true)),
            Some("unreachable,disconnected") => Some((true, true)),
            _ => None,
        };
        let lost_tasks = match fields.next() {
            None => Some(Vec::new()),
            Some(field) => decode_lost_tasks(field),
        };
        let (Some((disconnected, unreachable)), Some(lost_tasks), None) =
            (marks, lost_tasks, fields.next())
        else {
            tracing::warn!(%line, "skipping a malformed agent registry line");
            continue;
        };
        match record {
            (Some(id), Some(hostname), Some(pid), _) if !id.is_empty() => into.push(AgentRecord {
                id: id.to_string(),
                hostname: hostname.to_string(),
                pid: pid.to_string(),
                disconnected,
                unreachable,
                lost_tasks,
            }),
            _ => tracing::warn!(%line, "skipping a malformed agent registry line"),
        }
    }
}

fn parse_header(data: &[u8]) -> Option<(String, usize)> {
    let text = std::str::from_utf8(data).ok()?;
    let (generation, chunks) = text.trim().split_once(' ')?;
    Some((generation.to_string(), chunks.parse().ok()?))
}

/// Reads the registry: empty when none was ever written (a new cluster).
pub(crate) async fn read(client: &Client, path: &str) -> Result<Vec<AgentRecord>, Error> {
    let root = root(path);
    // A writer may replace the generation between our header and chunk reads: try again.
    for _ in 0..5 {
        let header = match client.get_data(&root).await {
            Ok((data, _)) => data,
            Err(Error::NoNode) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        if header.is_empty() {
            // Created (as a parent) but never published: a new cluster.
            return Ok(Vec::new());
        }
        let Some((generation, chunks)) = parse_header(&header) else {
            tracing::warn!("the agent registry header is malformed: treating it as empty");
            return Ok(Vec::new());
        };
        let mut records = Vec::new();
        let mut complete = true;
        for i in 0..chunks {
            match client.get_data(&format!("{root}/{generation}-{i}")).await {
                Ok((data, _)) => decode(&data, &mut records),
                Err(Error::NoNode) => {
                    complete = false;
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        if complete {
            return Ok(records);
        }
    }
    Err(Error::NoNode)
}

/// Writes `records` as generation `generation` (unique per write: it names the chunks).
pub(crate) async fn write(
    client: &Client,
    path: &str,
    generation: &str,
    records: &[AgentRecord],
) -> Result<(), Error> {
    let root = root(path);
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.mkdir(&root, &persistent).await?;
    let chunks = encode(records);
    for (i, chunk) in chunks.iter().enumerate() {
        let node = format!("{root}/{generation}-{i}");
        match client.create(&node, chunk, &persistent).await {
            Ok(_) => {}
            Err(Error::NodeExists) => {
                client.set_data(&node, chunk, None).await?;
            }
            Err(error) => return Err(error),
        }
    }
    let header = format!("{generation} {}", chunks.len());
    client.set_data(&root, header.as_bytes(), None).await?;
    let prefix = format!("{generation}-");
    for child in client.list_children(&root).await? {
        if !child.starts_with(&prefix) {
            match client.delete(&format!("{root}/{child}"), None).await {
                Ok(()) | Err(Error::NoNode) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> AgentRecord {
        AgentRecord {
            id: format!("20261122-000000-{i}-S{i}"),
            hostname: format!("host-{i}"),
            pid: format!("slave(1)@10.0.{}.{}:5051", i / 256, i % 256),
            disconnected: i % 5 == 1,
            unreachable: i % 7 == 3,
            lost_tasks: if i % 3 == 2 {
                vec![
                    (format!("fw-{i}"), "t,1/a%\tb".to_string()),
                    ("fw".to_string(), format!("t{i}")),
                ]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn records_round_trip_through_chunks_under_the_node_limit() {
        let records: Vec<AgentRecord> = (0..40_000).map(record).collect();
        let chunks = encode(&records);
        assert!(chunks.len() > 1, "40k agents need several chunks");
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_BYTES));
        let mut back = Vec::new();
        for chunk in &chunks {
            decode(chunk, &mut back);
        }
        assert_eq!(back, records);
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let mut back = Vec::new();
        decode(
            b"a\th\tp\nbroken line\n\tno-id\tp\nb\th\tp\nc\th\tp\tunreachable\nd\th\tp\tbogus\ne\th\tp\tdisconnected\n",
            &mut back,
        );
        let ids: Vec<&str> = back.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b", "c", "e"]);
        let marks: Vec<(bool, bool)> = back
            .iter()
            .map(|r| (r.disconnected, r.unreachable))
            .collect();
        assert_eq!(
            marks,
            vec![(false, false), (false, false), (false, true), (true, false)]
        );
    }

    #[test]
    fn lost_tasks_ride_in_a_fifth_field() {
        let mut back = Vec::new();
        decode(
            b"a\th\tp\t\tf/t1,f/t%2C2\nb\th\tp\tunreachable\tf%2Fx/y\nc\th\tp\t\tf/%zz\nd\th\tp\t\tno-slash\ne\th\tp\t\tf/t\textra\n",
            &mut back,
        );
        let ids: Vec<&str> = back.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b"]);
        assert_eq!(
            back[0].lost_tasks,
            vec![("f".into(), "t1".into()), ("f".into(), "t,2".into())]
        );
        assert!(!back[0].unreachable && !back[0].disconnected);
        assert_eq!(back[1].lost_tasks, vec![("f/x".into(), "y".into())]);
        assert!(back[1].unreachable);
    }

    #[test]
    fn headers_parse_or_are_rejected() {
        assert_eq!(parse_header(b"00ab 3"), Some(("00ab".into(), 3)));
        assert_eq!(parse_header(b"00ab"), None);
        assert_eq!(parse_header(b"00ab x"), None);
    }
}
