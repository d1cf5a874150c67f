//! The fetcher cache (`--fetcher_cache_dir`, `--fetcher_cache_size`): downloads kept by URI and
//! shared between tasks, least recently used evicted first.
//!
//! [`CacheIndex`] is the bookkeeping alone (no I/O): which URI is in which file, how big, who is
//! using it, what to evict. [`FetcherCache`] wraps it in a lock with a condition variable so that
//! concurrent fetches of one URI download it once: the first fetch marks the entry pending and
//! downloads; the others wait for it, then copy the same file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How a cache entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryState {
    /// Being downloaded by one fetch; others wait.
    Pending,
    /// Downloaded: its file may be copied.
    Ready,
}

#[derive(Debug)]
struct Entry {
    file: String,
    size: u64,
    state: EntryState,
    /// Fetches copying (or downloading) the file right now: never evicted while above 0.
    refs: u32,
    /// A logical clock of the last use, for LRU order.
    last_use: u64,
}

/// What [`CacheIndex::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// In the cache, in this file (the caller now holds a reference: [`CacheIndex::release`] it).
    Hit(String),
    /// Another fetch is downloading it: wait and look again.
    Pending,
    /// Not there: the caller downloads it into this file, then calls [`CacheIndex::complete`] or
    /// [`CacheIndex::failed`] (and later [`CacheIndex::release`]).
    Miss(String),
}

/// The cache's bookkeeping: entries by key, their sizes and users, the LRU order.
#[derive(Debug)]
pub struct CacheIndex {
    capacity: u64,
    entries: HashMap<String, Entry>,
    total: u64,
    clock: u64,
    next_file: u64,
}

impl CacheIndex {
    /// An empty cache of `capacity` bytes.
    pub fn new(capacity: u64) -> CacheIndex {
        CacheIndex {
            capacity,
            entries: HashMap::new(),
            total: 0,
            clock: 0,
            next_file: 0,
        }
    }

    /// Bytes held by ready entries.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether `key` is cached and ready.
    pub fn contains(&self, key: &str) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| e.state == EntryState::Ready)
    }

    /// Looks `key` up, taking a reference on a hit or a miss.
    pub fn lookup(&mut self, key: &str) -> Lookup {
        self.clock += 1;
        if let Some(entry) = self.entries.get_mut(key) {
            return match entry.state {
                EntryState::Pending => Lookup::Pending,
                EntryState::Ready => {
                    entry.refs += 1;
                    entry.last_use = self.clock;
                    Lookup::Hit(entry.file.clone())
                }
            };
        }
        self.next_file += 1;
        let file = format!("c{}", self.next_file);
        self.entries.insert(
            key.to_string(),
            Entry {
                file: file.clone(),
                size: 0,
                state: EntryState::Pending,
                refs: 1,
                last_use: self.clock,
            },
        );
        Lookup::Miss(file)
    }

    /// The download of `key` (`size` bytes) succeeded. Returns the files evicted to make room.
    pub fn complete(&mut self, key: &str, size: u64) -> Vec<String> {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.state = EntryState::Ready;
            entry.size = size;
            self.total += size;
        }
        self.evict()
    }

    /// The download of `key` failed: the entry is dropped. Returns its file, to remove.
    pub fn failed(&mut self, key: &str) -> Option<String> {
        let entry = self.entries.remove(key)?;
        if entry.state == EntryState::Ready {
            self.total -= entry.size;
        }
        Some(entry.file)
    }

    /// A fetch is done with `key`'s file. Returns the files evicted now that it may go.
    pub fn release(&mut self, key: &str) -> Vec<String> {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.refs = entry.refs.saturating_sub(1);
        }
        self.evict()
    }

    /// Evicts unused ready entries, least recently used first, while over capacity. An entry in
    /// use stays (the cache is over its size until it is released).
    fn evict(&mut self) -> Vec<String> {
        let mut evicted = Vec::new();
        while self.total > self.capacity {
            let victim = self
                .entries
                .iter()
                .filter(|(_, e)| e.state == EntryState::Ready && e.refs == 0)
                .min_by_key(|(_, e)| e.last_use)
                .map(|(key, _)| key.clone());
            let Some(key) = victim else { break };
            if let Some(entry) = self.entries.remove(&key) {
                self.total -= entry.size;
                evicted.push(entry.file);
            }
        }
        evicted
    }
}

/// The agent's fetcher cache: a directory of downloads and its [`CacheIndex`], shared by every
/// fetch (they run on their own threads).
#[derive(Debug)]
pub struct FetcherCache {
    dir: PathBuf,
    index: Mutex<CacheIndex>,
    changed: Condvar,
}

/// A cached file a fetch holds; released (and maybe evicted) on drop.
pub struct CachedFile<'a> {
    cache: &'a FetcherCache,
    key: String,
    /// Where the file is.
    pub path: PathBuf,
    /// Whether this fetch found it there (false: it downloaded it).
    pub hit: bool,
}

impl Drop for CachedFile<'_> {
    fn drop(&mut self) {
        let evicted = self.cache.lock().release(&self.key);
        self.cache.remove_files(evicted);
    }
}

impl FetcherCache {
    /// A cache in `dir` (emptied: what an earlier agent left is not trusted) of `capacity` bytes.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(dir: &Path, capacity: u64) -> std::io::Result<FetcherCache> {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        std::fs::create_dir_all(dir)?;
        Ok(FetcherCache {
            dir: dir.to_path_buf(),
            index: Mutex::new(CacheIndex::new(capacity)),
            changed: Condvar::new(),
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes cached.
    pub fn total(&self) -> u64 {
        self.lock().total()
    }

    /// Whether `key` is cached.
    pub fn contains(&self, key: &str) -> bool {
        self.lock().contains(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheIndex> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remove_files(&self, files: Vec<String>) {
        for file in files {
            tracing::debug!(file, "evicted from the fetcher cache");
            let _ = std::fs::remove_file(self.dir.join(file));
        }
    }

    /// The cached file of `key`, downloading it with `download` (into the path it is given;
    /// returning the size) if it is not there. Concurrent calls for one key download once.
    ///
    /// # Errors
    /// What `download` returned (the entry is dropped; a waiting fetch then tries itself).
    pub fn get<E>(
        &self,
        key: &str,
        download: impl FnOnce(&Path) -> Result<u64, E>,
    ) -> Result<CachedFile<'_>, E> {
        let mut index = self.lock();
        loop {
            match index.lookup(key) {
                Lookup::Hit(file) => {
                    return Ok(CachedFile {
                        cache: self,
                        key: key.to_string(),
                        path: self.dir.join(file),
                        hit: true,
                    })
                }
                Lookup::Pending => {
                    // Bounded waits: a download that dies without a word cannot hang us forever
                    // (its failure also notifies).
                    index = self
                        .changed
                        .wait_timeout(index, Duration::from_millis(500))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                Lookup::Miss(file) => {
                    drop(index);
                    let path = self.dir.join(&file);
                    let result = download(&path);
                    let mut index = self.lock();
                    return match result {
                        Ok(size) => {
                            let evicted = index.complete(key, size);
                            drop(index);
                            self.changed.notify_all();
                            self.remove_files(evicted);
                            Ok(CachedFile {
                                cache: self,
                                key: key.to_string(),
                                path,
                                hit: false,
                            })
                        }
                        Err(err) => {
                            let file = index.failed(key);
                            drop(index);
                            self.changed.notify_all();
                            self.remove_files(file.into_iter().collect());
                            Err(err)
                        }
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_miss_then_hits_share_one_file() {
        let mut index = CacheIndex::new(100);
        let Lookup::Miss(file) = index.lookup("u") else {
            panic!("expected a miss")
        };
        assert_eq!(index.lookup("u"), Lookup::Pending);
        assert!(index.complete("u", 10).is_empty());
        assert_eq!(index.lookup("u"), Lookup::Hit(file.clone()));
        assert_eq!(index.total(), 10);
        index.release("u");
        index.release("u");
        assert_eq!(index.lookup("u"), Lookup::Hit(file));
    }

    #[test]
    fn least_recently_used_goes_first_and_entries_in_use_stay() {
        let mut index = CacheIndex::new(25);
        for key in ["a", "b"] {
            index.lookup(key);
            index.complete(key, 10);
            index.release(key);
        }
        // "a" is used again: "b" is now the least recently used.
        index.lookup("a");
        index.release("a");
        let Lookup::Miss(_) = index.lookup("c") else {
            panic!("expected a miss")
        };
        let evicted = index.complete("c", 10);
        assert_eq!(evicted.len(), 1);
        assert!(!index.contains("b"));
        assert!(index.contains("a") && index.contains("c"));
        assert_eq!(index.total(), 20);
        index.release("c");
        // An entry bigger than the cache stays while in use, and goes on release.
        index.lookup("big");
        let evicted = index.complete("big", 30);
        assert_eq!(evicted.len(), 2, "a and c make room");
        assert!(index.contains("big"));
        assert_eq!(index.release("big").len(), 1);
        assert_eq!(index.total(), 0);
    }

    #[test]
    fn a_failed_download_drops_the_entry() {
        let mut index = CacheIndex::new(100);
        let Lookup::Miss(file) = index.lookup("u") else {
            panic!("expected a miss")
        };
        assert_eq!(index.failed("u"), Some(file));
        assert!(matches!(index.lookup("u"), Lookup::Miss(_)));
    }

    #[test]
    fn concurrent_fetches_of_one_uri_download_once() {
        let dir = std::env::temp_dir().join(format!("fetcher-cache-{}", std::process::id()));
        let cache = FetcherCache::new(&dir, 1 << 20).unwrap();
        let downloads = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let file = cache
                        .get("http://x/y", |path| {
                            downloads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            std::fs::write(path, b"hello").map(|()| 5u64)
                        })
                        .unwrap();
                    assert_eq!(std::fs::read(&file.path).unwrap(), b"hello");
                });
            }
        });
        assert_eq!(downloads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(cache.total(), 5);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
