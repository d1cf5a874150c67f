//! User and group names for `/files/browse` (`uid`/`gid` are names when the system knows them),
//! read from `/etc/passwd` and `/etc/group`.

use std::collections::HashMap;

/// Ids to names, from one `/etc/passwd`- or `/etc/group`-style file (`name:x:id:...`).
#[derive(Debug, Default)]
pub(crate) struct Names(HashMap<u32, String>);

impl Names {
    pub(crate) fn parse(text: &str) -> Names {
        Names(
            text.lines()
                .filter_map(|line| {
                    let mut fields = line.split(':');
                    let name = fields.next()?;
                    let id = fields.nth(1)?.parse().ok()?;
                    Some((id, name.to_string()))
                })
                .collect(),
        )
    }

    pub(crate) fn load(path: &str) -> Names {
        std::fs::read_to_string(path)
            .map(|text| Names::parse(&text))
            .unwrap_or_default()
    }

    /// The name of `id`, else the number.
    pub(crate) fn name(&self, id: u32) -> String {
        self.0.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_or_numbers() {
        let names =
            Names::parse("root:x:0:0:root:/root:/bin/sh\nbad line\nnobody:x:65534:65534::/:/x\n");
        assert_eq!(names.name(0), "root");
        assert_eq!(names.name(65534), "nobody");
        assert_eq!(names.name(7), "7");
    }
}
