//! The election rule, pure: which `json.info_*` child leads, and how its data decodes.

use mesos::MasterInfo;

/// The name prefix of a contender's znode (Mesos's `json.info_`).
pub const INFO_PREFIX: &str = "json.info_";

/// The sequence number of a contender's znode name, `None` for any other child (Mesos's old
/// `info_` nodes, locks, garbage). ZooKeeper writes 10 digits, 19 once the counter passes
/// `i32::MAX`, so they are compared as numbers, never as text.
pub fn sequence_of(child: &str) -> Option<u64> {
    let digits = child.strip_prefix(INFO_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The leading child: the `json.info_*` node with the lowest sequence number.
pub fn leader_node<S: AsRef<str>>(children: &[S]) -> Option<&str> {
    children
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|c| sequence_of(c).map(|seq| (seq, c)))
        .min()
        .map(|(_, c)| c)
}

/// Decodes a contender's znode data (MasterInfo JSON, nulls omitted or present).
///
/// # Errors
/// Data that is not a MasterInfo JSON object.
pub fn parse_info(data: &[u8]) -> Result<MasterInfo, serde_json::Error> {
    serde_json::from_slice(data)
}

/// Encodes `info` as Mesos writes it into the znode.
pub(crate) fn encode_info(info: &MasterInfo) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&mesos::json::to_mesos_json(info)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_sequence_leads_numerically() {
        let children = [
            "json.info_0000000010",
            "json.info_0000000009",
            "info_0000000001",
            "lock",
            "json.info_",
            "json.info_12x",
        ];
        assert_eq!(leader_node(&children), Some("json.info_0000000009"));
        // 19 digits (past i32::MAX) sort after 10 digits by value, not by text.
        let wide = ["json.info_0000000002147483648", "json.info_2147483647"];
        assert_eq!(leader_node(&wide), Some("json.info_2147483647"));
        assert_eq!(leader_node::<&str>(&[]), None);
        assert_eq!(leader_node(&["info_0000000001"]), None);
    }

    #[test]
    fn info_round_trips_as_mesos_json() {
        let info = MasterInfo::new("m-1", std::net::Ipv4Addr::LOCALHOST, 5050, Some("h".into()));
        let data = encode_info(&info).unwrap();
        let text = String::from_utf8(data.clone()).unwrap();
        assert!(text.contains("\"pid\":\"master@127.0.0.1:5050\""), "{text}");
        assert!(!text.contains("null"), "{text}");
        assert_eq!(parse_info(&data).unwrap(), info);
        assert!(parse_info(b"not json").is_err());
    }
}
