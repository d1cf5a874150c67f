//! Where the cgroup controllers are: parsed from `/proc/self/mountinfo` (which hierarchies are
//! mounted where, v1 or v2) and `/proc/self/cgroup` (which cgroup the agent is in, per hierarchy).
//! Never assumed from well-known paths.

use std::path::{Path, PathBuf};

/// A cgroup hierarchy's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// cgroup v1: one hierarchy per controller group.
    V1,
    /// cgroup v2: the unified hierarchy.
    V2,
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// The cgroup shown at the mount point (`/` unless a sub-tree is bind-mounted).
    pub root: String,
    /// v1 or v2.
    pub version: Version,
    /// The v1 controllers (super options such as `cpu`, `memory`); empty for v2.
    pub controllers: Vec<String>,
}

/// One line of `/proc/self/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The hierarchy id (0 for v2).
    pub id: u32,
    /// The controllers (empty for v2).
    pub controllers: Vec<String>,
    /// The cgroup path, from the hierarchy's root.
    pub path: String,
}

/// Mountinfo escapes spaces and such as `\040`.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            if let Ok(code) = u8::from_str_radix(&field[i + 1..i + 4], 8) {
                out.push(code as char);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

/// The cgroup mounts in a `/proc/self/mountinfo` text.
pub fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        if left.len() < 5 || right.len() < 3 {
            continue;
        }
        let (root, mount_point) = (unescape(left[3]), PathBuf::from(unescape(left[4])));
        let version = match right[0] {
            "cgroup" => Version::V1,
            "cgroup2" => Version::V2,
            _ => continue,
        };
        let controllers = match version {
            Version::V1 => right[2]
                .split(',')
                .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                .map(str::to_string)
                .collect(),
            Version::V2 => Vec::new(),
        };
        mounts.push(CgroupMount {
            mount_point,
            root,
            version,
            controllers,
        });
    }
    mounts
}

/// The lines of a `/proc/self/cgroup` text.
pub fn parse_proc_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?.parse().ok()?;
            let controllers = parts
                .next()?
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            let path = parts.next()?.to_string();
            Some(Membership {
                id,
                controllers,
                path,
            })
        })
        .collect()
}

/// Where a controller lives for us: its hierarchy's version and the agent's own cgroup directory in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// v1 or v2.
    pub version: Version,
    /// The agent's cgroup directory in that hierarchy.
    pub agent_dir: PathBuf,
}

fn join_relative(mount: &CgroupMount, path: &str) -> PathBuf {
    // A bind-mounted sub-tree shows `root` at the mount point: strip it from our path.
    let relative = path
        .strip_prefix(mount.root.as_str())
        .unwrap_or(path)
        .trim_start_matches('/');
    if relative.is_empty() {
        mount.mount_point.clone()
    } else {
        mount.mount_point.join(relative)
    }
}

/// Finds `controller`: a v1 hierarchy with it mounted wins; else the v2 hierarchy, if
/// `v2_controllers(agent_dir)` (the agent's `cgroup.controllers`) lists it.
pub fn locate(
    controller: &str,
    mounts: &[CgroupMount],
    memberships: &[Membership],
    v2_controllers: impl Fn(&Path) -> Vec<String>,
) -> Option<Located> {
    for mount in mounts.iter().filter(|m| m.version == Version::V1) {
        if !mount.controllers.iter().any(|c| c == controller) {
            continue;
        }
        let membership = memberships
            .iter()
            .find(|m| m.id != 0 && m.controllers.iter().any(|c| c == controller))?;
        return Some(Located {
            version: Version::V1,
            agent_dir: join_relative(mount, &membership.path),
        });
    }
    let mount = mounts.iter().find(|m| m.version == Version::V2)?;
    let membership = memberships
        .iter()
        .find(|m| m.id == 0 && m.controllers.is_empty())?;
    let agent_dir = join_relative(mount, &membership.path);
    if v2_controllers(&agent_dir).iter().any(|c| c == controller) {
        Some(Located {
            version: Version::V2,
            agent_dir,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const PROC_CGROUP: &str = "\
9:name=systemd:/
4:memory:/process_api/abc
2:cpuacct:/
1:cpu:/
0::/
";

    #[test]
    fn v1_controllers_are_found_in_their_own_hierarchies() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.len(), 5);
        assert_eq!(mounts[2].controllers, vec!["memory"]);
        let members = parse_proc_cgroup(PROC_CGROUP);
        let none = |_: &Path| Vec::new();
        let memory = locate("memory", &mounts, &members, none).unwrap();
        assert_eq!(memory.version, Version::V1);
        assert_eq!(
            memory.agent_dir,
            PathBuf::from("/sys/fs/cgroup/memory/process_api/abc")
        );
        let cpu = locate("cpu", &mounts, &members, none).unwrap();
        assert_eq!(cpu.agent_dir, PathBuf::from("/sys/fs/cgroup/cpu"));
        // Not mounted as v1, and the empty v2 hierarchy has no controllers.
        assert_eq!(locate("pids", &mounts, &members, none), None);
    }

    #[test]
    fn v2_is_used_when_it_has_the_controller() {
        let text = "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let mounts = parse_mountinfo(text);
        let members = parse_proc_cgroup("0::/system.slice/agent.service\n");
        let located = locate("memory", &mounts, &members, |dir| {
            assert_eq!(dir, Path::new("/sys/fs/cgroup/system.slice/agent.service"));
            vec!["cpu".into(), "memory".into()]
        })
        .unwrap();
        assert_eq!(located.version, Version::V2);
    }

    #[test]
    fn bind_mounted_sub_trees_and_escapes() {
        let text =
            "50 1 0:40 /docker/x /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu,cpuacct\n";
        let mounts = parse_mountinfo(text);
        assert_eq!(
            mounts[0].mount_point,
            PathBuf::from("/sys/fs/cgroup/my cpu")
        );
        assert_eq!(mounts[0].controllers, vec!["cpu", "cpuacct"]);
        let members = parse_proc_cgroup("3:cpu,cpuacct:/docker/x/inner\n");
        let located = locate("cpuacct", &mounts, &members, |_| Vec::new()).unwrap();
        assert_eq!(
            located.agent_dir,
            PathBuf::from("/sys/fs/cgroup/my cpu/inner")
        );
    }
}
