//! Pure pieces of the synchronisation: range planning, push classification, duplicate
//! detection and list diffs. No I/O, unit-tested.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

/// At most this many seqs per pull request (the server's `SplitPullMsgNum`).
pub(crate) const PULL_BATCH: i64 = 100;

/// A seq range to pull: `begin..=end` of one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Range {
    pub conversation_id: String,
    pub begin: i64,
    pub end: i64,
    /// The first range of a gap cut to the catch-up limit ([`catch_up`]): the seqs between
    /// the conversation's delivered seq and `begin` are skipped when its answer is processed
    /// (not before: a failed pull skips nothing, and the next plan starts from the same seq).
    pub skip_below: bool,
}

impl Range {
    /// Seqs in the range (0 if empty); total for any bounds.
    pub(crate) fn len(&self) -> i64 {
        self.end.saturating_sub(self.begin).saturating_add(1).max(0)
    }
}

/// Ranges `[delivered+1, max]` for every conversation behind the server, each cut to its
/// newest `limit` seqs ([`catch_up`]), split into chunks of at most [`PULL_BATCH`] seqs and
/// grouped into requests of at most [`PULL_BATCH`] seqs. `delivered[i]` is the last seq
/// handled in `max_seqs[i]`'s conversation ([`ConvTable::delivered_of_each`]).
///
/// Lazy: a request is made when the caller takes it, so the memory is one request's whatever
/// the seqs are (a server's `max` near `i64::MAX` planned about 10^16 ranges at once).
pub(crate) fn plan_pulls<'a>(
    max_seqs: &'a [(String, i64)],
    delivered: &'a [i64],
    limit: i64,
) -> Batches<impl Iterator<Item = Range> + 'a> {
    batch(
        max_seqs
            .iter()
            .zip(delivered)
            .flat_map(move |((conv, max), &delivered)| {
                // Nothing is past `i64::MAX` (saturating would pull it again).
                let begin = delivered.checked_add(1);
                begin
                    .into_iter()
                    .flat_map(move |b| catch_up(conv, b, *max, limit))
            }),
    )
}

/// [`split`] of `begin..=end` cut to its newest `limit` seqs (at least 1): when the gap is
/// longer, its first chunk is marked [`Range::skip_below`], and the seqs before it are skipped
/// when that chunk's answer comes. What one catch-up pulls is so bounded by the limit, never
/// by a distance between seqs the server chose.
pub(crate) fn catch_up(conv: &str, begin: i64, end: i64, limit: i64) -> Split<'_> {
    let begin = begin.max(1);
    // The newest `limit` seqs start here (no overflow: `end - limit` saturates).
    let newest = end.saturating_sub(limit.max(1)).saturating_add(1);
    let mut chunks = split(conv, begin.max(newest), end);
    chunks.skip_below = newest > begin;
    chunks
}

/// Splits `begin..=end` into chunks of at most [`PULL_BATCH`], lazily (the caller bounds the
/// span: see [`catch_up`]). Correct up to `i64::MAX`: no step overflows.
pub(crate) fn split(conv: &str, begin: i64, end: i64) -> Split<'_> {
    Split {
        conv,
        next: Some(begin.max(1)),
        end,
        skip_below: false,
    }
}

/// The chunks of [`split`], made one at a time.
pub(crate) struct Split<'a> {
    conv: &'a str,
    /// The first seq of the next chunk (`None` once past `i64::MAX`).
    next: Option<i64>,
    end: i64,
    /// Marks the next chunk [`Range::skip_below`] (the first one only).
    skip_below: bool,
}

impl Iterator for Split<'_> {
    type Item = Range;

    fn next(&mut self) -> Option<Range> {
        let b = self.next.filter(|&b| b <= self.end)?;
        let e = b.saturating_add(PULL_BATCH - 1).min(self.end);
        self.next = e.checked_add(1);
        Some(Range {
            conversation_id: self.conv.to_owned(),
            begin: b,
            end: e,
            skip_below: std::mem::take(&mut self.skip_below),
        })
    }
}

/// Groups chunks into requests of at most [`PULL_BATCH`] seqs in total (lazily: see
/// [`Batches`]).
pub(crate) fn batch<I: Iterator<Item = Range>>(chunks: I) -> Batches<I> {
    Batches {
        chunks: chunks.peekable(),
    }
}

/// The requests of [`batch`], each made when it is taken.
pub(crate) struct Batches<I: Iterator<Item = Range>> {
    chunks: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = Range>> Iterator for Batches<I> {
    type Item = Vec<Range>;

    fn next(&mut self) -> Option<Vec<Range>> {
        let mut request = Vec::new();
        let mut count = 0i64;
        // A chunk that would pass the bound starts the next request (one always fits alone).
        while let Some(c) = self
            .chunks
            .next_if(|c| request.is_empty() || count.saturating_add(c.len()) <= PULL_BATCH)
        {
            count = count.saturating_add(c.len());
            request.push(c);
        }
        (!request.is_empty()).then_some(request)
    }
}

/// What to do with a pushed item of seq > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushAction {
    /// The next seq: process it.
    Next,
    /// Seqs `begin..=end` are missing before it: pull them first.
    Gap { begin: i64, end: i64 },
    /// Already processed.
    Duplicate,
}

pub(crate) fn classify(delivered: i64, seq: i64) -> PushAction {
    // Past the first test `delivered < seq <= i64::MAX`: `delivered + 1` cannot overflow.
    if seq <= delivered {
        PushAction::Duplicate
    } else if seq == delivered + 1 {
        PushAction::Next
    } else {
        PushAction::Gap {
            begin: delivered + 1,
            end: seq - 1,
        }
    }
}

/// Remembers the most recent client message IDs per conversation to drop re-sent copies that
/// carry a new seq.
///
/// IDs are kept as 64-bit keyed hashes (SipHash with this process's random keys), not strings:
/// no allocation per message and a fraction of the memory per conversation. A false "seen" needs
/// a 64-bit collision within one conversation's last IDs (about 1 in 10^16 per message), and the
/// random keys keep senders from crafting one.
///
/// Each conversation keeps two generations of up to [`RECENT_PER_CONVERSATION`] IDs: when the
/// current one is full it becomes the previous one (whose IDs are forgotten). So the last
/// [`RECENT_PER_CONVERSATION`] IDs, and at most twice as many, are remembered, and no ID is
/// ever removed one by one (removals left tombstones that made every probe of the set long).
#[derive(Default)]
pub(crate) struct RecentIds {
    keys: IdHasher,
    per_conversation: HashMap<String, Recent>,
}

/// Hashes client message IDs for [`Recent`] (SipHash with this process's random keys).
#[derive(Default)]
pub(crate) struct IdHasher(std::collections::hash_map::RandomState);

impl IdHasher {
    pub(crate) fn hash(&self, id: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.0, id)
    }
}

/// The recent message IDs of one conversation (see [`RecentIds`]).
///
/// The first [`RECENT_INLINE`] IDs are kept in the slot itself: with many conversations most
/// get only a few messages per session, and their hash sets cost an allocation each and a cache
/// miss on every message (the table lives apart from the slot).
#[derive(Default)]
pub(crate) struct Recent {
    inline: [u64; RECENT_INLINE],
    /// IDs in `inline` (unused once `sets` holds them).
    inline_len: u8,
    sets: Option<Box<RecentSets>>,
}

/// The two generations of a conversation that outgrew [`Recent`]'s inline IDs.
#[derive(Default)]
struct RecentSets {
    current: HashSet<u64, BuildPreHashed>,
    previous: HashSet<u64, BuildPreHashed>,
}

/// IDs a [`Recent`] keeps without allocating.
const RECENT_INLINE: usize = 4;

impl Recent {
    /// Records the ID hashed to `h`; returns false if it was already seen.
    pub(crate) fn insert(&mut self, h: u64) -> bool {
        let sets = match &mut self.sets {
            Some(sets) => sets,
            None => {
                let n = usize::from(self.inline_len);
                if self.inline[..n].contains(&h) {
                    return false;
                }
                if n < RECENT_INLINE {
                    self.inline[n] = h;
                    self.inline_len += 1;
                    return true;
                }
                // Full: the inline IDs start the current generation of the sets.
                let mut sets = Box::<RecentSets>::default();
                sets.current.extend(self.inline);
                self.sets.insert(sets)
            }
        };
        sets.insert(h)
    }
}

impl RecentSets {
    fn insert(&mut self, h: u64) -> bool {
        if self.previous.contains(&h) || !self.current.insert(h) {
            return false;
        }
        if self.current.len() >= RECENT_PER_CONVERSATION {
            std::mem::swap(&mut self.current, &mut self.previous);
            // Keeps the allocation: the next generation fills the same table.
            self.current.clear();
        }
        true
    }
}

/// The values are hashes already: hashing them again would only cost time.
#[derive(Default, Clone, Copy)]
struct BuildPreHashed;

#[derive(Default)]
struct PreHashed(u64);

impl std::hash::BuildHasher for BuildPreHashed {
    type Hasher = PreHashed;
    fn build_hasher(&self) -> PreHashed {
        PreHashed(0)
    }
}

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed (write_u64); fold anything else in to stay correct.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

const RECENT_PER_CONVERSATION: usize = 2048;

impl RecentIds {
    /// Records `id`; returns false if it was already seen in this conversation.
    pub(crate) fn insert(&mut self, conversation_id: &str, id: &str) -> bool {
        if id.is_empty() {
            return true;
        }
        let h = self.keys.hash(id);
        let recent = match self.per_conversation.get_mut(conversation_id) {
            Some(r) => r,
            None => self
                .per_conversation
                .entry(conversation_id.to_owned())
                .or_default(),
        };
        recent.insert(h)
    }
}

/// Slot number of a conversation in a [`ConvTable`].
pub(crate) type SlotId = u32;

/// A slot's "no batch row" marker.
pub(crate) const NO_ROW: u32 = u32::MAX;

/// What the engine keeps per conversation, in one place.
pub(crate) struct ConvSlot {
    /// The conversation ID (shared with the acks of its messages).
    pub(crate) id: Arc<str>,
    /// Seen: the ledger has an entry for it (set by the engine).
    pub(crate) seen: bool,
    /// Highest seq processed (meaningful once `seen`).
    pub(crate) delivered: i64,
    /// Recent client message IDs (duplicate detection).
    pub(crate) recent: Recent,
    /// Index of its row in the engine's current burst, or [`NO_ROW`].
    pub(crate) batch_row: u32,
    /// Where the store keeps its row.
    pub(crate) store_row: crate::store::RowHint,
    /// Its ledger entry, once an ack needed it.
    pub(crate) ledger: Option<crate::ledger::Slot>,
}

/// The engine's per-conversation state, interned: one hash lookup of the conversation ID finds
/// its slot, and everything per message is then an index into a vector. With 100,000
/// conversations each lookup in a large map is a few cache misses (the table entry, the slot,
/// the ID's bytes); one lookup instead of one per piece of state (delivered seq, recent IDs,
/// burst row, ack key) is what keeps the per-message cost flat, and
/// [`ConvTable::prefetch_entries`] and [`ConvTable::prefetch_slots`] let the lookups of a burst
/// take their misses together.
///
/// The index is an open-addressing table of 8-byte entries (the upper half of the ID's hash
/// beside the slot number; linear probing; slots are never removed): a probe compares hashes
/// in one small table (a MB or two for 100,000 conversations) and only a matching entry's slot
/// is checked against the ID. The hash is SipHash with this process's random keys, so the
/// server's IDs cannot be chosen to collide.
#[derive(Default)]
pub(crate) struct ConvTable {
    /// `(hash >> 32) << 32 | slot`, or [`FREE`]; a power of two long (or empty).
    index: Vec<u64>,
    slots: Vec<ConvSlot>,
    keys: std::collections::hash_map::RandomState,
    /// Hashes message IDs for every slot's [`Recent`].
    pub(crate) id_hasher: IdHasher,
}

/// A free entry of [`ConvTable`]'s index (no slot is numbered `SlotId::MAX`).
const FREE: u64 = u64::MAX;

impl ConvTable {
    /// The hash [`ConvTable::find_hashed`] takes for `conversation_id`.
    pub(crate) fn hash(&self, conversation_id: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.keys, conversation_id)
    }

    /// The slot of `conversation_id`, if it has one.
    pub(crate) fn find(&self, conversation_id: &str) -> Option<SlotId> {
        self.find_hashed(self.hash(conversation_id), conversation_id)
    }

    /// [`ConvTable::find`] with the ID's hash computed already.
    pub(crate) fn find_hashed(&self, hash: u64, conversation_id: &str) -> Option<SlotId> {
        self.candidates(hash)
            .find(|&s| *self.slots[s as usize].id == *conversation_id)
    }

    /// The slots an ID of `hash` may have, in probe order: those of the index entries with
    /// the same upper hash half, up to the first free entry.
    fn candidates(&self, hash: u64) -> impl Iterator<Item = SlotId> + '_ {
        let mask = self.index.len().wrapping_sub(1);
        let mut at = hash as usize & mask;
        let mut done = self.index.is_empty();
        std::iter::from_fn(move || {
            while !done {
                let entry = self.index[at];
                if entry == FREE {
                    done = true;
                    break;
                }
                at = (at + 1) & mask;
                if entry >> 32 == hash >> 32 {
                    return Some(entry as SlotId);
                }
            }
            None
        })
    }

    /// Starts fetching the index entries where lookups of these hashes start (the first
    /// stage of warming a burst's lookups: see [`crate::prefetch`]).
    pub(crate) fn prefetch_entries(&self, hashes: &[u64]) {
        let Some(mask) = self.index.len().checked_sub(1) else {
            return;
        };
        for &h in hashes {
            crate::prefetch::value(&self.index[h as usize & mask]);
        }
    }

    /// The second stage: for each hash, the slot of the first index entry of its probe with
    /// that hash (nearly always the ID's own; checked by [`ConvTable::find_hashed`] later) goes
    /// to `candidates` (`None` if there is none), and its slot is fetched.
    pub(crate) fn prefetch_slots(&self, hashes: &[u64], candidates: &mut Vec<Option<SlotId>>) {
        candidates.clear();
        candidates.extend(hashes.iter().map(|&h| {
            let s = self.candidates(h).next()?;
            if let Some(slot) = self.slots.get(s as usize) {
                crate::prefetch::value(slot);
            }
            Some(s)
        }));
    }

    /// The slot of `conversation_id`, created (not seen) if needed.
    pub(crate) fn intern(&mut self, conversation_id: &str) -> SlotId {
        let hash = self.hash(conversation_id);
        if let Some(s) = self.find_hashed(hash, conversation_id) {
            return s;
        }
        let id: Arc<str> = Arc::from(conversation_id);
        let s = SlotId::try_from(self.slots.len()).unwrap_or(SlotId::MAX - 1);
        self.slots.push(ConvSlot {
            id,
            seen: false,
            delivered: 0,
            recent: Recent::default(),
            batch_row: NO_ROW,
            store_row: crate::store::RowHint::NONE,
            ledger: None,
        });
        // At most 3/4 full: linear probes stay short.
        if self.slots.len() * 4 > self.index.len() * 3 {
            self.grow();
        } else {
            self.place(hash, s);
        }
        s
    }

    /// Doubles the index and places every slot again.
    fn grow(&mut self) {
        let len = (self.index.len() * 2).max(16);
        self.index = vec![FREE; len];
        for s in 0..self.slots.len() {
            let hash = self.hash(&self.slots[s].id);
            self.place(hash, s as SlotId);
        }
    }

    /// Puts slot `s`, whose ID hashes to `hash`, into the first free entry of its probe.
    fn place(&mut self, hash: u64, s: SlotId) {
        let mask = self.index.len() - 1;
        let mut at = hash as usize & mask;
        while self.index[at] != FREE {
            at = (at + 1) & mask;
        }
        self.index[at] = (hash >> 32) << 32 | u64::from(s);
    }

    /// The delivered seq of a conversation (0 if unseen).
    pub(crate) fn delivered_of(&self, conversation_id: &str) -> i64 {
        self.find(conversation_id)
            .map_or(0, |s| self.slots[s as usize].delivered)
    }

    /// [`ConvTable::delivered_of`] of each conversation of `ids`, in order. Looked up a few at
    /// a time in stages (index entries, then slots, then the lookups proper): with many
    /// conversations each lookup is a few cache misses, which overlap this way.
    pub(crate) fn delivered_of_each(&self, ids: &[(String, i64)]) -> Vec<i64> {
        const AHEAD: usize = 32;
        let mut out = Vec::with_capacity(ids.len());
        let mut hashes = Vec::with_capacity(AHEAD.min(ids.len()));
        let mut candidates = Vec::with_capacity(AHEAD.min(ids.len()));
        for chunk in ids.chunks(AHEAD) {
            hashes.clear();
            hashes.extend(chunk.iter().map(|(id, _)| self.hash(id)));
            self.prefetch_entries(&hashes);
            self.prefetch_slots(&hashes, &mut candidates);
            out.extend(chunk.iter().zip(&hashes).map(|((id, _), &h)| {
                self.find_hashed(h, id)
                    .map_or(0, |s| self.slots[s as usize].delivered)
            }));
        }
        out
    }

    /// Whether the conversation was seen (tests; the engine reads a slot it has found).
    #[cfg(test)]
    pub(crate) fn seen(&self, conversation_id: &str) -> bool {
        self.find(conversation_id)
            .is_some_and(|s| self.slots[s as usize].seen)
    }
}

impl std::ops::Index<SlotId> for ConvTable {
    type Output = ConvSlot;
    fn index(&self, s: SlotId) -> &ConvSlot {
        &self.slots[s as usize]
    }
}

impl std::ops::IndexMut<SlotId> for ConvTable {
    fn index_mut(&mut self, s: SlotId) -> &mut ConvSlot {
        &mut self.slots[s as usize]
    }
}

/// Differences between a stored and a fetched keyed list.
#[derive(Debug)]
pub(crate) struct Diff<T> {
    pub added: Vec<T>,
    pub removed: Vec<T>,
    /// (old, new)
    pub changed: Vec<(T, T)>,
}

impl<T> Diff<T> {
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares `old` and `new` by `key`; output keeps the order of `new` (removed: order of `old`).
pub(crate) fn diff<T: Clone + PartialEq, K: Hash + Eq>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
) -> Diff<T> {
    let old_by: HashMap<K, &T> = old.iter().map(|t| (key(t), t)).collect();
    let new_keys: HashSet<K> = new.iter().map(&key).collect();
    let mut d = Diff {
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for n in new {
        match old_by.get(&key(n)) {
            None => d.added.push(n.clone()),
            Some(o) if *o != n => d.changed.push(((*o).clone(), n.clone())),
            Some(_) => {}
        }
    }
    for o in old {
        if !new_keys.contains(&key(o)) {
            d.removed.push(o.clone());
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_only_missing_seqs_in_bounded_batches() {
        let mut delivered = HashMap::new();
        delivered.insert("a".to_owned(), 5);
        delivered.insert("b".to_owned(), 9);
        let max_seqs = [("a".into(), 260), ("b".into(), 9), ("c".into(), 3)];
        let delivered: Vec<i64> = max_seqs
            .iter()
            .map(|(c, _)| delivered.get(c).copied().unwrap_or(0))
            .collect();
        let plan: Vec<_> = plan_pulls(&max_seqs, &delivered, 1_000).collect();
        let all: Vec<_> = plan.iter().flatten().cloned().collect();
        assert_eq!(all.iter().map(Range::len).sum::<i64>(), 255 + 3);
        assert!(all.iter().all(|r| r.conversation_id != "b"));
        assert_eq!(
            all[0],
            Range {
                conversation_id: "a".into(),
                begin: 6,
                end: 105,
                skip_below: false,
            }
        );
        assert!(all.iter().all(|r| !r.skip_below), "nothing is cut");
        for req in &plan {
            assert!(req.iter().map(Range::len).sum::<i64>() <= PULL_BATCH);
        }
        // contiguous coverage of a
        let a: Vec<_> = all.iter().filter(|r| r.conversation_id == "a").collect();
        for w in a.windows(2) {
            assert_eq!(w[0].end + 1, w[1].begin);
        }
        assert_eq!(a.last().map(|r| r.end), Some(260));
    }

    /// `split` ends at `i64::MAX` without overflowing (a release build looped on the wrapped
    /// `b + PULL_BATCH - 1`, a debug build panicked) and makes its chunks lazily (a span of
    /// 10^18 seqs was about 10^16 ranges in memory).
    #[test]
    fn split_is_lazy_and_ends_at_the_largest_seq() {
        let tail: Vec<Range> = split("c", i64::MAX - 150, i64::MAX).collect();
        assert_eq!(
            tail.iter().map(|r| (r.begin, r.end)).collect::<Vec<_>>(),
            [(i64::MAX - 150, i64::MAX - 51), (i64::MAX - 50, i64::MAX)]
        );
        assert_eq!(tail[1].len(), 51);
        assert_eq!(split("c", i64::MAX, i64::MAX).count(), 1);
        let mut all = split("c", 1, i64::MAX);
        assert_eq!(all.next().map(|r| (r.begin, r.end)), Some((1, 100)));
        assert_eq!(all.nth(1_000).map(|r| r.begin), Some(100_101));
        // Negative and empty spans: from seq 1 on, nothing if the end is below it.
        assert_eq!(split("c", -7, 3).map(|r| r.begin).collect::<Vec<_>>(), [1]);
        assert_eq!(split("c", i64::MIN, -1).count(), 0);
        assert_eq!(split("c", 5, 4).count(), 0);
        let r = Range {
            conversation_id: "c".into(),
            begin: i64::MIN,
            end: i64::MAX,
            skip_below: false,
        };
        assert_eq!(r.len(), i64::MAX, "saturates");
    }

    /// A catch-up pulls a gap's newest `limit` seqs only, its first chunk marked to skip the
    /// rest, whatever the seqs: a server's max seq near `i64::MAX` plans `limit / 100`
    /// requests (lazily), and a delivered seq at or near it plans nothing past it.
    #[test]
    fn plans_are_cut_to_the_catch_up_limit_at_extreme_seqs() {
        let max_seqs = [
            ("huge".to_owned(), i64::MAX),
            ("short".to_owned(), 30),
            ("top".to_owned(), i64::MAX),
            ("near".to_owned(), i64::MAX),
            ("negative".to_owned(), -5),
            ("behind".to_owned(), 7),
        ];
        let delivered = [0, 10, i64::MAX, i64::MAX - 3, -9, 20];
        let limit = 1_000;
        let plan: Vec<Vec<Range>> = plan_pulls(&max_seqs, &delivered, limit).collect();
        for request in &plan {
            assert!(request.iter().map(Range::len).sum::<i64>() <= PULL_BATCH);
        }
        let of = |conv: &str| -> Vec<Range> {
            plan.iter()
                .flatten()
                .filter(|r| r.conversation_id == conv)
                .cloned()
                .collect()
        };
        let huge = of("huge");
        assert_eq!(huge.iter().map(Range::len).sum::<i64>(), limit);
        assert_eq!(huge.first().map(|r| r.begin), Some(i64::MAX - 999));
        assert_eq!(huge.last().map(|r| r.end), Some(i64::MAX));
        assert!(huge[0].skip_below && huge[1..].iter().all(|r| !r.skip_below));
        for w in huge.windows(2) {
            assert_eq!(w[0].end + 1, w[1].begin, "contiguous");
        }
        let short = of("short");
        assert_eq!(
            short
                .iter()
                .map(|r| (r.begin, r.end, r.skip_below))
                .collect::<Vec<_>>(),
            [(11, 30, false)],
            "a gap within the limit is pulled whole"
        );
        assert!(of("top").is_empty(), "nothing past i64::MAX");
        assert_eq!(
            of("near")
                .iter()
                .map(|r| (r.begin, r.end))
                .collect::<Vec<_>>(),
            [(i64::MAX - 2, i64::MAX)]
        );
        assert!(of("negative").is_empty() && of("behind").is_empty());
        // The limit counts exactly: a gap of `limit` seqs is whole, one more cuts its oldest.
        let plan: Vec<Range> = plan_pulls(&[("c".into(), 300)], &[100], 200)
            .flatten()
            .collect();
        assert_eq!((plan[0].begin, plan[0].skip_below), (101, false));
        let plan: Vec<Range> = plan_pulls(&[("c".into(), 301)], &[100], 200)
            .flatten()
            .collect();
        assert_eq!((plan[0].begin, plan[0].skip_below), (102, true));
        // A limit below 1 counts as 1.
        let plan: Vec<Range> = plan_pulls(&[("c".into(), 50)], &[0], 0).flatten().collect();
        assert_eq!(
            plan.iter()
                .map(|r| (r.begin, r.end, r.skip_below))
                .collect::<Vec<_>>(),
            [(50, 50, true)]
        );
    }

    #[test]
    fn classifies_pushes() {
        assert_eq!(classify(4, 5), PushAction::Next);
        assert_eq!(classify(4, 4), PushAction::Duplicate);
        assert_eq!(classify(4, 2), PushAction::Duplicate);
        assert_eq!(classify(4, 8), PushAction::Gap { begin: 5, end: 7 });
        assert_eq!(classify(i64::MAX, i64::MAX), PushAction::Duplicate);
        assert_eq!(classify(i64::MAX - 1, i64::MAX), PushAction::Next);
        assert_eq!(
            classify(0, i64::MAX),
            PushAction::Gap {
                begin: 1,
                end: i64::MAX - 1
            }
        );
    }

    #[test]
    fn recent_ids_dedupe_per_conversation() {
        let mut r = RecentIds::default();
        assert!(r.insert("c", "m1"));
        assert!(!r.insert("c", "m1"));
        assert!(
            r.insert("n_c", "m1"),
            "same id in another conversation (clone) is not a dup"
        );
        assert!(r.insert("c", ""));
        assert!(r.insert("c", ""));
        for i in 0..RECENT_PER_CONVERSATION - 1 {
            assert!(r.insert("c", &i.to_string()));
        }
        assert!(
            !r.insert("c", "m1"),
            "the last RECENT_PER_CONVERSATION ids are remembered"
        );
        for i in 0..RECENT_PER_CONVERSATION {
            assert!(r.insert("c", &format!("x{i}")));
        }
        assert!(
            !r.insert("c", "x0"),
            "still remembered across a generation change"
        );
        for i in 0..2 * RECENT_PER_CONVERSATION {
            r.insert("c", &format!("y{i}"));
        }
        assert!(r.insert("c", "m1"), "old ids are forgotten");
    }

    #[test]
    fn a_few_ids_stay_inline_and_move_into_the_sets_when_more_come() {
        let mut r = Recent::default();
        for h in 0..RECENT_INLINE as u64 {
            assert!(r.insert(h));
        }
        assert!(r.sets.is_none(), "the first IDs allocate nothing");
        assert!(!r.insert(0), "an inline ID is a duplicate");
        assert!(r.insert(99));
        assert!(r.sets.is_some());
        for h in 0..RECENT_INLINE as u64 {
            assert!(!r.insert(h), "the inline IDs moved into the sets");
        }
        assert!(!r.insert(99));
    }

    #[test]
    fn delivered_seqs_of_many_conversations_are_looked_up_in_order() {
        let mut t = ConvTable::default();
        // Past a few stages' worth of conversations, every third one unknown.
        let ids: Vec<(String, i64)> = (0..100).map(|i| (format!("si_bot_u{i}"), 0)).collect();
        for (i, (id, _)) in ids.iter().enumerate() {
            if i % 3 != 0 {
                let s = t.intern(id);
                t[s].delivered = i as i64 * 10;
            }
        }
        let expected: Vec<i64> = ids.iter().map(|(id, _)| t.delivered_of(id)).collect();
        assert_eq!(expected[..4], [0, 10, 20, 0]);
        assert_eq!(t.delivered_of_each(&ids), expected);
        assert!(
            ConvTable::default()
                .delivered_of_each(&ids)
                .iter()
                .all(|&d| d == 0)
        );
    }

    #[test]
    fn conversation_slots_are_interned_once_and_keep_their_state() {
        let mut t = ConvTable::default();
        assert_eq!(t.find("c"), None);
        assert_eq!(t.delivered_of("c"), 0);
        let c = t.intern("c");
        assert_eq!(t.intern("c"), c, "one slot per conversation");
        assert!(!t.seen("c"), "interning alone does not mark it seen");
        let d = t.intern("d");
        assert_ne!(c, d);
        t[c].seen = true;
        t[c].delivered = 7;
        assert_eq!(
            (t.find("c"), t.delivered_of("c"), t.seen("c")),
            (Some(c), 7, true)
        );
        assert_eq!(&*t[d].id, "d");
        assert_eq!(t[d].batch_row, NO_ROW);
        let h = t.id_hasher.hash("m1");
        assert!(t[c].recent.insert(h));
        assert!(!t[c].recent.insert(h), "duplicate in its conversation");
        assert!(t[d].recent.insert(h), "same ID in another conversation");
    }

    #[test]
    fn the_index_finds_every_slot_across_its_growth() {
        let mut t = ConvTable::default();
        let ids: Vec<String> = (0..10_000).map(|i| format!("si_u{i}_bot")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.intern(id), i as SlotId);
            if i % 997 == 0 {
                // Earlier slots are still found after the index grew.
                assert!(
                    ids[..=i]
                        .iter()
                        .enumerate()
                        .all(|(j, id)| t.find(id) == Some(j as SlotId))
                );
            }
        }
        let hashes: Vec<u64> = ids
            .iter()
            .map(|id| t.hash(id))
            .chain([t.hash("absent")])
            .collect();
        t.prefetch_entries(&hashes);
        let mut candidates = Vec::new();
        t.prefetch_slots(&hashes, &mut candidates);
        assert_eq!(candidates.len(), hashes.len());
        for (i, id) in ids.iter().enumerate() {
            // A candidate is the first slot of the probe with the same hash half: the ID's
            // own unless another ID's hash shares that half.
            let c = candidates[i].expect("every present ID has a candidate");
            assert!(c == i as SlotId || t.hash(&t[c].id) >> 32 == hashes[i] >> 32);
            assert_eq!(t.find_hashed(hashes[i], id), Some(i as SlotId));
            assert_eq!(t.intern(id), i as SlotId, "interned once");
            assert_eq!(&*t[i as SlotId].id, id.as_str());
        }
        assert_eq!(t.find("absent"), None);
        assert_eq!(t.find("si_u1_bo"), None, "a prefix is another ID");
        let empty = ConvTable::default();
        empty.prefetch_entries(&hashes);
        empty.prefetch_slots(&hashes, &mut candidates);
        assert!(candidates.len() == hashes.len() && candidates.iter().all(Option::is_none));
    }

    #[test]
    fn diffs_keyed_lists() {
        let old = vec![(1, "a"), (2, "b"), (3, "c")];
        let new = vec![(2, "b"), (3, "C"), (4, "d")];
        let d = diff(&old, &new, |t| t.0);
        assert_eq!(d.added, vec![(4, "d")]);
        assert_eq!(d.removed, vec![(1, "a")]);
        assert_eq!(d.changed, vec![((3, "c"), (3, "C"))]);
        assert!(diff(&new, &new, |t| t.0).is_empty());
    }
}
